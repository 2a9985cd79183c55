r"""DCI's fast backend against its exact trees: the deviation table.

  python -m experiments.dci_deviation \
    [--samples='results/paper_core/units/*/*/*/*/samples.npz'] \
    [--recompute_exact] [--toy_steps=400,4000] [--toy_seeds=2]

Scores the same saved representation samples (``metrics.array_sample``) with
``metrics.dci`` on ``backend='exact'`` and ``backend='lightgbm'`` and prints
a Markdown table of both and their differences: the committed samples of
``--samples`` (a unit's ``samples.npz``, every seed in it; the exact scores
are the ones stored beside it in ``unit.json`` unless ``--recompute_exact``),
and samples of toy-tier beta-VAEs trained here for each of ``--toy_steps``
steps (original and perturbed strips; ``--toy_steps=`` skips them). The table is
in docs/metrics.md. It measures scores, not time (``experiments.bench_eval``
times both backends).
"""

from __future__ import annotations

import glob
import os
from typing import Any, Iterator, Sequence

from absl import app
from absl import flags
import numpy as np

from disent_bias import data as data_lib
from disent_bias import metrics
from disent_bias.cli import common as cli
from disent_bias.configs import toy
from disent_bias.studies import experiment
from disent_bias.training import runner
from disent_bias.training import scoring
from disent_bias.utils import workdir as workdir_lib

_SAMPLES = flags.DEFINE_string(
    'samples', 'results/paper_core/units/*/*/*/*/samples.npz',
    'Glob of saved unit samples (seed<N>/codes_train, ... arrays).')
_RECOMPUTE = flags.DEFINE_bool(
    'recompute_exact', False, "Fit the exact trees again instead of reading "
    "the exact scores stored in the sample's unit.json.")
_TOY_STEPS = flags.DEFINE_list('toy_steps', ['400', '4000'], 'Training '
                               'steps of the toy-tier models (empty: none).')
_TOY_SEEDS = flags.DEFINE_integer('toy_seeds', 2, 'Toy-tier models per '
                                  'variant.')
_TOY_TRAIN = flags.DEFINE_integer('toy_num_train', 2000, 'Toy sample: '
                                  'training points.')
_TOY_TEST = flags.DEFINE_integer('toy_num_test', 1000, 'Toy sample: test '
                                 'points.')

KEYS = ('disentanglement', 'completeness', 'informativeness_test')


def saved_samples(pattern: str) -> Iterator[dict[str, Any]]:
  """``{'name', 'seed', 'sample', 'exact'}`` per seed of each ``.npz``;
  ``exact``: the DCI scores of ``unit.json`` beside it, or None."""
  for path in sorted(glob.glob(pattern)):
    unit = os.path.join(os.path.dirname(path), 'unit.json')
    stored = {}
    if os.path.exists(unit):
      stored = {r['seed']: metrics.ScoreRecord.from_json(r).scores
                for r in workdir_lib.read_json(unit)['scores']}
    name = os.path.relpath(os.path.dirname(path))
    with np.load(path) as npz:
      seeds = sorted({int(k.split('/')[0][4:]) for k in npz.files})
      for seed in seeds:
        record = stored.get(seed, {})
        exact = ({k: record[f'dci.{k}'] for k in KEYS}
                 if all(f'dci.{k}' in record for k in KEYS) else None)
        yield {'name': name, 'seed': seed, 'exact': exact,
               'sample': metrics.unpack_sample(npz, seed)}


def toy_samples(num_steps: int, num_seeds: int, num_train: int,
                num_test: int) -> Iterator[dict[str, Any]]:
  """Samples of toy-tier beta-VAEs (``experiments/configs/toy.py``) trained
  ``num_steps`` steps on the original and perturbed strips."""
  for variant in ('original', 'perturbed'):
    config = toy.get_config(f'model=beta_vae,variant={variant}')
    dataset = data_lib.load(toy.DATASET, variant=variant)
    model, params, _ = experiment.train_seeds(
        config, dataset, num_seeds=num_seeds, num_steps=num_steps)
    for s in range(num_seeds):
      fn = scoring.representation_fn(model, runner.select_seed(params, s))
      yield {'name': f'toy beta-VAE {variant}, {num_steps} steps',
             'seed': s, 'exact': None,
             'sample': metrics.array_sample(dataset, fn, seed=s,
                                            num_train=num_train,
                                            num_test=num_test)}


def deviations(entries: Sequence[dict[str, Any]], recompute: bool
               ) -> list[dict[str, Any]]:
  """Adds ``fast`` (and ``exact`` where missing or ``recompute``) DCI
  scores to every entry; all classifiers in one pool of processes."""
  arrays = [[e['sample'][k] for k in metrics.SAMPLE_KEYS] for e in entries]
  seeds = [e['seed'] for e in entries]
  fast, _ = metrics.dci_lib.dci_samples(arrays, seeds, backend='lightgbm')
  todo = [i for i, e in enumerate(entries) if recompute or not e['exact']]
  exact, _ = metrics.dci_lib.dci_samples([arrays[i] for i in todo],
                                         [seeds[i] for i in todo])
  out = [dict(e, fast=f, stored=bool(e['exact']) and not recompute)
         for e, f in zip(entries, fast)]
  for i, scores in zip(todo, exact):
    out[i]['exact'] = scores
  return out


def table(rows: Sequence[dict[str, Any]]) -> str:
  """Markdown: per sample exact / fast / fast - exact of each score."""
  head = ['sample', 'seed', 'N train / test']
  for key in KEYS:
    head += [f'{key[:4]}. exact', 'fast', 'diff']
  lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
  diffs = {k: [] for k in KEYS}
  for r in rows:
    sizes = f"{len(r['sample']['codes_train'])} / " \
            f"{len(r['sample']['codes_test'])}"
    cells = [r['name'] + (' (exact stored)' if r['stored'] else ''),
             str(r['seed']), sizes]
    for key in KEYS:
      e, f = float(r['exact'][key]), float(r['fast'][key])
      diffs[key].append(f - e)
      cells += [f'{e:.3f}', f'{f:.3f}', f'{f - e:+.3f}']
    lines.append('| ' + ' | '.join(cells) + ' |')
  summary = ', '.join(f'{k}: mean {np.mean(v):+.3f}, max |diff| '
                      f'{np.max(np.abs(v)):.3f}' for k, v in diffs.items())
  return '\n'.join(lines) + f'\n\nfast - exact over {len(rows)} samples: ' \
      f'{summary}.'


def main(argv):
  with cli.binary(argv):
    metrics.dci_lib.check_backend('lightgbm')
    entries = list(saved_samples(_SAMPLES.value))
    for steps in _TOY_STEPS.value:
      entries += list(toy_samples(int(steps), _TOY_SEEDS.value,
                                  _TOY_TRAIN.value, _TOY_TEST.value))
    if not entries:
      raise FileNotFoundError(f'no samples match {_SAMPLES.value!r} and no '
                              '--toy_steps')
    print(table(deviations(entries, _RECOMPUTE.value)), flush=True)


if __name__ == '__main__':
  app.run(main)
