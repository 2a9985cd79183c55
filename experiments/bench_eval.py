r"""Benchmarks evaluation: encoding, and DCI's exact and fast trees.

  python -m experiments.bench_eval [--workdir=DIR] [--metrics=all] \
    [--num_train=10000] [--num_test=5000] [--backends=exact,lightgbm]

Run it on an idle machine: it prints one JSON line per measurement, the
first naming the CPU (``provenance.cpu``: ``lscpu``'s model name, cores,
SIMD flags); timings are comparable only on one CPU type.

- ``evaluate`` (one per ``--backends`` entry): ``metrics.
  evaluate_representations`` of one model at the given sizes, as
  ``experiments.evaluate`` runs it: ``wall_s`` of the whole call,
  ``encode_s`` drawing, rendering and encoding every metric's factors
  (``num_drawn`` points, ``num_encoded`` distinct ones), ``<metric>_s`` each
  metric's scoring (DCI's: its classifiers' fit seconds summed over factors,
  fitted in parallel processes), and ``dci_wall_s`` DCI's wall time.
- ``dci``: ``metrics.dci_lib.dci_samples`` of the array sample alone, per
  backend: ``wall_s`` with ``--n_jobs`` worker processes.
- ``summary``: the figures of issue 27 (encode, DCI exact and fast, all
  metrics with each backend) and the CPU model.

The model is the newest checkpoint of ``--workdir`` (seed 0), or else a
freshly initialised beta-VAE of ``experiments/configs/default.py`` on
dSprites (the same encoder cost; the trees fit codes that carry less
information). Every ``evaluate`` measurement starts from cleared JAX caches
(``jax.clear_caches``), so it includes compiling the draws and the encoder,
as ``experiments.evaluate`` does; a tiny DCI fit per backend first starts
the worker processes (a few seconds, paid once per process).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable

from absl import app
from absl import flags
import jax

from disent_bias import data as data_lib
from disent_bias import metrics
from disent_bias.cli import common as cli
from disent_bias.configs import default
from disent_bias.training import configuration
from disent_bias.training import runner
from disent_bias.training import scoring
from disent_bias.training import setup as setup_lib
from disent_bias.training import stored_run
from disent_bias.utils import provenance

_WORKDIR = flags.DEFINE_string('workdir', None, 'Trained run to encode with '
                               '(default: an initialised dSprites beta-VAE).')
_CONFIG = flags.DEFINE_string('config_arg', 'model=beta_vae,dataset=dsprites',
                              'experiments/configs/default.py presets of the '
                              'initialised model (without --workdir).')
_METRICS = flags.DEFINE_string('metrics', 'all', 'Metrics of the evaluate '
                               'measurement (comma separated or all).')
_NUM_TRAIN = flags.DEFINE_integer('num_train', 10000, 'Training points.')
_NUM_TEST = flags.DEFINE_integer('num_test', 5000, 'Test points.')
_BACKENDS = flags.DEFINE_list('backends', list(metrics.dci_lib.BACKENDS),
                              'DCI backends to time.')
_N_JOBS = flags.DEFINE_integer('n_jobs', -1, 'Worker processes for DCI.')


def _emit(record: dict[str, Any]) -> None:
  print(json.dumps(record), flush=True)


def _model() -> tuple[Any, Callable, str]:
  """(dataset, representation_fn, description) of the benchmarked model."""
  if _WORKDIR.value:
    restored = stored_run.restore_run(_WORKDIR.value)
    return (restored.dataset,
            scoring.representation_fn(restored.model,
                                      runner.select_seed(restored.params, 0)),
            f'{_WORKDIR.value} step {restored.step}')
  config = default.get_config(_CONFIG.value)
  dataset = data_lib.load_config(config.data)
  config = configuration.resolve_config(config, dataset)
  setup = setup_lib.build(config, dataset)
  params = jax.jit(setup.init_state)(jax.random.key(0)).params
  return (dataset, scoring.representation_fn(setup.model, params),
          f'initialised {config.model.name} ({_CONFIG.value})')


def _evaluate(dataset, fn, backend: str, num_train: int,
              num_test: int) -> dict[str, Any]:
  """One timed ``evaluate_representations`` call: its times."""
  jax.clear_caches()
  start = time.perf_counter()
  (scored, _), = metrics.evaluate_representations(
      dataset, [fn], _METRICS.value, seeds=[0], num_train=num_train,
      num_test=num_test, dci_backend=backend, n_jobs=_N_JOBS.value)
  wall = time.perf_counter() - start
  times = {stage: kinds['wall_s'] for stage, kinds in scored.timings.items()}
  record = {'wall_s': round(wall, 2),
            **{f'{stage}_s': round(v, 2) for stage, v in times.items()},
            'num_drawn': scored.counts.get('num_drawn'),
            'num_encoded': scored.counts.get('num_encoded')}
  if 'dci' in scored.names:
    others = sum(v for stage, v in times.items() if stage != 'dci')
    record['dci_wall_s'] = round(wall - others, 2)
  return record


def _time_dci(sample: dict[str, Any], backend: str) -> float:
  """Wall seconds of DCI on ``sample`` with ``backend``."""
  start = time.perf_counter()
  metrics.dci_lib.dci_samples([[sample[k] for k in metrics.SAMPLE_KEYS]], [0],
                              backend=backend, n_jobs=_N_JOBS.value)
  return time.perf_counter() - start


def main(argv):
  with cli.binary(argv):
    for backend in _BACKENDS.value:
      metrics.dci_lib.check_backend(backend)
    machine = provenance.cpu()
    _emit({'name': 'machine', **machine, 'jax': jax.__version__,
           'backend': jax.default_backend()})
    dataset, fn, description = _model()
    # Starts DCI's worker processes (and their imports) before the timings.
    warmup = metrics.array_sample(dataset, fn, seed=0, num_train=60,
                                  num_test=30)
    for backend in _BACKENDS.value:
      _time_dci(warmup, backend)
    summary = {'name': 'summary', 'model': description,
               'cpu_model': machine['cpu_model'],
               'cpu_count': machine['cpu_count'],
               'num_train': _NUM_TRAIN.value, 'num_test': _NUM_TEST.value}
    for backend in _BACKENDS.value:
      record = _evaluate(dataset, fn, backend, _NUM_TRAIN.value,
                         _NUM_TEST.value)
      _emit({'name': 'evaluate', 'dci_backend': backend,
             'metrics': _METRICS.value, 'model': description, **record})
      summary.setdefault('encode_s', record.get('encode_s'))
      summary[f'all_metrics_{backend}_s'] = record['wall_s']
    sample = metrics.array_sample(dataset, fn, seed=0,
                                  num_train=_NUM_TRAIN.value,
                                  num_test=_NUM_TEST.value)
    for backend in _BACKENDS.value:
      wall = _time_dci(sample, backend)
      _emit({'name': 'dci', 'backend': backend, 'wall_s': round(wall, 2),
             'n_jobs': _N_JOBS.value, 'num_factors':
             int(sample['factors_train'].shape[1]),
             'cpu_model': machine['cpu_model']})
      summary[f'dci_{backend}_s'] = round(wall, 2)
    _emit(summary)


if __name__ == '__main__':
  sys.exit(app.run(main))
