"""The train loop and its workdir: resume, log, evaluate, checkpoint, score.

Layout of a run (``train_and_evaluate(config, workdir)``):
- the config is checked (``configuration.validate_config``) and resolved
  once (``configuration.resolve_config``); the resolved config is what
  ``config.json`` records and what ``setup.build`` and everything after it
  read;
- ``runner.Run`` trains ``train.num_seeds`` seeds at once,
  ``train.steps_per_call`` steps per host call, sharded over all devices
  (``runner`` describes the keys and batches). A resumed run needs no
  iterator state and retraces the uninterrupted run exactly. With
  ``config.distributed`` set every process runs the same loop, and only
  process 0 writes the workdir's files (Orbax checkpoints are written by all
  of them together);
- ``scoring`` evaluates the seeds at eval points and scores them at the end.

Workdir: ``config.json`` (resolved config), ``metrics.jsonl``,
``checkpoints/`` (Orbax), ``images/step_<n>/`` (reconstructions, latent
traversals), ``tensorboard/`` (event files, with the ``tensorboard`` extra)
and ``results.json``: summaries under ``final``, ``eval`` and ``metrics``
(mean, and ``<key>_sd`` over several seeds), and ``per_seed``, one record
``{'seed', 'metrics', 'eval', 'final'}`` per seed in seed order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from typing import Any, Mapping

from absl import logging
import jax
from jax.experimental import multihost_utils
import ml_collections
import numpy as np

from disent_bias import data as data_lib
from disent_bias.training import checkpoint
from disent_bias.training import configuration
from disent_bias.training import finite
from disent_bias.training import runner as runner_lib
from disent_bias.training import scoring
from disent_bias.training import setup as setup_lib
from disent_bias.training import step as step_lib
from disent_bias.utils import errors
from disent_bias.utils import logging_utils
from disent_bias.utils import progress as progress_lib
from disent_bias.utils import provenance
from disent_bias.utils import workdir as workdir_lib


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str, *,
                       dataset: data_lib.GroundTruthData | None = None,
                       restart: bool = False) -> dict[str, Any]:
  """Trains ``config.train.num_seeds`` models, evaluates them, writes workdir.

  Rerunning with the same workdir resumes from the newest checkpoint that
  verifies (damaged ones are moved to ``workdir/damaged_checkpoints/``). The
  workdir contract (docs/workdir.md): one run at a time holds the workdir's
  lock, and a stored ``config.json`` that differs from ``config`` in a field
  that changes the trained parameters is refused before anything is written.

  Args:
    config: an experiment config (``disent_bias/configs/default.py``).
    workdir: output directory (created).
    dataset: optional dataset object replacing ``config.data`` (tests and
      notebooks with a custom ``GroundTruthData``).
    restart: start over: the previous run's files move to
      ``workdir/replaced/<time>/`` instead of being resumed or checked.

  Returns:
    The contents of ``results.json`` (module docstring).

  Raises:
    ValueError / TypeError: an invalid config or data file (before any
      compilation).
    workdir.WorkdirKindError: ``workdir`` holds another kind of run (a
      reproduction, evaluation output).
    workdir.ConfigMismatchError: the workdir was made by a different config.
    workdir.WorkdirBusyError: another process is running in ``workdir``.
    FloatingPointError: a non-finite loss (the last good checkpoint is kept).
  """
  total_start = time.time()
  config, dataset, mesh = _checked_inputs(config, workdir, dataset)
  is_main = jax.process_index() == 0
  os.makedirs(workdir, exist_ok=True)
  with _lock(workdir, is_main):
    _prepare_workdir(config, workdir, restart, is_main)
    if jax.process_count() > 1:
      # The other processes read the checkpoints only after process 0 has
      # checked the workdir or moved the previous run away (restart).
      multihost_utils.sync_global_devices('disent_bias: workdir prepared')
    run = runner_lib.Run(setup_lib.build(config, dataset), dataset, mesh)
    return _train_and_evaluate(run, workdir, is_main, total_start)


def _checked_inputs(config: ml_collections.ConfigDict, workdir: str,
                    dataset: data_lib.GroundTruthData | None
                    ) -> tuple[ml_collections.ConfigDict,
                               data_lib.GroundTruthData, jax.sharding.Mesh]:
  """The resolved config, the dataset and the mesh, before anything is
  written; what fails here is the user's to fix (``errors.user_input``)."""
  with errors.user_input():
    configuration.validate_config(config)
    workdir_lib.check_kind(workdir, workdir_lib.TRAINING)
    # Before the dataset: building one may start the JAX backend (procedural
    # renderers hold jnp arrays), and jax.distributed must start first.
    runner_lib.maybe_initialize_distributed(config)
    if dataset is None:
      dataset = data_lib.load_config(config.data)
    config = configuration.resolve_config(config, dataset)
    mesh = runner_lib.make_mesh()
    if config.train.batch_size % mesh.size:
      raise ValueError(
          f'invalid config: train.batch_size={config.train.batch_size} must '
          f'be divisible by the number of devices ({mesh.size})')
  return config, dataset, mesh


def _lock(workdir: str, is_main: bool):
  """The workdir lock (main process only: the others write nothing)."""
  return workdir_lib.lock(workdir) if is_main else contextlib.nullcontext()


def _prepare_workdir(config: ml_collections.ConfigDict, workdir: str,
                     restart: bool, is_main: bool) -> None:
  """Checks the stored config (or starts over), then writes ``config.json``."""
  if not is_main:
    return
  if restart:
    workdir_lib.start_over(workdir)
  else:
    steps = checkpoint.steps_on_disk(workdir)
    workdir_lib.check_config(workdir, json.loads(config.to_json()),
                             newest_step=steps[-1] if steps else None)
  workdir_lib.write_text(os.path.join(workdir, 'config.json'),
                         config.to_json(indent=2))


@dataclasses.dataclass
class _Loop:
  """The loop's state besides the train state: where it is, what it has
  logged and timed, and its checkpoint manager and writer."""
  run: runner_lib.Run
  keys: runner_lib.SeedKeys
  workdir: str
  mngr: Any
  writer: logging_utils.MetricWriter
  abstract: Any
  step: int
  last_good: int | None
  log_buffer: list = dataclasses.field(default_factory=list)
  log_start_step: int = 0
  log_seconds: float = 0.0
  train_seconds: float = 0.0
  steps_timed: int = 0
  last_record: dict = dataclasses.field(default_factory=dict)

  def verified_last_good(self) -> int | None:
    """The newest checkpoint up to ``last_good`` that restores and verifies."""
    self.mngr.wait_until_finished()
    if self.last_good is None:
      return None
    step, _ = checkpoint.restore_newest_good(self.mngr, self.abstract,
                                             max_step=self.last_good)
    return step


def _train_and_evaluate(run: runner_lib.Run, workdir: str, is_main: bool,
                        total_start: float) -> dict[str, Any]:
  """``train_and_evaluate`` in a checked, locked workdir."""
  config = run.config
  logging_utils.log_detail('workdir: %s', workdir)
  logging_utils.log_detail('devices: %s', jax.devices())
  logging_utils.log_detail('dataset: %s', run.dataset)
  logging_utils.log_detail('resolved config:\n%s', config)
  loop, state = _start(run, workdir, is_main)
  logging_utils.log_detail('%s', progress_lib.start_text(
      f'training {config.model.name} on {run.dataset.name} '
      f'({run.num_seeds} seed(s), batch {run.batch_size})', loop.step,
      config.train.num_steps,
      min(config.train.num_steps,
          (loop.step // config.log_every_steps + 1) * config.log_every_steps)))
  try:
    try:
      while loop.step < config.train.num_steps:
        state = _train_interval(loop, state)
        _after_interval(loop, state)
    finally:
      # A failed run still completes the checkpoint saves it started.
      loop.mngr.wait_until_finished()
    results = _finish(loop, state, total_start)
  finally:
    # Also on failure: the event file is flushed and closed.
    loop.writer.close()
    loop.mngr.close()
  if is_main:
    workdir_lib.write_json(os.path.join(workdir, 'results.json'), results)
  logging_utils.log_detail('done: %s', scoring.short(results['final']))
  return results


def _start(run: runner_lib.Run, workdir: str, is_main: bool
           ) -> tuple[_Loop, step_lib.TrainState]:
  """Restores the newest good checkpoint (or initialises) and drops the log
  records after it."""
  config = run.config
  keys = run.seed_keys(config.seed)
  mngr = checkpoint.manager(workdir, max_to_keep=config.keep_checkpoints)
  writer = logging_utils.MetricWriter.for_workdir(workdir, enabled=is_main)
  abstract = step_lib.to_tree(run.abstract_state(keys))
  latest, tree = checkpoint.restore_newest_good(mngr, abstract,
                                                move_damaged=is_main)
  if latest is not None:
    logging_utils.log_detail('resuming from the checkpoint at step %d', latest)
    state = step_lib.from_tree(tree)
  else:
    state = run.init_state(keys)
  # Records after the resumed step are rewritten (all of them without a
  # checkpoint), and so is the final eval of a finished run.
  writer.truncate_after(latest or 0,
                        drop_evals=latest == config.train.num_steps)
  step = int(jax.device_get(state.step)[0])
  loop = _Loop(run=run, keys=keys, workdir=workdir, mngr=mngr, writer=writer,
               abstract=abstract, step=step, last_good=latest,
               log_start_step=step)
  return loop, state


def next_boundary(step: int, config: ml_collections.ConfigDict) -> int:
  """The next step at which the loop logs, evaluates, checkpoints or ends."""
  nxt = config.train.num_steps
  for every in (config.log_every_steps, config.eval_every_steps,
                config.checkpoint_every_steps):
    nxt = min(nxt, (step // every + 1) * every)
  return nxt


def _train_interval(loop: _Loop, state: step_lib.TrainState
                    ) -> step_lib.TrainState:
  """Trains up to the next boundary; checks the terms and buffers them."""
  run, start = loop.run, loop.step
  boundary = next_boundary(start, run.config)
  spc = run.config.train.steps_per_call
  tic, compile_before = time.time(), run.compile_seconds
  pending = []
  while loop.step < boundary:
    length = spc if boundary - loop.step >= spc else 1
    batches = run.host_batches(loop.keys, loop.step, length)
    fn = run.compiled(length, state, loop.keys, batches)
    state, metrics = fn(state, loop.keys, batches)
    pending.append(metrics)
    loop.step += length
  host = _concat_steps(jax.device_get(pending))
  # Compilation is excluded from the step rate.
  elapsed = time.time() - tic - (run.compile_seconds - compile_before)
  loop.train_seconds += elapsed
  loop.log_seconds += elapsed
  loop.steps_timed += loop.step - start
  finite.check_finite(host, start, loop.verified_last_good, loop.workdir)
  loop.log_buffer.append(host)
  return state


def _concat_steps(chunks: list[Mapping[str, np.ndarray]]
                  ) -> dict[str, np.ndarray]:
  """Per-term (S, T_i) arrays of consecutive chunks joined into (S, sum T_i)."""
  return {k: np.concatenate([c[k] for c in chunks], axis=1) for k in chunks[0]}


def _after_interval(loop: _Loop, state: step_lib.TrainState) -> None:
  """Logs, evaluates and checkpoints at the boundaries the loop reached."""
  config, step = loop.run.config, loop.step
  num_steps = config.train.num_steps
  if step % config.log_every_steps == 0 or step == num_steps:
    _log(loop)
  if step % config.eval_every_steps == 0 and step != num_steps:
    per_seed = scoring.evaluate(loop.run, state, loop.keys, step, loop.writer)
    if per_seed:
      record = scoring.log_record(per_seed, '')
      loop.writer.write_scalars(step, record)
      logging_utils.log_detail('eval at step %d: %s', step,
                               scoring.short(record))
  if step % config.checkpoint_every_steps == 0 or step == num_steps:
    if not finite.params_finite(state):
      raise FloatingPointError(
          f'non-finite parameters at step {step}; '
          f'{finite.last_good_text(loop.verified_last_good(), loop.workdir)}')
    checkpoint.save(loop.mngr, step, step_lib.to_tree(state))
    loop.last_good = step


def _log(loop: _Loop) -> None:
  """Writes the train record of the buffered steps and the progress line."""
  step, num_steps = loop.step, loop.run.config.train.num_steps
  merged = _concat_steps(loop.log_buffer)
  rate = (step - loop.log_start_step) / max(loop.log_seconds, 1e-9)
  loop.last_record = scoring.train_record(merged, step, rate)
  loop.writer.write_scalars(step, {k: v for k, v in loop.last_record.items()
                                   if k != 'step'})
  eta = progress_lib.eta_seconds(step, num_steps, rate)
  logging_utils.log_detail(
      'step %d/%d  loss %.4f  %.2f steps/s  ETA %s', step, num_steps,
      loop.last_record['train/loss'], rate, progress_lib.format_seconds(eta))
  loop.log_buffer, loop.log_start_step, loop.log_seconds = [], step, 0.0


def _final_train_record(loop: _Loop) -> dict[str, Any]:
  """The train record of the final step, never an earlier one.

  This run's; for a run that resumed at its last step, the one its complete
  ``results.json`` holds for this step, else the log's record of this step.
  A source that lacks it is named in a warning.
  """
  if loop.last_record:
    return loop.last_record
  results = os.path.join(loop.workdir, 'results.json')
  stored = _stored_final_record(results, loop.step, _seeds(loop.run))
  logged = _logged_record(loop.writer.path, loop.step)
  if logged is None and loop.step:
    missing = (f'{loop.writer.path} has no train record of the final step '
               f'{loop.step}')
    if stored is not None:
      logging.warning('%s; the final train terms are kept from %s', missing,
                      results)
    else:
      logging.warning('%s and %s is not a complete result of that step, so '
                      'it gets no final train terms (checkpoints and scores '
                      'are unaffected; --restart trains again)', missing,
                      results)
  return stored or logged or {}


def _stored_final_record(path: str, step: int, seeds: list[int]
                         ) -> dict[str, Any] | None:
  """The final train record held by a ``results.json`` of ``step`` and
  ``seeds`` with every seed's ``final``; None if it is not one."""
  results = workdir_lib.read_json_or_none(path)
  if not isinstance(results, dict) or (
      results.get('num_steps'), results.get('seeds')) != (step, seeds):
    return None
  final, per_seed = results.get('final'), results.get('per_seed')
  if (not isinstance(final, dict) or 'train/loss' not in final
      or not isinstance(per_seed, list) or len(per_seed) != len(seeds)
      or not all(isinstance(r, dict) and isinstance(r.get('final'), dict)
                 for r in per_seed)):
    return None
  record = dict(final)
  if len(seeds) > 1:
    record['per_seed'] = [r['final'] for r in per_seed]
  return record


def _logged_record(path: str, step: int) -> dict[str, Any] | None:
  """The log's train record of ``step`` (None if it has none)."""
  if not os.path.exists(path):
    return None
  records = [r for r in logging_utils.read_jsonl(path)
             if r['step'] == step and 'train/loss' in r]
  return records[-1] if records else None


def _seeds(run: runner_lib.Run) -> list[int]:
  """The model seeds of a run, in seed order."""
  return [run.config.seed + s for s in range(run.num_seeds)]


def _seed_finals(record: Mapping[str, Any], num_seeds: int
                 ) -> list[dict[str, Any]]:
  """Each seed's ``train/`` terms of a train record (its ``per_seed`` list,
  or the record itself for one seed)."""
  if num_seeds == 1:
    return [{k: v for k, v in record.items() if k.startswith('train/')}]
  return [dict(r) for r in record.get('per_seed', [{}] * num_seeds)]


def _finish(loop: _Loop, state: step_lib.TrainState,
            total_start: float) -> dict[str, Any]:
  """The final eval point and scores; the contents of ``results.json``."""
  run, config = loop.run, loop.run.config
  last_record = _final_train_record(loop)
  evals = scoring.evaluate(run, state, loop.keys, loop.step, loop.writer)
  if evals:
    loop.writer.write_scalars(loop.step, scoring.log_record(evals, ''))
  loop.writer.close()
  evals = evals or [{} for _ in range(run.num_seeds)]
  scores = scoring.score(run, state)
  finals = _seed_finals(last_record, run.num_seeds)
  seeds = _seeds(run)
  results = {
      'model': config.model.name,
      'dataset': run.dataset.name,
      'variant': run.dataset.variant,
      'seeds': seeds,
      'num_steps': loop.step,
      'final': {k: v for k, v in last_record.items() if k.startswith('train/')},
      'eval': scoring.reduce_seeds(evals),
      'metrics': scoring.score_summary(scores),
      'per_seed': [{'seed': seed, 'metrics': m.to_json(), 'eval': e,
                    'final': f}
                   for seed, m, e, f in zip(seeds, scores, evals, finals)],
      'timings': _timings(loop, total_start),
      'config': config.to_dict(),
      'provenance': provenance.provenance(),
  }
  return logging_utils.to_jsonable(results)


def _timings(loop: _Loop, total_start: float) -> dict[str, Any]:
  return {
      'compile_seconds': loop.run.compile_seconds,
      'train_seconds': loop.train_seconds,
      'steps_per_second': (loop.steps_timed / loop.train_seconds
                           if loop.train_seconds else None),
      'total_seconds': time.time() - total_start,
      'num_devices': loop.run.mesh.size,
  }


__all__ = ['train_and_evaluate', 'next_boundary']
