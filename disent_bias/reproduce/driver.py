"""The driver: runs (or continues) a grid and writes its outputs."""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any, Callable, Mapping, Sequence

from absl import logging
import ml_collections
import numpy as np

from disent_bias.reproduce import cells as cells_lib
from disent_bias.reproduce import files
from disent_bias.reproduce import grid
from disent_bias.reproduce import local_pca
from disent_bias.reproduce import outputs
from disent_bias.reproduce import protocol as protocol_lib
from disent_bias.reproduce import shards
from disent_bias.reproduce import sweep
from disent_bias.utils import errors
from disent_bias.utils import progress as progress_lib
from disent_bias.utils import workdir as workdir_lib

TrainFn = Callable[[ml_collections.ConfigDict, str], Mapping[str, Any]]


class _Progress:
  """Cells done / total, elapsed time and ETA across the grid.

  The ETA assumes each remaining cell costs the mean of the cells trained in
  this process on the same dataset (else over all datasets).
  """

  def __init__(self, cells: Sequence[grid.Cell]):
    self.total = len(cells)
    self.remaining = list(cells)
    self.done = 0
    self.start = time.time()
    self.seconds: dict[str, list[float]] = {}

  def finish(self, cell: grid.Cell, seconds: float | None) -> str:
    """Counts ``cell`` as done (trained in ``seconds``, None: skipped)."""
    self.done += 1
    self.remaining.remove(cell)
    if seconds is not None:
      self.seconds.setdefault(cell.dataset, []).append(seconds)
    return (f'cells {self.done}/{self.total}  elapsed '
            f'{progress_lib.format_seconds(time.time() - self.start)}  ETA '
            f'{progress_lib.format_seconds(self.eta())}')

  def eta(self) -> float | None:
    """Seconds left (None before the first trained cell)."""
    every = [s for v in self.seconds.values() for s in v]
    if not self.remaining:
      return 0.0
    if not every:
      return None
    return sum(float(np.mean(self.seconds.get(cell.dataset) or every))
               for cell in self.remaining)


def reproduce(config: ml_collections.ConfigDict, workdir: str, *,
              train_fn: TrainFn | None = None,
              shard: shards.Shard | None = None) -> dict[str, Any]:
  """Runs (or continues) a reproduction grid and writes its outputs.

  Args:
    config: a reproduction config (``disent_bias/configs/reproduce.py``),
      carrying the base train config of every cell as ``base_train``.
    workdir: output directory; rerunning with the same one skips finished
      cells and resumes interrupted ones.
    train_fn: replaces ``train.train_and_evaluate`` (tests).
    shard: run only this part of the grid (``shards.shard_cells``), e.g. one
      task of a job array; shards share ``workdir`` and write
      ``DIR/shards/<index>_of_<count>.json`` instead of the table. A run
      without a shard afterwards skips their finished cells and writes the
      table of the whole grid.

  Returns:
    The contents of ``DIR/results.json`` (of the shard's file for a shard).

  Raises:
    errors.InvalidInputError: a cell of the grid (any shard's) whose train
      config is invalid, before anything is written.
    workdir.WorkdirKindError: ``workdir`` holds another kind of run (a
      training run, evaluation output), before anything is written.
    workdir.ConfigMismatchError: a started cell was made by another config.
  """
  workdir_lib.check_kind(workdir, workdir_lib.REPRODUCTION)
  protocol = protocol_lib.parse(config)
  # Shards run concurrently in one workdir: each cell has its own lock.
  lock = (contextlib.nullcontext() if shard is not None
          else workdir_lib.lock(workdir))
  with lock:
    return _reproduce(protocol, shards.shard_cells(protocol.cells, shard),
                      workdir, train_fn, shard)


def _stored_grid(workdir: str) -> tuple[str, dict[str, Any]] | None:
  """The reproduction config whose table is in ``workdir`` and its file:
  ``results.json``'s config, else ``config.json``; None when neither."""
  results_path = os.path.join(workdir, 'results.json')
  results = workdir_lib.read_json_or_none(results_path)
  if isinstance(results, dict) and isinstance(results.get('config'), dict):
    return results_path, results['config']
  config_path = os.path.join(workdir, 'config.json')
  stored = workdir_lib.read_json_or_none(config_path)
  return (config_path, stored) if isinstance(stored, dict) else None


def _warn_if_grid_changed(protocol: protocol_lib.Protocol,
                          workdir: str) -> None:
  """One warning naming how the grid differs from the stored one."""
  stored = _stored_grid(workdir)
  if stored is None:
    return
  changes = grid.grid_changes(stored[1], protocol.config_json)
  if changes:
    logging.warning('%s: the grid differs from the one in %s (%s); its '
                    'results.json and table.md will hold this grid only, the '
                    'other cells stay in cells/', workdir, stored[0],
                    '; '.join(changes))


def _reproduce(protocol: protocol_lib.Protocol,
               cells: Sequence[grid.Cell], workdir: str,
               train_fn: TrainFn | None,
               shard: shards.Shard | None) -> dict[str, Any]:
  """``reproduce`` of ``cells`` in a locked workdir (or for one shard)."""
  start = time.time()
  with errors.user_input():
    cells_lib.check_cells(protocol, cells, workdir)
  if shard is None:
    _warn_if_grid_changed(protocol, workdir)
  files.write_json(os.path.join(workdir, 'config.json'), protocol.config_json)
  logging.info('reproduction %s: %d cells (%d datasets x %d variants x %d '
               'models), %d seed(s) each, in %s', protocol.name or '',
               len(cells), len(protocol.datasets), len(protocol.variants),
               len(protocol.models), protocol.num_seeds, workdir)
  records, analyses, run_timings = _run_cells(protocol, cells, workdir,
                                              train_fn)
  timings = {'wall_seconds': time.time() - start, **run_timings}
  if shard is not None:
    return shards.write_shard(workdir, shard, records, timings)
  if protocol.sweep is not None:
    results = sweep.write_sweep_outputs(protocol, workdir, records, timings)
  else:
    results = outputs.write_outputs(protocol, workdir, records, analyses,
                                    timings)
  logging.info('reproduction finished in %s: %s',
               progress_lib.format_seconds(time.time() - start),
               os.path.join(workdir, 'table.md'))
  return results


def _analyse(protocol: protocol_lib.Protocol, cell: grid.Cell,
             workdir: str) -> dict[str, Any]:
  """The dataset analysis of ``cell``'s variant, logged."""
  a = local_pca.run_analysis(protocol, cell, workdir)
  logging.info('analysis %s/%s: median dto %.3f, median offdiag_mass %.3f',
               cell.dataset, cell.variant, a.get('median_dto', float('nan')),
               a.get('median_offdiag_mass', float('nan')))
  return a


def _run_cells(protocol: protocol_lib.Protocol,
               cells: Sequence[grid.Cell], workdir: str,
               train_fn: TrainFn | None
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                          dict[str, Any]]:
  """Runs ``cells`` in order, each dataset variant's analysis first.

  Returns:
    ``(records, analyses, timings)``: the seeds' records (tagged with the
    sweep value), the analyses, and this run's timings.
  """
  progress = _Progress(cells)
  records, analyses, analysed = [], [], set()
  trained_seconds, analysis_seconds = 0.0, 0.0
  for cell in cells:
    if protocol.config.analysis.enabled and not isinstance(
        cell, grid.SweepCell) and (cell.dataset, cell.variant) not in analysed:
      tic = time.time()
      analyses.append(_analyse(protocol, cell, workdir))
      analysis_seconds += time.time() - tic
      analysed.add((cell.dataset, cell.variant))
    tic = time.time()
    cell_records, trained = cells_lib.run_cell(protocol, cell, workdir,
                                               train_fn)
    seconds = time.time() - tic if trained else None
    trained_seconds += seconds or 0.0
    records.extend(sweep.tag_sweep(cell_records, cell))
    logging.info('%s done%s; %s', cell,
                 f' in {progress_lib.format_seconds(seconds)}'
                 if trained else ' (skipped)',
                 progress.finish(cell, seconds))
  timings = {'train_seconds_this_run': trained_seconds,
             'analysis_seconds_this_run': analysis_seconds,
             'cells_trained_this_run': sum(
                 len(v) for v in progress.seconds.values())}
  return records, analyses, timings
