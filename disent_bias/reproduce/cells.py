"""One cell's workdir: its recorded config, its results, its training.

A cell's workdir ``DIR/<cell.path>`` holds ``cell.json`` (the cell and its
train config, written when the cell starts), the training workdir of
``train.train_and_evaluate`` (checkpoints, ``results.json``) and
``cell_timing.json`` (its times and the digest of its ``results.json``). A
cell whose ``results.json`` is complete and matches that digest is skipped;
one whose results are torn, empty, short of seeds or without per-seed
records (written before them) runs again: ``train_and_evaluate`` resumes
from its last checkpoint and scores it. So does one whose ``results.json``
was changed after the cell finished (a hand edit): that file is moved to
``replaced/<time>/`` first, with a warning naming it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from typing import Any, Callable, Mapping, Sequence

from absl import logging
import ml_collections

from disent_bias.reproduce import files
from disent_bias.reproduce import grid
from disent_bias.reproduce import protocol as protocol_lib
from disent_bias.reproduce import records as records_lib
from disent_bias.training import train
from disent_bias.utils import logging_utils
from disent_bias.utils import workdir as workdir_lib

CELL_FILE = 'cell.json'
RESULTS_FILE = 'results.json'
TIMING_FILE = 'cell_timing.json'
RESULTS_DIGEST = 'results_sha256'  # The key of the digest in TIMING_FILE.


def cell_record(cell: grid.Cell,
                train_config: ml_collections.ConfigDict) -> dict[str, Any]:
  """What ``cell.json`` holds: the cell and its train config."""
  return {'cell': dataclasses.asdict(cell),
          'config': files.config_json(train_config)}


def cell_mismatch(cell_dir: str, cell: grid.Cell, stored: Any,
                  record: Mapping[str, Any]) -> str | None:
  """Why the stored ``cell.json`` refuses ``record``.

  Returns:
    None when it agrees, is absent or torn (``stored`` None), or differs only
    in fields added since at their old values; else the message.
  """
  if stored is None or stored == record:
    return None
  differences = workdir_lib.config_differences(stored, record)
  if not differences:
    return None
  differences = workdir_lib.format_differences(differences)
  return (f'{cell_dir} was created by a different config for {cell} '
          f'({differences}); use a fresh --workdir for a different protocol, '
          'or delete that cell directory to retrain it')


def check_cells(protocol: protocol_lib.Protocol,
                cells: Sequence[grid.Cell], workdir: str) -> None:
  """Refuses a rerun whose config differs for a cell already started,
  before anything is written.

  Raises:
    workdir.ConfigMismatchError: the first cell whose ``cell.json`` differs.
  """
  for cell in cells:
    cell_dir = os.path.join(workdir, cell.path)
    path = os.path.join(cell_dir, CELL_FILE)
    if not os.path.exists(path):
      continue
    mismatch = cell_mismatch(
        cell_dir, cell, workdir_lib.read_json_or_none(path),
        cell_record(cell, protocol.train_configs[cell]))
    if mismatch:
      raise workdir_lib.ConfigMismatchError(mismatch)


def record_cell(cell_dir: str, cell: grid.Cell,
                train_config: ml_collections.ConfigDict) -> None:
  """Writes the cell's ``cell.json`` unless a readable one is there (which
  ``check_cells`` has compared with ``train_config`` already)."""
  path = os.path.join(cell_dir, CELL_FILE)
  if workdir_lib.read_json_or_none(path) is None:
    os.makedirs(cell_dir, exist_ok=True)
    files.write_json(path, cell_record(cell, train_config))


def finished_results(path: str, num_seeds: int) -> dict[str, Any] | None:
  """A cell's ``results.json`` if it is complete, else None.

  None, with a warning naming the file, when it is torn, empty, lacks seeds,
  or has no per-seed records (a file written before them), so the cell runs
  again from its checkpoints.
  """
  results = workdir_lib.read_json_or_none(path)
  if results is None:
    return None
  if not isinstance(results, dict):
    results = {}
  seeds = results.get('seeds', None)
  per_seed = results.get('per_seed', None)
  if (not isinstance(seeds, list) or len(seeds) != num_seeds
      or not isinstance(per_seed, list) or len(per_seed) != num_seeds):
    logging.warning('%s is incomplete (seeds %s, expected %d, and per-seed '
                    'records); re-evaluating the cell', path, seeds,
                    num_seeds)
    return None
  return results


def results_digest(results: Any) -> str:
  """SHA-256 of ``results`` as canonical JSON (sorted keys, no spaces), so
  that reformatting the file is no change."""
  text = json.dumps(results, sort_keys=True, separators=(',', ':'))
  return hashlib.sha256(text.encode('utf-8')).hexdigest()


def write_timing(cell_dir: str, wall_seconds: float | None,
                 cpu_seconds: float | None) -> None:
  """``cell_timing.json``: the cell's times and the digest of its
  ``results.json`` as it is on disk now."""
  results = workdir_lib.read_json(os.path.join(cell_dir, RESULTS_FILE))
  files.write_json(os.path.join(cell_dir, TIMING_FILE),
                   {'wall_seconds': wall_seconds, 'cpu_seconds': cpu_seconds,
                    RESULTS_DIGEST: results_digest(results)})


def unchanged_results(cell_dir: str, results: Any,
                      timing: Mapping[str, Any]) -> bool:
  """Whether ``results`` (the cell's ``results.json``) are as the cell left
  them (``timing``'s digest; a cell of an older version has none and is
  taken as it is).

  A changed file is moved to ``cell_dir/replaced/<time>/``, with a warning
  naming it, so that the cell is scored again.
  """
  expected = timing.get(RESULTS_DIGEST, None)
  if expected is None or results_digest(results) == expected:
    return True
  path = os.path.join(cell_dir, RESULTS_FILE)
  target = os.path.join(cell_dir, workdir_lib.REPLACED_DIR,
                        workdir_lib.moved_aside_stamp(), RESULTS_FILE)
  os.makedirs(os.path.dirname(target))
  os.replace(path, target)
  logging.warning('%s was changed after the cell finished (it does not match '
                  'the digest in %s); moved it to %s and scoring the cell '
                  'again from its final checkpoint', path,
                  os.path.join(cell_dir, TIMING_FILE), target)
  return False


def run_cell(protocol: protocol_lib.Protocol, cell: grid.Cell,
             workdir: str,
             train_fn: Callable[..., Mapping[str, Any]] | None = None
             ) -> tuple[list[dict[str, Any]], bool]:
  """Trains and scores one cell unless its ``results.json`` is complete.

  The workdir must have passed ``check_cells`` for ``cell``.

  Args:
    protocol: the parsed reproduction config.
    cell: the grid point.
    workdir: the reproduction directory (the cell uses ``workdir/cell.path``).
    train_fn: ``train_and_evaluate``-like function, which writes the cell's
      ``results.json`` (default ``disent_bias.training.train.train_and_evaluate``).

  Returns:
    ``(records, trained)``: one record per seed (``records.seed_records``),
    and False when the cell was already finished.
  """
  cell_dir = os.path.join(workdir, cell.path)
  record_cell(cell_dir, cell, protocol.train_configs[cell])
  results_path = os.path.join(cell_dir, RESULTS_FILE)
  timing_path = os.path.join(cell_dir, TIMING_FILE)
  finished = finished_results(results_path, protocol.num_seeds)
  timing = workdir_lib.read_json_or_none(timing_path)
  timing = timing if isinstance(timing, dict) else {}
  if finished is not None and unchanged_results(cell_dir, finished, timing):
    logging.info('%s: finished earlier, skipped', cell)
    return records_lib.seed_records(
        finished, cell, timing.get('wall_seconds', None),
        timing.get('cpu_seconds', None)), False
  if os.path.exists(timing_path):  # Its digest is of the results replaced.
    os.remove(timing_path)
  if train_fn is None:
    train_fn = train.train_and_evaluate
  logging.info('%s: training %d seed(s) in %s', cell, protocol.num_seeds,
               cell_dir)
  start, cpu_start = time.time(), time.process_time()
  with logging_utils.nested_run():  # One line per cell at the default -v 0.
    results = train_fn(protocol.train_config(cell), cell_dir)
  wall, cpu = time.time() - start, time.process_time() - cpu_start
  write_timing(cell_dir, wall, cpu)
  return records_lib.seed_records(results, cell, wall, cpu), True
