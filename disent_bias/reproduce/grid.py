"""The grid of a reproduction config: its cells and their train configs.

A cell is one dataset variant x model (all seeds at once); a sweep
(``config.sweep``) crosses the cells with the values of one train-config
field. A cell's train config is the base train config that the reproduction
config carries (``config.base_train``) with, in this order, the
protocol-wide overrides, the dataset's, the model's and the dataset-model
pair's, the grid coordinates and the sweep value (``cell_config``;
``resolved_cell_config`` validates it). ``protocol.parse`` is the one caller
of these: everything downstream works from its ``Protocol``.
``grid_changes`` says how a grid differs from a stored one.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from typing import Any, Mapping, Sequence

import ml_collections

from disent_bias.training import configuration
from disent_bias.utils import errors
from disent_bias.utils import workdir as workdir_lib

# The axes of a grid, and the other fields of a reproduction config that
# decide which cells and seeds its table holds.
AXES = ('datasets', 'variants', 'models')
GRID_FIELDS = ('num_seeds', 'dataset_models', 'sweep')


@dataclasses.dataclass(frozen=True)
class Cell:
  """One grid point: a dataset variant and a model (all seeds at once)."""
  dataset: str
  variant: str
  model: str

  @property
  def path(self) -> str:
    """Workdir relative to the reproduction directory."""
    return os.path.join('cells', self.dataset, self.variant, self.model)

  def __str__(self) -> str:
    return f'{self.model} on {self.dataset}/{self.variant}'


def format_value(value: Any) -> str:
  """A sweep value as written in paths and tables (floats with ``:g``)."""
  return f'{value:g}' if isinstance(value, float) else str(value)


@dataclasses.dataclass(frozen=True)
class SweepCell(Cell):
  """A grid point at one value of the sweep axis (``config.sweep``)."""
  field: str = ''
  value: Any = None

  @property
  def path(self) -> str:
    """``cells/<field>=<value>/<dataset>/<variant>/<model>``."""
    return os.path.join('cells', f'{self.field}={format_value(self.value)}',
                        self.dataset, self.variant, self.model)

  def __str__(self) -> str:
    return f'{super().__str__()} at {self.field}={format_value(self.value)}'


def as_dict(value: Any) -> dict:
  """A ConfigDict, mapping or None as a plain dict ({} for None)."""
  if value is None:
    return {}
  if isinstance(value, ml_collections.ConfigDict):
    return value.to_dict()
  return dict(value)


def grid_cells(config: ml_collections.ConfigDict) -> list[Cell]:
  """The unswept cells of a reproduction config, dataset-major then variant,
  model.

  ``config.dataset_models[d]`` (optional) restricts dataset ``d`` to some of
  the models. Cells of one dataset variant are consecutive, so its analysis
  runs once before them.

  Raises:
    ValueError: an empty axis or a duplicated entry.
  """
  axes = {axis: list(config[axis]) for axis in AXES}
  for axis, values in axes.items():
    if not values:
      raise ValueError(f'reproduction config: {axis} is empty')
    if len(set(values)) != len(values):
      raise ValueError(f'reproduction config: duplicated {axis}: {values}')
  subsets = as_dict(config.get('dataset_models', None))
  for dataset, models in subsets.items():
    unknown = set(models) - set(axes['models'])
    if dataset not in axes['datasets'] or unknown:
      raise ValueError(
          f'reproduction config: dataset_models[{dataset!r}] = {models} must '
          f'name a dataset of {axes["datasets"]} and models of '
          f'{axes["models"]}')
  return [Cell(d, v, m) for d in axes['datasets'] for v in axes['variants']
          for m in axes['models'] if m in subsets.get(d, axes['models'])]


def expand_grid(config: ml_collections.ConfigDict) -> list[Cell]:
  """All cells of a reproduction config: ``grid_cells`` crossed with its
  sweep (``cross_sweep``).

  Raises:
    ValueError: an empty axis, a duplicated entry or a bad sweep.
  """
  return cross_sweep(sweep_axis(config), grid_cells(config))


@dataclasses.dataclass(frozen=True)
class SweepAxis:
  """The swept train-config field, its values, and the variants that train
  once and stand at ``baseline`` on the axis."""
  field: str
  values: tuple[Any, ...]
  unswept_variants: tuple[str, ...]
  baseline: Any

  def as_dict(self) -> dict[str, Any]:
    """As written to ``results.json`` (``sweep``)."""
    return {'field': self.field, 'values': list(self.values),
            'unswept_variants': self.unswept_variants,
            'baseline': self.baseline}


def sweep_axis(config: ml_collections.ConfigDict) -> SweepAxis | None:
  """The sweep of a reproduction config, None without one.

  ``config.sweep.field`` is a dotted train-config field (``data.epsilon``,
  ``model.hparams.beta``); an empty field means no sweep. The unswept
  variants train once and stand at ``baseline`` on the axis, so they need
  one (a sweep without unswept variants needs none).

  Raises:
    ValueError: a field without values, duplicated values, or unswept
      variants without a baseline value or with one among the values.
  """
  sweep = config.get('sweep', None)
  if sweep is None or not sweep.get('field', ''):
    return None
  values = list(sweep.points)
  where = f'reproduction config, sweep.field={sweep.field!r}'
  if not values or len(set(values)) != len(values):
    raise ValueError(f'{where}: sweep.points must be distinct and non-empty, '
                     f'got {values}')
  unswept = tuple(sweep.get('unswept_variants', ()))
  baseline = sweep.get('baseline', None)
  if unswept and baseline is None:
    raise ValueError(f'{where}: sweep.unswept_variants {unswept} need '
                     'sweep.baseline, the axis value they stand at')
  if unswept and baseline in values:
    raise ValueError(f'{where}: sweep.baseline {baseline!r} (of the unswept '
                     f'variants {unswept}) is one of sweep.points {values}')
  return SweepAxis(sweep.field, tuple(values), unswept, baseline)


def cross_sweep(axis: SweepAxis | None, cells: Sequence[Cell]) -> list[Cell]:
  """``cells`` x the sweep values, value-major (``cells`` without a sweep).

  Cells of ``axis.unswept_variants`` are kept once, unswept (for
  ``data.epsilon`` the original variant has no eps: it is the curve's eps 0).
  """
  if axis is None:
    return list(cells)
  unswept = [c for c in cells if c.variant in axis.unswept_variants]
  swept = [SweepCell(c.dataset, c.variant, c.model, axis.field, value)
           for value in axis.values for c in cells
           if c.variant not in axis.unswept_variants]
  return unswept + swept


def apply_overrides(config: ml_collections.ConfigDict,
                    overrides: Mapping[str, Any], where: str = '') -> None:
  """Merges nested ``overrides`` into ``config`` in place.

  Only existing fields may be set, so a typo in a reproduction config fails
  instead of being ignored. A mapping value merges into a sub-config; any
  other value replaces the field (ConfigDict's type checks apply).

  Raises:
    ValueError: a key that the config does not have.
  """
  for key, value in as_dict(overrides).items():
    name = f'{where}.{key}' if where else key
    if key not in config:
      valid = ', '.join(sorted(config.keys()))
      raise ValueError(f'override {name!r}: no such config field; valid at '
                       f'this level: {valid}')
    current = config[key]
    if isinstance(value, Mapping) and isinstance(
        current, (ml_collections.ConfigDict, Mapping)):
      if isinstance(current, ml_collections.ConfigDict):
        apply_overrides(current, value, name)
      else:
        config[key] = {**current, **value}
    else:
      config[key] = tuple(value) if isinstance(value, list) else value


def apply_sweep(train_config: ml_collections.ConfigDict, cell: Cell) -> None:
  """Sets the sweep field of a ``SweepCell``'s train config (in place).

  Raises:
    ValueError: a field the train config does not have.
  """
  if not isinstance(cell, SweepCell):
    return
  nested: Any = cell.value
  for key in reversed(cell.field.split('.')):
    nested = {key: nested}
  apply_overrides(train_config, nested)


def base_train_config(config: ml_collections.ConfigDict
                      ) -> ml_collections.ConfigDict:
  """A fresh, unlocked copy of ``config.base_train``, every cell's start.

  A copy, so that one cell's overrides reach neither another cell nor the
  reproduction config.

  Raises:
    ValueError: a reproduction config without a base train config.
  """
  base = config.get('base_train', None)
  if not isinstance(base, ml_collections.ConfigDict):
    raise ValueError(
        'reproduction config: base_train must be the base train config (a '
        'ConfigDict such as disent_bias/configs/default.py get_config()), '
        f'got {type(base).__name__}')
  train_config = copy.deepcopy(base)
  train_config.unlock()
  return train_config


def overrides_at(config: ml_collections.ConfigDict, field: str,
                 *keys: str) -> dict:
  """``config[field][keys[0]][keys[1]]...`` as a dict, {} where absent."""
  value = as_dict(config.get(field, None))
  for key in keys:
    value = as_dict(value.get(key, None))
  return value


def cell_config(config: ml_collections.ConfigDict,
                cell: Cell) -> ml_collections.ConfigDict:
  """The train config of one cell (see the module docstring for the order)."""
  train_config = base_train_config(config)
  apply_overrides(train_config, overrides_at(config, 'overrides'))
  apply_overrides(train_config,
                  overrides_at(config, 'dataset_overrides', cell.dataset))
  apply_overrides(train_config,
                  overrides_at(config, 'model_overrides', cell.model))
  apply_overrides(train_config, overrides_at(config, 'pair_overrides',
                                             cell.dataset, cell.model))
  train_config.data.name = cell.dataset
  train_config.data.variant = cell.variant
  train_config.model.name = cell.model
  train_config.train.num_seeds = config.num_seeds
  train_config.seed = config.seed
  apply_sweep(train_config, cell)
  return train_config


def resolved_cell_config(config: ml_collections.ConfigDict,
                         cell: Cell) -> ml_collections.ConfigDict:
  """``cell_config``, validated: it must pass
  ``configuration.validate_config`` and give every hyperparameter of its
  model a value, so an unknown model, a bad sweep point or a bad per-model
  field fails before anything is trained or written.

  Raises:
    errors.InvalidInputError: a bad cell, with the reason.
  """
  try:
    train_config = cell_config(config, cell)
    configuration.validate_config(train_config)
    configuration.resolve_hparams(train_config)
  except (ValueError, TypeError) as e:
    raise errors.InvalidInputError(
        f'reproduction config, cell {cell}: {e}; nothing was trained or '
        'written') from e
  return train_config


def _axis_changes(axis: str, old: Sequence[Any], new: Sequence[Any]
                  ) -> list[str]:
  """``'models: dropped pcl'``, ``'... added ae'`` (none when equal)."""
  dropped = [str(v) for v in old if v not in new]
  added = [str(v) for v in new if v not in old]
  return ([f'{axis}: dropped {", ".join(dropped)}'] if dropped else []) + (
      [f'{axis}: added {", ".join(added)}'] if added else [])


def grid_changes(old: Mapping[str, Any], new: Mapping[str, Any]
                 ) -> list[str]:
  """How the grid of reproduction config ``new`` differs from ``old``.

  Both as stored JSON (``files.config_json``). Names the datasets, variants
  and models dropped or added, then the differing ``GRID_FIELDS``.
  """
  changes = []
  for axis in AXES:
    changes += _axis_changes(axis, list(old.get(axis, None) or []),
                             list(new.get(axis, None) or []))
  differences = workdir_lib.config_differences(
      {k: old[k] for k in GRID_FIELDS if k in old},
      {k: new[k] for k in GRID_FIELDS if k in new})
  if differences:
    changes.append(workdir_lib.format_differences(differences))
  return changes
