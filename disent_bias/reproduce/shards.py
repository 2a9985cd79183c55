"""Job-array shards: parts of a grid that run concurrently in one workdir."""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Sequence

from absl import logging

from disent_bias.reproduce import files
from disent_bias.reproduce import grid
from disent_bias.utils import provenance


@dataclasses.dataclass(frozen=True)
class Shard:
  """Part ``index`` of ``count`` of a grid (a job array's task)."""
  index: int
  count: int

  def __post_init__(self):
    if not 0 <= self.index < self.count:
      raise ValueError(f'shard index must be in [0, {self.count}), got '
                       f'{self.index} of {self.count}')


def shard_cells(cells: Sequence[grid.Cell], shard: Shard | None
                ) -> list[grid.Cell]:
  """Cells ``index, index + count, ...`` of the grid: every cell in exactly
  one shard, whatever the order the shards run in."""
  if shard is None:
    return list(cells)
  return list(cells[shard.index::shard.count])


def write_shard(workdir: str, shard: Shard,
                records: Sequence[Mapping[str, Any]],
                timings: Mapping[str, Any]) -> dict[str, Any]:
  """``DIR/shards/<index>_of_<count>.json``: the shard's records."""
  result = {'shard': dataclasses.asdict(shard), 'records': list(records),
            'timings': dict(timings), 'provenance': provenance.provenance()}
  path = os.path.join(workdir, 'shards',
                      f'{shard.index}_of_{shard.count}.json')
  os.makedirs(os.path.dirname(path), exist_ok=True)
  files.write_json(path, result)
  logging.info('shard %d of %d finished: %s; run without --shard to write '
               'the table of the whole grid', shard.index, shard.count, path)
  return result
