"""Scores every seed of a training run's checkpoint: ``eval.json``.

``evaluate_workdir`` restores a ``train.train_and_evaluate`` workdir and
runs ``metrics.evaluate_representation`` on each model seed with the same
evaluation samples. Like ``results.json``, ``eval.json`` keeps per-seed
scores as records (``per_seed``) and their summaries apart (``summary``).
"""

from __future__ import annotations

import os
import time
from typing import Any, Sequence

from absl import logging
import jax

from disent_bias import errors
from disent_bias import metrics as metrics_lib
from disent_bias import provenance
from disent_bias import runner
from disent_bias import scoring
from disent_bias import train
from disent_bias import workdir as workdir_lib


def evaluate_workdir(workdir: str, names: str | Sequence[str], *,
                     seed: int = 0, num_train: int = 10000,
                     num_test: int = 5000, step: int | None = None,
                     filename: str | None = 'eval.json') -> dict[str, Any]:
  """Scores every seed of a training run's checkpoint; writes the result.

  Args:
    workdir: a ``train.train_and_evaluate`` workdir.
    names: metric names (``metrics.METRICS`` keys) or a comma separated
      string.
    seed: evaluation seed (the same samples for every model seed).
    num_train: see ``metrics.evaluate_representation``.
    num_test: see ``metrics.evaluate_representation``.
    step: checkpoint step; the newest that verifies when None.
    filename: written as ``workdir/filename`` (JSON) unless None.

  Returns:
    ``{'workdir', 'step', 'dataset', 'variant', 'metrics' (the names),
    'seed', 'num_train', 'num_test', 'per_seed': [{'seed': model seed
    config.seed + s, 'metrics': its scores}, ...], 'summary': mean over model
    seeds of every numeric score, and ``<key>_sd`` (``stats.seed_sd``) with
    several seeds, 'time_s', 'provenance'}``.

  Raises:
    ValueError: an unknown metric name.
    FileNotFoundError / workdir.WorkdirKindError: ``workdir`` is missing or
      holds no training run (checked before anything is written).
  """
  with errors.user_input():
    names = metrics_lib.evaluation.check_names(names)
  workdir_lib.check_kind(workdir, workdir_lib.TRAINING, must_hold=True)
  if filename:  # Before hours of scoring, not after.
    workdir_lib.check_writable(os.path.join(workdir, filename))
  start = time.perf_counter()
  restored = train.restore_run(workdir, step)
  num_seeds = int(jax.tree.leaves(restored.params)[0].shape[0])
  logging.info('evaluating %s step %d: %d model seed(s) on %r, metrics %s',
               workdir, restored.step, num_seeds, restored.dataset, names)
  per_seed = []
  for s in range(num_seeds):
    fn = scoring.representation_fn(
        restored.model, runner.select_seed(restored.params, s))
    scores = metrics_lib.evaluate_representation(
        restored.dataset, fn, names, seed=seed, num_train=num_train,
        num_test=num_test)
    per_seed.append({'seed': int(restored.config.seed) + s,
                     'metrics': scores})
  result = {
      'workdir': os.path.abspath(workdir), 'step': int(restored.step),
      'dataset': restored.dataset.name, 'variant': restored.dataset.variant,
      'metrics': list(names), 'seed': int(seed), 'num_train': int(num_train),
      'num_test': int(num_test), 'per_seed': per_seed,
      'summary': scoring.score_summary(r['metrics'] for r in per_seed),
      'time_s': time.perf_counter() - start,
      'provenance': provenance.provenance(),
  }
  if filename:
    path = os.path.join(workdir, filename)
    workdir_lib.write_json(path, result)
    logging.info('wrote %s', path)
  return result


__all__ = ['evaluate_workdir']
