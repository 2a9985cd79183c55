"""Units of a reproduction: parts of its cells that finish inside one job.

A batch job on an accelerator lasts minutes (a wall-time limit, a spot
instance), a reproduction cell of the paper's protocol hours. A *unit* is a
block of consecutive seeds of one cell, trained to the cell's full length;
``plan_units`` sizes the blocks from the measured throughput in
``config.job`` so that each unit's estimated time stays within
``job.unit_seconds``. Seed ``s`` of a cell is the same model whichever unit
trains it (``runner.seed_keys``: one key per seed); vmapping a different
number of seeds together can change the last bits of its training.

The *ledger* (``ledger.json``, committed with the results) records which
units are done; it is the state that travels between jobs:
``{'protocol', 'units': {UNIT_ID: {'state': 'done' | 'pending', 'cell',
'seeds', 'num_steps', ...}}}``; a done unit also names the job, commit and
machine that trained it. Once a unit is in the ledger its seeds are fixed:
a later change of the throughput figures plans only cells not yet there.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import os
from typing import Any, Mapping, Sequence

import ml_collections

from disent_bias.reproduce import files
from disent_bias.reproduce import grid
from disent_bias.reproduce import protocol as protocol_lib
from disent_bias.utils import errors
from disent_bias.utils import workdir as workdir_lib

DONE, PENDING = 'done', 'pending'
LEDGER_FILE = 'ledger.json'


@dataclasses.dataclass(frozen=True)
class Unit:
  """Seeds ``first .. first + count - 1`` (indices within the cell) of a cell."""
  cell: grid.Cell
  first: int
  count: int

  @property
  def id(self) -> str:
    """``<dataset>/<variant>/<model>/seeds_<first>-<last>``."""
    c = self.cell
    return (f'{c.dataset}/{c.variant}/{c.model}/'
            f'seeds_{self.first}-{self.first + self.count - 1}')

  @property
  def seed_indices(self) -> list[int]:
    return list(range(self.first, self.first + self.count))

  def __str__(self) -> str:
    return f'{self.cell} seeds {self.first}-{self.first + self.count - 1}'


def unit_train_config(protocol: protocol_lib.Protocol, unit: Unit,
                      metric_names: Sequence[str] = ()
                      ) -> ml_collections.ConfigDict:
  """The train config of a unit: its cell's, on the unit's seeds only, scoring
  only ``metric_names`` itself (the rest is scored from saved samples)."""
  train_config = protocol.train_config(unit.cell)
  train_config.seed = protocol.seed + unit.first
  train_config.train.num_seeds = unit.count
  train_config.metrics.names = tuple(metric_names)
  return train_config


def seed_rate(throughput: Mapping[str, float], num_seeds: int) -> float:
  """Seed-steps per second of ``num_seeds`` vmapped seeds, interpolated
  linearly between the measured counts (constant beyond them).

  Args:
    throughput: ``{str(number of seeds): seed-steps per second}``.
  """
  points = sorted((int(k), float(v)) for k, v in throughput.items())
  if not points:
    raise errors.InvalidInputError(
        'job.seed_steps_per_second is empty: give measured seed-steps per '
        'second by number of vmapped seeds')
  counts = [c for c, _ in points]
  i = bisect.bisect_left(counts, num_seeds)
  if i == 0:
    return points[0][1]
  if i == len(points):
    return points[-1][1]
  (c0, r0), (c1, r1) = points[i - 1], points[i]
  return r0 + (r1 - r0) * (num_seeds - c0) / (c1 - c0)


def estimate_seconds(protocol: protocol_lib.Protocol, cell: grid.Cell,
                     num_seeds: int,
                     throughput: Mapping[str, float] | None = None) -> float:
  """Estimated seconds of a unit of ``num_seeds`` seeds of ``cell``: setup
  and scoring (``job.overhead_seconds``) plus its steps at the measured rate
  times the model's relative cost (``job.model_cost``)."""
  job = protocol.config.job
  steps = protocol.train_configs[cell].train.num_steps
  cost = float(grid.as_dict(job.model_cost).get(cell.model, 1.0))
  rate = seed_rate(throughput or grid.as_dict(job.seed_steps_per_second),
                   num_seeds)
  return float(job.overhead_seconds) + steps * num_seeds * cost / rate


def split_seeds(num_seeds: int, block: int) -> list[tuple[int, int]]:
  """``(first, count)`` of ``ceil(num_seeds / block)`` contiguous blocks of
  sizes differing by at most one."""
  parts = math.ceil(num_seeds / block)
  base, extra = divmod(num_seeds, parts)
  out, first = [], 0
  for i in range(parts):
    count = base + (i < extra)
    out.append((first, count))
    first += count
  return out


def block_size(protocol: protocol_lib.Protocol, cell: grid.Cell) -> int:
  """The most seeds of ``cell`` whose estimate fits ``job.unit_seconds``.

  Raises:
    ValueError: not even one seed fits (shorten the cell or raise the limit).
  """
  limit = float(protocol.config.job.unit_seconds)
  fits = [n for n in range(1, protocol.num_seeds + 1)
          if estimate_seconds(protocol, cell, n) <= limit]
  if not fits:
    raise errors.InvalidInputError(
        f'job.unit_seconds={limit:g}: one seed of {cell} needs about '
        f'{estimate_seconds(protocol, cell, 1):.0f} s at the measured rate; '
        'raise job.unit_seconds or shorten train.num_steps')
  return max(fits)


def cell_units(protocol: protocol_lib.Protocol,
               cell: grid.Cell) -> list[Unit]:
  """The units of one cell: the largest seed blocks that fit
  ``job.unit_seconds`` (``block_size``)."""
  return [Unit(cell, first, count) for first, count in
          split_seeds(protocol.num_seeds, block_size(protocol, cell))]


def blocks_of(protocol: protocol_lib.Protocol, cell: grid.Cell,
              seeds: Sequence[int]) -> list[Unit]:
  """Units covering ``seeds`` (indices within the cell): each run of
  consecutive seeds split into blocks of at most ``block_size``."""
  runs: list[list[int]] = []
  for s in sorted(seeds):
    if runs and s == runs[-1][-1] + 1:
      runs[-1].append(s)
    else:
      runs.append([s])
  block = block_size(protocol, cell)
  return [Unit(cell, run[0] + first, count) for run in runs
          for first, count in split_seeds(len(run), block)]


def unit_of_id(unit_id: str) -> Unit:
  """The unit named ``<dataset>/<variant>/<model>/seeds_<first>-<last>``.

  Raises:
    ValueError: another form of name.
  """
  parts = unit_id.split('/')
  seeds = parts[-1].removeprefix('seeds_').split('-')
  try:
    first, last = int(seeds[0]), int(seeds[1])
  except (IndexError, ValueError):
    raise errors.InvalidInputError(f'{unit_id!r} is not a unit name '
                                   '(dataset/variant/model/seeds_A-B)'
                                   ) from None
  if len(parts) != 4 or last < first:
    raise errors.InvalidInputError(f'{unit_id!r} is not a unit name '
                                   '(dataset/variant/model/seeds_A-B)')
  return Unit(grid.Cell(*parts[:3]), first, last - first + 1)


def accept_unit(protocol: protocol_lib.Protocol,
                ledger: Mapping[str, Any], unit: Unit) -> dict[str, Any]:
  """``ledger`` with ``unit`` as one of its pending units: a unit planned
  otherwise (another job's sizing) replaces the pending units it overlaps,
  whose other seeds are planned anew (``blocks_of``).

  Raises:
    ValueError: a seed of ``unit`` is already done, or not in the cell.
  """
  entries = dict(ledger['units'])
  if unit.id in entries:
    return dict(ledger)
  if unit.cell not in protocol.cells or (
      unit.first + unit.count > protocol.num_seeds):
    raise errors.InvalidInputError(f'unit {unit.id} is not part of the '
                                   f'protocol {protocol.name!r}')
  seeds = set(unit.seed_indices)
  overlap = [k for k, e in entries.items()
             if _cell_key(e['cell']) == _cell_key(dataclasses.asdict(
                 unit.cell)) and seeds & set(unit_of_entry(e).seed_indices)]
  done = [k for k in overlap if entries[k]['state'] == DONE]
  if done:
    raise errors.InvalidInputError(f'unit {unit.id} overlaps {done[0]}, '
                                   'which is done; not ingested')
  leftover = [s for k in overlap for s in unit_of_entry(entries[k]).seed_indices
              if s not in seeds]
  replacement = [unit] + blocks_of(protocol, unit.cell, leftover)
  out, placed = {}, False
  for key, entry in entries.items():
    if key in overlap:
      if not placed:
        out.update({u.id: unit_entry(u, protocol) for u in replacement})
        placed = True
      continue
    out[key] = entry
  if not placed:
    out.update({u.id: unit_entry(u, protocol) for u in replacement})
  return dict(ledger, units=out)


def plan_units(protocol: protocol_lib.Protocol) -> list[Unit]:
  """Every unit of the grid, in the order jobs take them: block-major (the
  first seed block of every cell, then the second, ...), so that early jobs
  give every cell some seeds; within a block the grid's order.

  Raises:
    ValueError: a sweep (units cover plain grids) or a cell that does not fit.
  """
  if protocol.sweep is not None:
    raise errors.InvalidInputError(
        'jobs run plain grids; this reproduction config has a sweep '
        '(config.sweep.field): run it with experiments.reproduce')
  per_cell = [cell_units(protocol, cell) for cell in protocol.cells]
  depth = max(len(units) for units in per_cell)
  return [units[i] for i in range(depth) for units in per_cell
          if i < len(units)]


def unit_entry(unit: Unit, protocol: protocol_lib.Protocol
               ) -> dict[str, Any]:
  """A pending ledger entry of ``unit``."""
  return {'state': PENDING, 'cell': dataclasses.asdict(unit.cell),
          'seeds': [protocol.seed + s for s in unit.seed_indices],
          'first': unit.first, 'count': unit.count,
          'num_steps': protocol.train_configs[unit.cell].train.num_steps,
          'estimated_seconds': round(
              estimate_seconds(protocol, unit.cell, unit.count), 1)}


def unit_of_entry(entry: Mapping[str, Any]) -> Unit:
  """The unit a ledger entry describes."""
  return Unit(grid.Cell(**entry['cell']), int(entry['first']),
              int(entry['count']))


def read_ledger(path: str | None) -> dict[str, Any] | None:
  """The ledger at ``path`` (None: no such file or no path).

  Raises:
    ValueError: a torn or malformed ledger (names the file).
  """
  if not path or not os.path.exists(path):
    return None
  ledger = workdir_lib.read_json(path)
  if not isinstance(ledger, dict) or not isinstance(
      ledger.get('units', None), dict):
    raise errors.InvalidInputError(f'{path} is not a ledger (no "units" '
                                   'mapping); restore it from the repository')
  return ledger


def merged_ledger(protocol: protocol_lib.Protocol,
                  ledger: Mapping[str, Any] | None) -> dict[str, Any]:
  """``ledger`` with pending entries for the cells it does not cover yet, in
  ``plan_units`` order (a new ledger when None).

  Raises:
    ValueError: a ledger of another protocol.
  """
  ledger = dict(ledger or {'protocol': protocol.name, 'units': {}})
  if ledger.get('protocol', None) != protocol.name:
    raise errors.InvalidInputError(
        f'the ledger is of protocol {ledger.get("protocol")!r}, the config '
        f'of {protocol.name!r}')
  units = dict(ledger['units'])
  covered = {_cell_key(e['cell']) for e in units.values()}
  for unit in plan_units(protocol):
    if _cell_key(dataclasses.asdict(unit.cell)) not in covered:
      units[unit.id] = unit_entry(unit, protocol)
  ledger['units'] = units
  return ledger


def _cell_key(cell: Mapping[str, str]) -> tuple[str, str, str]:
  return cell['dataset'], cell['variant'], cell['model']


def pending_units(ledger: Mapping[str, Any]) -> list[Unit]:
  """The units of ``ledger`` not done, in ledger order."""
  return [unit_of_entry(e) for e in ledger['units'].values()
          if e.get('state', PENDING) != DONE]


def write_ledger(path: str, ledger: Mapping[str, Any]) -> None:
  """Writes the ledger atomically."""
  files.write_json(path, ledger)
