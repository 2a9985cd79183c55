r"""Scores of trained conv models encoded with either form of their layers.

  python -m experiments.encoder_forms --workdirs='RUNS/*/original/beta_vae' \
    [--metrics=mig,dci,sap,modularity_explicitness,factor_vae,beta_vae] \
    [--num_train=10000] [--num_test=5000]

The conv networks compute each strided convolution either as XLA's native
convolution or as the package's matmul forms (``model.conv_impl``; the same
parameters and function, another float summation order). Evaluation encodes
with the model's own form; this script scores every seed of each training
workdir of ``--workdirs`` (a glob) both ways, on the same draws, and prints
a Markdown table: per seed the largest code difference and each score with
both forms. docs/metrics.md ("Encoding") holds the measured table.
"""

from __future__ import annotations

import glob
from typing import Any, Sequence

from absl import app
from absl import flags
import numpy as np

from disent_bias import metrics
from disent_bias.cli import common as cli
from disent_bias.models import networks
from disent_bias.training import runner
from disent_bias.training import scoring
from disent_bias.training import stored_run

_WORKDIRS = flags.DEFINE_string('workdirs', None, 'Glob of training '
                                'workdirs (conv models).', required=True)
_METRICS = flags.DEFINE_list('metrics', ['mig', 'dci'], 'Metrics to score.')
_NUM_TRAIN = flags.DEFINE_integer('num_train', 10000, 'Training points.')
_NUM_TEST = flags.DEFINE_integer('num_test', 5000, 'Test points.')

FORMS = {'native': False, 'matmul': True}


def compare_seed(model: networks.VAE, params: Any, dataset: Any,
                 names: Sequence[str], seed: int, num_train: int,
                 num_test: int) -> dict[str, Any]:
  """One conv model (one seed's ``params``) encoded with both forms on the
  same draws: ``{'seed', 'max_code_diff', 'scores': {form: scores}}``."""
  fns = {form: scoring.representation_fn(model.clone(fast_conv=fast), params)
         for form, fast in FORMS.items()}
  sample = {form: metrics.array_sample(dataset, fn, seed=seed,
                                       num_train=num_train, num_test=num_test)
            for form, fn in fns.items()}
  diff = max(float(np.max(np.abs(sample['native'][k] - sample['matmul'][k])))
             for k in ('codes_train', 'codes_test'))
  scores = {form: dict(metrics.evaluate_representation(
      dataset, fn, tuple(names), seed=seed, num_train=num_train,
      num_test=num_test).scores) for form, fn in fns.items()}
  return {'seed': seed, 'max_code_diff': diff, 'scores': scores}


def compare_run(workdir: str, names: Sequence[str], num_train: int,
                num_test: int) -> list[dict[str, Any]]:
  """``compare_seed`` of every seed of a training workdir, with ``'run'``."""
  restored = stored_run.restore_run(workdir)
  return [{'run': workdir, **compare_seed(
      restored.model, runner.select_seed(restored.params, seed),
      restored.dataset, names, seed, num_train, num_test)}
          for seed in range(restored.config.train.num_seeds)]


def table(rows: Sequence[dict[str, Any]]) -> str:
  """Markdown: per seed the code difference and each score native / matmul."""
  keys = list(rows[0]['scores']['native'])
  head = ['run', 'seed', 'max |code diff|'] + [f'{k} native / matmul'
                                                for k in keys]
  lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
  largest = {k: 0.0 for k in keys}
  for r in rows:
    cells = [r['run'], str(r['seed']), f"{r['max_code_diff']:.1e}"]
    for k in keys:
      a, b = r['scores']['native'][k], r['scores']['matmul'][k]
      largest[k] = max(largest[k], abs(a - b))
      cells.append(f'{a:.4f} / {b:.4f}')
    lines.append('| ' + ' | '.join(cells) + ' |')
  summary = ', '.join(f'{k} {v:.1e}' for k, v in largest.items())
  return '\n'.join(lines) + f'\n\nLargest |native - matmul| over ' \
      f'{len(rows)} models: {summary}.'


def main(argv: list[str]) -> None:
  with cli.binary(argv):
    runs = sorted(glob.glob(_WORKDIRS.value))
    if not runs:
      raise ValueError(f'--workdirs={_WORKDIRS.value!r} matches no directory')
    rows = [row for run in runs for row in compare_run(
        run, _METRICS.value, _NUM_TRAIN.value, _NUM_TEST.value)]
    print(table(rows))


if __name__ == '__main__':
  app.run(main)
