"""Scores every seed of a training run's checkpoint: ``eval.json``.

``evaluate_workdir`` restores a ``train.train_and_evaluate`` workdir and
runs ``metrics.evaluate_representations`` on its model seeds with the same
evaluation samples (DCI's classifiers of all seeds and factors in parallel
processes). Like ``results.json``, ``eval.json`` keeps per-seed scores as
records (``per_seed``) and their summaries apart (``summary``); beside it,
``eval_samples.npz`` keeps every seed's ``metrics.array_sample``, so the
array metrics can be scored again without the model
(``metrics.score_sample(metrics.unpack_sample(npz, seed), ...)``).
"""

from __future__ import annotations

import io
import os
import time
from typing import Any, Sequence

from absl import logging
import jax
import numpy as np

from disent_bias import metrics as metrics_lib
from disent_bias.training import runner
from disent_bias.training import scoring
from disent_bias.training import stored_run
from disent_bias.utils import errors
from disent_bias.utils import provenance
from disent_bias.utils import workdir as workdir_lib


def evaluate_workdir(workdir: str, names: str | Sequence[str], *,
                     seed: int = 0, num_train: int = 10000,
                     num_test: int = 5000, step: int | None = None,
                     filename: str | None = 'eval.json',
                     dci_backend: str = 'exact',
                     n_jobs: int = -1) -> dict[str, Any]:
  """Scores every seed of a training run's checkpoint; writes the result.

  Args:
    workdir: a ``train.train_and_evaluate`` workdir.
    names: metric names (``metrics.METRICS`` keys) or a comma separated
      string.
    seed: evaluation seed (the same samples for every model seed).
    num_train: see ``metrics.evaluate_representation``.
    num_test: see ``metrics.evaluate_representation``.
    step: checkpoint step; the newest that verifies when None.
    filename: written as ``workdir/filename`` (JSON) unless None, and the
      array metrics' samples as ``samples_path(workdir, filename)``.
    dci_backend: ``metrics.dci``'s ``backend`` (``'exact'`` or
      ``'lightgbm'``).
    n_jobs: worker processes for DCI's classifiers (-1: every core).

  Returns:
    ``{'workdir', 'step', 'dataset', 'variant', 'metrics' (the names),
    'seed', 'num_train', 'num_test', 'dci_backend', 'per_seed': [{'seed':
    model seed config.seed + s, 'metrics': its ``metrics.ScoreRecord``'s
    ``to_json()`` (scores, counts, timings)}, ...], 'summary': mean over
    model seeds of every score, and ``<key>_sd`` (``stats.seed_sd``) with
    several seeds, 'time_s', 'provenance'}``.

  Raises:
    ValueError: an unknown metric name or DCI backend.
    ImportError: the ``lightgbm`` backend without LightGBM installed.
    FileNotFoundError / workdir.WorkdirKindError: ``workdir`` is missing or
      holds no training run (checked before anything is written).
  """
  with errors.user_input():
    names = metrics_lib.evaluation.check_names(names)
    metrics_lib.dci_lib.check_backend(dci_backend)
  workdir_lib.check_kind(workdir, workdir_lib.TRAINING, must_hold=True)
  if filename:  # Before hours of scoring, not after.
    workdir_lib.check_writable(os.path.join(workdir, filename))
  start = time.perf_counter()
  restored = stored_run.restore_run(workdir, step)
  num_seeds = int(jax.tree.leaves(restored.params)[0].shape[0])
  logging.info('evaluating %s step %d: %d model seed(s) on %r, metrics %s',
               workdir, restored.step, num_seeds, restored.dataset, names)
  first = int(restored.config.seed)
  fns = [scoring.representation_fn(restored.model,
                                   runner.select_seed(restored.params, s))
         for s in range(num_seeds)]
  evaluated = metrics_lib.evaluate_representations(
      restored.dataset, fns, names, seeds=[seed] * num_seeds,
      num_train=num_train, num_test=num_test, dci_backend=dci_backend,
      n_jobs=n_jobs)
  records = [record for record, _ in evaluated]
  per_seed = [{'seed': first + s, 'metrics': record.to_json()}
              for s, record in enumerate(records)]
  result = {
      'workdir': os.path.abspath(workdir), 'step': int(restored.step),
      'dataset': restored.dataset.name, 'variant': restored.dataset.variant,
      'metrics': list(names), 'seed': int(seed), 'num_train': int(num_train),
      'num_test': int(num_test), 'dci_backend': dci_backend,
      'per_seed': per_seed,
      'summary': scoring.score_summary(records),
      'time_s': time.perf_counter() - start,
      'provenance': provenance.provenance(),
  }
  if filename:
    path = os.path.join(workdir, filename)
    workdir_lib.write_json(path, result)
    logging.info('wrote %s', path)
    arrays = {}
    for s, (_, sample) in enumerate(evaluated):
      if sample is not None:
        arrays.update(metrics_lib.pack_sample(sample, first + s))
    if arrays:
      _write_npz(samples_path(workdir, filename), arrays)
  return result


def samples_path(workdir: str, filename: str = 'eval.json') -> str:
  """Where ``evaluate_workdir`` keeps the samples of ``filename``'s scores:
  ``eval.json`` -> ``eval_samples.npz``, keys ``seed<model seed>/<key>``
  (``metrics.pack_sample``)."""
  return os.path.join(workdir, os.path.splitext(filename)[0] + '_samples.npz')


def _write_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
  """Writes ``arrays`` as a compressed ``.npz``, atomically."""
  buffer = io.BytesIO()
  np.savez_compressed(buffer, **arrays)
  workdir_lib.write_bytes(path, buffer.getvalue())


__all__ = ['evaluate_workdir', 'samples_path']
