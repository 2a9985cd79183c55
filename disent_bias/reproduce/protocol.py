"""A reproduction config parsed once: its cells, their train configs, its axis.

``parse(config)`` is where a reproduction config (``disent_bias/configs/
reproduce.py``) is read: it expands the grid and the sweep (``grid``),
resolves and validates every cell's train config, and keeps what the rest of
the reproduction reads (labels, table metrics, the config as written to
disk). The driver, cells, shards, sweep, units, job and ingest work from the
``Protocol`` it returns and never re-derive a cell's config or the sweep
axis from the raw config.
"""

from __future__ import annotations

import copy
import dataclasses
import types
from typing import Any, Mapping

import ml_collections

from disent_bias.reproduce import files
from disent_bias.reproduce import grid
from disent_bias.reproduce import tables
from disent_bias.utils import errors


@dataclasses.dataclass(frozen=True)
class Protocol:
  """A parsed reproduction config.

  Attributes:
    config: the reproduction config itself (its ``analysis`` and ``job``
      sections are read from it).
    config_json: ``config`` as the JSON written to ``config.json`` and
      ``results.json`` (and compared with the stored grid).
    name: the protocol's name (None when unnamed).
    description: the tables' title ('' when none).
    seed: seed of a cell's first seed (seed ``s`` is ``seed + s``).
    num_seeds: seeds per cell.
    datasets, variants, models: the grid's axes, in table order.
    table_metrics: the scores tabulated and plotted.
    cells: every cell of the grid (all shards'), in run order.
    train_configs: each cell's resolved and validated train config (read
      only: ``train_config`` gives a copy to change).
    sweep: the sweep axis (None without a sweep).
  """
  config: ml_collections.ConfigDict
  config_json: Mapping[str, Any]
  name: str | None
  description: str
  seed: int
  num_seeds: int
  datasets: tuple[str, ...]
  variants: tuple[str, ...]
  models: tuple[str, ...]
  table_metrics: tuple[str, ...]
  cells: tuple[grid.Cell, ...]
  train_configs: Mapping[grid.Cell, ml_collections.ConfigDict]
  sweep: grid.SweepAxis | None

  def train_config(self, cell: grid.Cell) -> ml_collections.ConfigDict:
    """A copy of ``cell``'s train config, free to change or hand to a
    trainer."""
    return copy.deepcopy(self.train_configs[cell])

  def label(self, key: str) -> str:
    """Table / plot label of a model, dataset or score (``config.display``)."""
    return tables.display(self.config, key)


def parse(config: ml_collections.ConfigDict) -> Protocol:
  """The ``Protocol`` of a reproduction config; every cell validated.

  Raises:
    ValueError: an empty or duplicated axis, a bad ``dataset_models`` or a
      bad sweep (marked as a user error, ``errors.user_input``).
    errors.InvalidInputError: a cell whose train config is invalid (the
      first, with the reason), before anything is trained or written.
  """
  with errors.user_input():
    axis = grid.sweep_axis(config)
    cells = tuple(grid.cross_sweep(axis, grid.grid_cells(config)))
    train_configs = {cell: grid.resolved_cell_config(config, cell)
                     for cell in cells}
  return Protocol(
      config=config, config_json=files.config_json(config),
      name=config.get('name', None),
      description=config.get('description', None) or '',
      seed=config.seed, num_seeds=config.num_seeds,
      datasets=tuple(config.datasets), variants=tuple(config.variants),
      models=tuple(config.models),
      table_metrics=tuple(config.table_metrics), cells=cells,
      train_configs=types.MappingProxyType(train_configs), sweep=axis)
