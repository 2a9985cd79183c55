"""Reproduction of the paper's table: a grid of training runs, aggregated.

A reproduction config (``experiments/configs/reproduce.py``) describes a grid
of *cells*, one per dataset x variant x model. Each cell is one
``train.train_and_evaluate`` run that trains ``num_seeds`` seeds at once
(``config.train.num_seeds``, vmapped), in its own workdir
``DIR/cells/<dataset>/<variant>/<model>/``. Its train config is the base train
config (``experiments/configs/default.py``) with, in this order, the
protocol-wide overrides, the dataset's, the model's and the dataset-model
pair's, and finally the grid coordinates (``data.name``, ``data.variant``,
``model.name``, ``train.num_seeds``, ``seed``).

Per dataset x variant the dataset-side local PCA analysis (SPEC section 6) runs
once and is written to ``DIR/analysis/<dataset>/<variant>.json``.

Outputs of ``reproduce(config, workdir)``:
- ``DIR/results.json``: one record per cell and seed (model, dataset, variant,
  seed, scores, timings), the mean / sd summary, the analysis summaries;
- ``DIR/table.md``: per metric, a table laid out like SPEC section 1 (rows
  models, columns datasets, cells ``mean (sd)`` original / perturbed / noise);
- ``DIR/bars.png``: grouped bar plot with seed-sd error bars;
- ``DIR/analysis.png``: histograms of the per-point local PCA alignment.

Progress (cells done / total, elapsed, ETA) is logged after every cell.

Sweeps: ``config.sweep.field`` (a dotted train-config field such as
``data.epsilon`` or ``model.hparams.beta``) crossed with the grid at
``config.sweep.points``; each cell and value has its own workdir
``DIR/cells/<field>=<value>/<dataset>/<variant>/<model>/``, and the outputs are
``table.md`` (one column per value) and ``sweep.png`` (metric against the
value with seed-sd error bars). Shards: ``reproduce(..., shard=Shard(i, n))``
runs cells ``i, i + n, ...`` of the grid in the same workdir (one task of a
job array); a run without a shard then skips the finished cells and writes
the outputs of the whole grid.

A cell whose ``results.json`` is complete is skipped on rerun, so a killed
reproduction continues where it stopped; an interrupted cell resumes from its
last checkpoint (``train_and_evaluate`` resumes), and a cell whose
``results.json`` is torn, empty or short of seeds runs again from its final
checkpoint (re-evaluated, with a warning naming the file). A rerun whose
config differs for a cell already started is refused before anything is
written (docs/workdir.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import math
import os
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

from absl import logging
from matplotlib import figure as mpl_figure
import ml_collections
import numpy as np

from disent_bias import data as data_lib
from disent_bias import logging_utils
from disent_bias import progress as progress_lib
from disent_bias import provenance
from disent_bias import stats
from disent_bias import train
from disent_bias import workdir as workdir_lib
from disent_bias.analysis import dataset as dataset_analysis

# Keys of a cell's ``results.json['metrics']`` that are bookkeeping, not
# scores; timings are named '<kind>_s.<metric>' (seconds).
_NON_SCORE_KEYS = ('seed', 'num_train', 'num_test', 'metrics')
# Mechanism readouts (``analysis.model_summary`` at the final eval point,
# ``results.json['eval']``): score name -> eval key. The decoder's column
# orthogonality on the active latents, how many latents are active, and
# whether the model is in the polarized regime (1 / 0 per seed, so the cell
# mean is the polarized fraction).
MECHANISM_KEYS = {
    'mechanism.decoder_dto': 'eval/decoder_dto_median',
    'mechanism.active_latents': 'eval/active_latents',
    'mechanism.polarized': 'eval/polarized',
}


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


def _as_dict(value) -> dict:
  if value is None:
    return {}
  if isinstance(value, ml_collections.ConfigDict):
    return value.to_dict()
  return dict(value)


def expand_grid(config: ml_collections.ConfigDict) -> list[Cell]:
  """All cells of a reproduction config, dataset-major then variant, model.

  ``config.dataset_models[d]`` (optional) restricts dataset ``d`` to some of
  the models. Cells of one dataset variant are consecutive, so its analysis
  runs once before them.

  Raises:
    ValueError: an empty axis or a duplicated entry.
  """
  axes = {axis: list(config[axis])
          for axis in ('datasets', 'variants', 'models')}
  for axis, values in axes.items():
    if not values:
      raise ValueError(f'reproduction config: {axis} is empty')
    if len(set(values)) != len(values):
      raise ValueError(f'reproduction config: duplicated {axis}: {values}')
  subsets = _as_dict(config.get('dataset_models', None))
  for dataset, models in subsets.items():
    unknown = set(models) - set(axes['models'])
    if dataset not in axes['datasets'] or unknown:
      raise ValueError(
          f'reproduction config: dataset_models[{dataset!r}] = {models} must '
          f'name a dataset of {axes["datasets"]} and models of '
          f'{axes["models"]}')
  cells = [Cell(d, v, m) for d in axes['datasets'] for v in axes['variants']
           for m in axes['models'] if m in subsets.get(d, axes['models'])]
  return cross_sweep(config, cells)


def apply_overrides(config: ml_collections.ConfigDict,
                    overrides: Mapping[str, Any], where: str = '') -> None:
  """Merges nested ``overrides`` into ``config`` in place.

  Only existing fields may be set, so a typo in a reproduction config fails
  instead of being ignored. A mapping value merges into a sub-config; any
  other value replaces the field (ConfigDict's type checks apply).

  Raises:
    ValueError: a key that the config does not have.
  """
  for key, value in _as_dict(overrides).items():
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
        merged = dict(current)
        merged.update(value)
        config[key] = merged
    else:
      config[key] = tuple(value) if isinstance(value, list) else value


def base_train_config(config: ml_collections.ConfigDict
                      ) -> ml_collections.ConfigDict:
  """The train config that every cell starts from."""
  module = importlib.import_module(config.train_config)
  return module.get_config(config.get('train_config_arg', None) or None)


def _overrides(config, field: str, *keys: str) -> dict:
  """``config[field][keys[0]][keys[1]]...`` as a dict, {} where absent."""
  value = _as_dict(config.get(field, None))
  for key in keys:
    value = _as_dict(value.get(key, None))
  return value


def cell_config(config: ml_collections.ConfigDict,
                cell: Cell) -> ml_collections.ConfigDict:
  """The train config of one cell (see the module docstring for the order)."""
  train_config = base_train_config(config)
  apply_overrides(train_config, _overrides(config, 'overrides'))
  apply_overrides(train_config,
                  _overrides(config, 'dataset_overrides', cell.dataset))
  apply_overrides(train_config,
                  _overrides(config, 'model_overrides', cell.model))
  apply_overrides(train_config, _overrides(config, 'pair_overrides',
                                           cell.dataset, cell.model))
  train_config.data.name = cell.dataset
  train_config.data.variant = cell.variant
  train_config.model.name = cell.model
  train_config.train.num_seeds = config.num_seeds
  train_config.seed = config.seed
  apply_sweep(train_config, cell)
  return train_config


def _config_json(config: ml_collections.ConfigDict) -> dict:
  return json.loads(config.to_json_best_effort())


def _write_json(path: str, value: Any) -> None:
  """Writes JSON atomically (a killed write leaves the old file or none)."""
  workdir_lib.write_json(path, logging_utils.to_jsonable(value))


def _cell_record(cell: Cell, train_config) -> dict:
  return {'cell': dataclasses.asdict(cell),
          'config': _config_json(train_config)}


def _cell_mismatch(workdir: str, cell: Cell, record: dict) -> str | None:
  """Why ``workdir/cell.json`` refuses ``record`` (None: it agrees or is
  absent or torn, with a warning naming it)."""
  old = workdir_lib.read_json_or_none(os.path.join(workdir, 'cell.json'))
  if old is None or old == record:
    return None
  differences = workdir_lib.config_differences(old, record)
  if not differences:  # Only fields added since, at their old values.
    return None
  differences = workdir_lib.format_differences(differences)
  return (f'{workdir} was created by a different config for {cell} '
          f'({differences}); use a fresh --workdir for a different protocol, '
          'or delete that cell directory to retrain it')


def _check_cell_config(workdir: str, cell: Cell, train_config) -> None:
  """Records the cell's config; refuses a workdir made by a different one."""
  record = _cell_record(cell, train_config)
  mismatch = _cell_mismatch(workdir, cell, record)
  if mismatch:
    raise ValueError(mismatch)
  if workdir_lib.read_json_or_none(os.path.join(workdir, 'cell.json')) is None:
    _write_json(os.path.join(workdir, 'cell.json'), record)


def _check_cells(config, cells: Sequence[Cell], workdir: str) -> None:
  """Refuses a rerun whose config differs for a cell already started, before
  anything is written."""
  for cell in cells:
    cell_dir = os.path.join(workdir, cell.path)
    if os.path.exists(os.path.join(cell_dir, 'cell.json')):
      mismatch = _cell_mismatch(cell_dir, cell,
                                _cell_record(cell, cell_config(config, cell)))
      if mismatch:
        raise ValueError(mismatch)


def _finished_results(path: str, num_seeds: int) -> dict | None:
  """A cell's ``results.json`` if it is complete; None (with a warning
  naming the file) if it is torn, empty or lacks seeds, so the cell runs
  again (from its checkpoints)."""
  results = workdir_lib.read_json_or_none(path)
  if results is None:
    return None
  seeds = results.get('seeds', None) if isinstance(results, dict) else None
  if not isinstance(seeds, list) or len(seeds) != num_seeds or (
      'metrics' not in results):
    logging.warning('%s is incomplete (seeds %s, expected %d, and metrics); '
                    're-evaluating the cell', path, seeds, num_seeds)
    return None
  return results


# ----------------------------------------------------------------------------
# Per-seed records.


def _is_score(key: str, value: Any) -> bool:
  return (isinstance(value, (int, float)) and not isinstance(value, bool)
          and key not in _NON_SCORE_KEYS
          and not key.split('.')[0].endswith('_s'))


def _scores_per_seed(metrics: Mapping[str, Any], num_seeds: int,
                     cell: Cell) -> list[dict[str, float]]:
  """Per-seed scores from ``results.json['metrics']``.

  Uses the ``per_seed`` list of score dicts when present, else the
  ``<name>_per_seed`` lists next to each mean (a single seed: the means).
  """
  per_seed = metrics.get('per_seed', None)
  if isinstance(per_seed, list) and per_seed and isinstance(per_seed[0],
                                                            Mapping):
    rows = [{k: float(v) for k, v in row.items() if _is_score(k, v)}
            for row in per_seed]
  else:
    rows = [dict() for _ in range(num_seeds)]
    for key, value in metrics.items():
      if (key.endswith('_sd') or key.endswith('_per_seed')
          or not _is_score(key, value)):
        continue
      values = metrics.get(key + '_per_seed', None)
      if values is None:
        values = [value] if num_seeds == 1 else None
      if values is None:
        raise ValueError(f'results for {cell}: {key!r} has no per-seed '
                         f'values for {num_seeds} seeds')
      for row, v in zip(rows, values):
        row[key] = float(v)
  if len(rows) != num_seeds:
    raise ValueError(f'results for {cell}: scores for {len(rows)} seeds, '
                     f'expected {num_seeds}')
  return rows


def mechanism_per_seed(results: Mapping[str, Any], num_seeds: int
                       ) -> list[dict[str, float]]:
  """The ``MECHANISM_KEYS`` readouts of each seed ({} per seed if absent)."""
  evals = results.get('eval', {}) or {}
  rows = [dict() for _ in range(num_seeds)]
  for name, key in MECHANISM_KEYS.items():
    values = evals.get(key + '_per_seed', None)
    if values is None and key in evals and num_seeds == 1:
      values = [evals[key]]
    if values is None or len(values) != num_seeds:
      continue
    for row, value in zip(rows, values):
      row[name] = float(value)
  return rows


def seed_records(results: Mapping[str, Any], cell: Cell,
                 wall_seconds: float | None = None,
                 cpu_seconds: float | None = None) -> list[dict[str, Any]]:
  """Splits a cell's ``results.json`` into one record per seed.

  Args:
    results: the dict written by ``train.train_and_evaluate`` (``seeds``,
      ``metrics``, ``timings``, ``num_steps``).
    cell: the grid point.
    wall_seconds: wall time of the cell as seen by the driver (None when
      unknown).
    cpu_seconds: CPU time of the driver process during the cell (user +
      system, all threads); unlike the wall time it hardly depends on other
      load on the machine.

  Returns:
    ``[{'model', 'dataset', 'variant', 'seed', 'scores', 'timings'}, ...]``;
    timings are the cell's (shared by its vmapped seeds).
  """
  seeds = list(results.get('seeds', [0]))
  rows = _scores_per_seed(results.get('metrics', {}) or {}, len(seeds), cell)
  for row, readout in zip(rows, mechanism_per_seed(results, len(seeds))):
    row.update(readout)
  timings = dict(results.get('timings', {}) or {})
  timings['cell_wall_seconds'] = wall_seconds
  timings['cell_cpu_seconds'] = cpu_seconds
  timings['num_steps'] = results.get('num_steps', None)
  return [{'model': cell.model, 'dataset': cell.dataset,
           'variant': cell.variant, 'seed': int(seed), 'scores': scores,
           'timings': timings}
          for seed, scores in zip(seeds, rows)]


def summarize(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
  """Mean and sd over seeds per model, dataset, variant, score.

  The sd is ``stats.seed_sd``, the sample sd (ddof=1).

  Returns:
    ``[{'model', 'dataset', 'variant', 'metric', 'mean', 'sd', 'n'}, ...]``;
    ``sd`` is 0 for a single seed. Non-finite scores are dropped (``n`` counts
    the finite ones).
  """
  groups: dict[tuple[str, str, str, str], list[float]] = {}
  for r in records:
    for metric, value in r['scores'].items():
      key = (r['model'], r['dataset'], r['variant'], metric)
      groups.setdefault(key, []).append(value)
  out = []
  for (model, dataset, variant, metric), values in groups.items():
    v = np.asarray([x for x in values if math.isfinite(x)], np.float64)
    mean = float(v.mean()) if v.size else float('nan')
    sd = stats.seed_sd(v)
    out.append(dict(model=model, dataset=dataset, variant=variant,
                    metric=metric, mean=mean, sd=sd, n=int(v.size)))
  return out


# ----------------------------------------------------------------------------
# Table and plot.


def _display(config: ml_collections.ConfigDict, key: str) -> str:
  """Label of a model, dataset or score (config keys write '.' as '_')."""
  labels = _as_dict(config.get('display', None))
  return labels.get(key.replace('.', '_'), None) or key


def _lookup(summary, metric):
  return {(s['model'], s['dataset'], s['variant']): s for s in summary
          if s['metric'] == metric}


def format_table(summary: Sequence[Mapping[str, Any]], metric: str, *,
                 models: Sequence[str], datasets: Sequence[str],
                 variants: Sequence[str],
                 model_names: Mapping[str, str] | None = None,
                 dataset_names: Mapping[str, str] | None = None,
                 digits: int = 2) -> str:
  """One markdown table like SPEC section 1's.

  Rows are models, one column per dataset, each cell
  ``mean (sd) / mean (sd) / ...`` over ``variants`` (missing: ``-``).
  """
  model_names = model_names or {}
  dataset_names = dataset_names or {}
  table = _lookup(summary, metric)

  def fmt(s):
    if s is None or not math.isfinite(s['mean']):
      return '-'
    return f'{s["mean"]:.{digits}f} ({s["sd"]:.{digits}f})'

  header = '| model | ' + ' | '.join(dataset_names.get(d, d)
                                     for d in datasets) + ' |'
  lines = [header, '|---' * (len(datasets) + 1) + '|']
  for m in models:
    cells = [' / '.join(fmt(table.get((m, d, v))) for v in variants)
             for d in datasets]
    lines.append(f'| {model_names.get(m, m)} | ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines)


def plot_bars(summary: Sequence[Mapping[str, Any]], metrics: Sequence[str],
              path: str, *, models: Sequence[str], datasets: Sequence[str],
              variants: Sequence[str],
              model_names: Mapping[str, str] | None = None,
              dataset_names: Mapping[str, str] | None = None,
              metric_names: Mapping[str, str] | None = None) -> str:
  """Grouped bars (one group per model, one bar per variant) with sd bars.

  One subplot per metric (rows) and dataset (columns). Returns ``path``.
  """
  model_names = model_names or {}
  dataset_names = dataset_names or {}
  metric_names = metric_names or {}
  rows, cols = len(metrics), len(datasets)
  # A pyplot-free Figure: no backend, nothing shown in notebooks.
  fig = mpl_figure.Figure(figsize=(max(4.0, 0.8 * len(models)) * cols,
                                   3.0 * rows))
  axes = fig.subplots(rows, cols, squeeze=False)
  x = np.arange(len(models))
  width = 0.8 / len(variants)
  for i, metric in enumerate(metrics):
    table = _lookup(summary, metric)
    for j, d in enumerate(datasets):
      ax = axes[i, j]
      for k, v in enumerate(variants):
        stats = [table.get((m, d, v)) for m in models]
        means = [s['mean'] if s else np.nan for s in stats]
        sds = [s['sd'] if s else 0.0 for s in stats]
        ax.bar(x + (k - (len(variants) - 1) / 2) * width, means, width,
               yerr=sds, capsize=2, label=v)
      ax.set_xticks(x)
      ax.set_xticklabels([model_names.get(m, m) for m in models],
                         rotation=30, ha='right', fontsize=8)
      ax.set_title(f'{dataset_names.get(d, d)}: '
                   f'{metric_names.get(metric, metric)}', fontsize=9)
      ax.set_ylim(bottom=0.0)
      if i == 0 and j == 0:
        ax.legend(fontsize=7)
  fig.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, dpi=100)
  return path


# ----------------------------------------------------------------------------
# Dataset analysis.


def analyze_dataset(dataset, *, num_points: int, seed: int,
                    radius: int = 1) -> dict[str, Any]:
  """``analysis.local_alignment`` at ``num_points`` sampled grid points.

  Returns:
    The JSON-ready scalars and quantile summaries of ``local_alignment``
    (``median_dto``, ``median_offdiag_mass``, ...), ``seed``, and the
    per-point scores as lists under ``<score>_values`` (for histograms).
  """
  factors = dataset_analysis.sample_points(dataset, num_points, seed)
  result = dataset_analysis.local_alignment(dataset, factors, radius=radius)
  per_point = result.pop('per_point', {})
  out = logging_utils.to_jsonable(result)
  out['seed'] = int(seed)
  for name, values in per_point.items():
    values = np.asarray(values, np.float64)
    if values.ndim == 1:
      out[f'{name}_values'] = values.tolist()
  return out


def _analysis_path(workdir: str, dataset: str, variant: str) -> str:
  return os.path.join(workdir, 'analysis', dataset, f'{variant}.json')


def _run_analysis(config, cell: Cell, workdir: str) -> dict[str, Any]:
  """Dataset analysis of ``cell``'s dataset variant (cached on disk)."""
  path = _analysis_path(workdir, cell.dataset, cell.variant)
  cached = workdir_lib.read_json_or_none(path)
  if cached is not None:
    return cached
  start = time.time()
  dataset = data_lib.load_config(cell_config(config, cell).data)
  result = analyze_dataset(dataset, num_points=config.analysis.num_points,
                           seed=config.analysis.seed,
                           radius=config.analysis.radius)
  result.update(dataset=cell.dataset, variant=cell.variant,
                epsilon=dataset.epsilon, seconds=time.time() - start)
  _write_json(path, result)
  return result


def _analysis_summary(records: Iterable[Mapping[str, Any]]
                      ) -> list[dict[str, Any]]:
  """The per-variant scalars of each analysis (per-point values dropped)."""
  return [{k: v for k, v in r.items() if not k.endswith('_values')}
          for r in records]


def format_analysis_table(analyses: Sequence[Mapping[str, Any]],
                          scores: Sequence[str] = ('dto', 'offdiag_mass'),
                          digits: int = 3) -> str:
  """Markdown: one row per dataset variant, median of each alignment score."""
  header = '| dataset | variant | eps | points | ' + ' | '.join(
      f'median {s}' for s in scores) + ' |'
  lines = [header, '|---' * (len(scores) + 4) + '|']
  for a in analyses:
    values = ' | '.join(
        f'{a["median_" + s]:.{digits}f}' if 'median_' + s in a else '-'
        for s in scores)
    lines.append(f'| {a["dataset"]} | {a["variant"]} | {a["epsilon"]:g} | '
                 f'{a["num_points"]} | {values} |')
  return '\n'.join(lines)


def plot_analysis(analyses: Sequence[Mapping[str, Any]], path: str,
                  score: str = 'dto') -> str:
  """Histogram of a per-point alignment score, one panel per dataset."""
  datasets = list(dict.fromkeys(a['dataset'] for a in analyses))
  fig = mpl_figure.Figure(figsize=(4.0 * len(datasets), 3.0))
  axes = fig.subplots(1, len(datasets), squeeze=False)
  for ax, d in zip(axes[0], datasets):
    for a in analyses:
      if a['dataset'] == d and f'{score}_values' in a:
        ax.hist(a[f'{score}_values'], bins=30, alpha=0.5, label=a['variant'])
    ax.set_title(f'{d}: local PCA {score}', fontsize=9)
    ax.set_xlabel(score)
    ax.legend(fontsize=7)
  fig.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, dpi=100)
  return path


# ----------------------------------------------------------------------------
# The driver.


class _Progress:
  """Cells done / total, elapsed time and ETA across the grid.

  The ETA assumes each remaining cell costs the mean of the cells trained in
  this process on the same dataset (else over all datasets).
  """

  def __init__(self, cells: Sequence[Cell]):
    self.total = len(cells)
    self.remaining = list(cells)
    self.done = 0
    self.start = time.time()
    self.seconds: dict[str, list[float]] = {}

  def finish(self, cell: Cell, seconds: float | None) -> str:
    self.done += 1
    self.remaining.remove(cell)
    if seconds is not None:
      self.seconds.setdefault(cell.dataset, []).append(seconds)
    return (f'cells {self.done}/{self.total}  elapsed '
            f'{progress_lib.format_seconds(time.time() - self.start)}  ETA '
            f'{progress_lib.format_seconds(self.eta())}')

  def eta(self) -> float | None:
    every = [s for v in self.seconds.values() for s in v]
    if not self.remaining:
      return 0.0
    if not every:
      return None
    total = 0.0
    for cell in self.remaining:
      own = self.seconds.get(cell.dataset)
      total += float(np.mean(own if own else every))
    return total


def run_cell(config: ml_collections.ConfigDict, cell: Cell, workdir: str,
             train_fn: Callable | None = None
             ) -> tuple[list[dict[str, Any]], bool]:
  """Trains and scores one cell unless its ``results.json`` exists.

  Args:
    config: the reproduction config.
    cell: the grid point.
    workdir: the reproduction directory (the cell uses ``workdir/cell.path``).
    train_fn: ``train_and_evaluate``-like function (default
      ``disent_bias.train.train_and_evaluate``).

  Returns:
    ``(records, trained)``: one record per seed, and False when the cell was
    already finished.
  """
  cell_dir = os.path.join(workdir, cell.path)
  train_config = cell_config(config, cell)
  os.makedirs(cell_dir, exist_ok=True)
  _check_cell_config(cell_dir, cell, train_config)
  results_path = os.path.join(cell_dir, 'results.json')
  timing_path = os.path.join(cell_dir, 'cell_timing.json')
  finished = _finished_results(results_path, config.num_seeds)
  if finished is not None:
    logging.info('%s: finished earlier, skipped', cell)
    timing = workdir_lib.read_json_or_none(timing_path) or {}
    return seed_records(finished, cell,
                        timing.get('wall_seconds', None),
                        timing.get('cpu_seconds', None)), False
  if train_fn is None:
    train_fn = train.train_and_evaluate
  logging.info('%s: training %d seed(s) in %s', cell, config.num_seeds,
               cell_dir)
  start, cpu_start = time.time(), time.process_time()
  with logging_utils.nested_run():  # One line per cell at the default -v 0.
    results = train_fn(train_config, cell_dir)
  wall, cpu = time.time() - start, time.process_time() - cpu_start
  if _finished_results(results_path, config.num_seeds) is None:
    _write_json(results_path, results)  # A train_fn that does not write it.
  _write_json(timing_path, {'wall_seconds': wall, 'cpu_seconds': cpu})
  return seed_records(results, cell, wall, cpu), True


def write_outputs(config: ml_collections.ConfigDict, workdir: str,
                  records: Sequence[Mapping[str, Any]],
                  analyses: Sequence[Mapping[str, Any]],
                  timings: Mapping[str, Any]) -> dict[str, Any]:
  """``results.json``, ``table.md``, ``bars.png`` and the analysis outputs."""
  cells = expand_grid(config)
  models, datasets = list(config.models), list(config.datasets)
  variants = list(config.variants)
  model_names = {m: _display(config, m) for m in models}
  dataset_names = {d: _display(config, d) for d in datasets}
  summary = summarize(records)
  metrics = list(config.table_metrics)
  results = {
      'protocol': config.get('name', None),
      'num_cells': len(cells),
      'num_seeds': config.num_seeds,
      'records': list(records),
      'summary': summary,
      'analysis': _analysis_summary(analyses),
      'timings': dict(timings),
      'config': _config_json(config),
      'provenance': provenance.provenance(),
  }
  _write_json(os.path.join(workdir, 'results.json'), results)

  seeds = sorted({r['seed'] for r in records})
  parts = [f'# {config.get("description", None) or "Reproduction"}', '',
           f'{len(seeds)} seeds per cell; entries are mean (sd) over seeds '
           f'(sample sd, ddof=1), for the variants '
           f'{" / ".join(variants)}.', '']
  for metric in metrics:
    parts += [f'## {_display(config, metric)}', '',
              format_table(summary, metric, models=models, datasets=datasets,
                           variants=variants, model_names=model_names,
                           dataset_names=dataset_names), '']
  present = {row['metric'] for row in summary}
  mechanism = [m for m in MECHANISM_KEYS if m in present]
  if mechanism:
    parts += ['## Mechanism (final eval point)', '',
              'Decoder Jacobian distance to orthogonality on the active '
              'latents (all latents for AE and PCL; median over points; 0: '
              'orthogonal columns), number of '
              'active latents (mean posterior variance < 0.5) and the '
              'fraction of seeds in the polarized regime '
              '(`disent_bias.analysis.model`).', '']
    for metric in mechanism:
      parts += [f'### {_display(config, metric)}', '',
                format_table(summary, metric, models=models,
                             datasets=datasets, variants=variants,
                             model_names=model_names,
                             dataset_names=dataset_names), '']
  if analyses:
    parts += ['## Dataset local PCA alignment (SPEC section 6)', '',
              'Median over sampled grid points; 0 means the local principal '
              'directions are the factor axes.', '',
              format_analysis_table(analyses), '']
  with open(os.path.join(workdir, 'table.md'), 'w', encoding='utf-8') as f:
    f.write('\n'.join(parts))
  plot_bars(summary, metrics, os.path.join(workdir, 'bars.png'),
            models=models, datasets=datasets, variants=variants,
            model_names=model_names, dataset_names=dataset_names,
            metric_names={m: _display(config, m) for m in metrics})
  if analyses:
    plot_analysis(analyses, os.path.join(workdir, 'analysis.png'))
  return results


def reproduce(config: ml_collections.ConfigDict, workdir: str, *,
              train_fn: Callable | None = None,
              shard: Shard | None = None) -> dict[str, Any]:
  """Runs (or continues) a reproduction grid and writes its outputs.

  Args:
    config: a reproduction config (``experiments/configs/reproduce.py``).
    workdir: output directory; rerunning with the same one skips finished
      cells and resumes interrupted ones.
    train_fn: replaces ``train.train_and_evaluate`` (tests).
    shard: run only this part of the grid (``shard_cells``), e.g. one task
      of a job array; shards share ``workdir`` and write
      ``DIR/shards/<index>_of_<count>.json`` instead of the table. A run
      without a shard afterwards skips their finished cells and writes the
      table of the whole grid.

  Returns:
    The contents of ``DIR/results.json`` (of the shard's file for a shard).
  """
  # Shards run concurrently in one workdir: each cell has its own lock.
  lock = (contextlib.nullcontext() if shard is not None
          else workdir_lib.lock(workdir))
  with lock:
    return _reproduce(config, workdir, train_fn, shard)


def _reproduce(config: ml_collections.ConfigDict, workdir: str,
               train_fn: Callable | None,
               shard: Shard | None = None) -> dict[str, Any]:
  """``reproduce`` in a locked workdir (or for one shard)."""
  start = time.time()
  cells = shard_cells(expand_grid(config), shard)
  _check_cells(config, cells, workdir)
  _write_json(os.path.join(workdir, 'config.json'), _config_json(config))
  logging.info('reproduction %s: %d cells (%d datasets x %d variants x %d '
               'models), %d seed(s) each, in %s', config.get('name', ''),
               len(cells), len(config.datasets), len(config.variants),
               len(config.models), config.num_seeds, workdir)
  progress = _Progress(cells)
  records, analyses, analysed = [], [], set()
  trained_seconds, analysis_seconds = 0.0, 0.0
  for cell in cells:
    if config.analysis.enabled and not isinstance(cell, SweepCell) and (
        cell.dataset, cell.variant) not in analysed:
      tic = time.time()
      analyses.append(_run_analysis(config, cell, workdir))
      analysis_seconds += time.time() - tic
      analysed.add((cell.dataset, cell.variant))
      a = analyses[-1]
      logging.info('analysis %s/%s: median dto %.3f, median offdiag_mass '
                   '%.3f', cell.dataset, cell.variant,
                   a.get('median_dto', float('nan')),
                   a.get('median_offdiag_mass', float('nan')))
    tic = time.time()
    cell_records, trained = run_cell(config, cell, workdir, train_fn)
    seconds = time.time() - tic if trained else None
    if seconds is not None:
      trained_seconds += seconds
    records.extend(tag_sweep(cell_records, cell))
    logging.info('%s done%s; %s', cell,
                 f' in {progress_lib.format_seconds(seconds)}'
                 if trained else ' (skipped)',
                 progress.finish(cell, seconds))
  timings = {'wall_seconds': time.time() - start,
             'train_seconds_this_run': trained_seconds,
             'analysis_seconds_this_run': analysis_seconds,
             'cells_trained_this_run': sum(
                 len(v) for v in progress.seconds.values())}
  if shard is not None:
    return write_shard(workdir, shard, records, timings)
  if sweep_axis(config) is not None:
    results = write_sweep_outputs(config, workdir, records, timings)
  else:
    results = write_outputs(config, workdir, records, analyses, timings)
  logging.info('reproduction finished in %s: %s',
               progress_lib.format_seconds(time.time() - start),
               os.path.join(workdir, 'table.md'))
  return results


# ----------------------------------------------------------------------------
# Sweeps: a hyperparameter axis crossed with the grid.


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


def format_value(value: Any) -> str:
  """A sweep value as written in paths and tables (floats with ``:g``)."""
  return f'{value:g}' if isinstance(value, float) else str(value)


def sweep_axis(config: ml_collections.ConfigDict) -> dict[str, Any] | None:
  """``{'field', 'values', 'unswept_variants', 'baseline'}`` or None.

  ``config.sweep.field`` is a dotted train-config field (``data.epsilon``,
  ``model.hparams.beta``); an empty field means no sweep.

  Raises:
    ValueError: a field without values, or duplicated values.
  """
  sweep = config.get('sweep', None)
  if sweep is None or not sweep.get('field', ''):
    return None
  values = list(sweep.points)
  if not values or len(set(values)) != len(values):
    raise ValueError(f'reproduction config: sweep.points must be distinct and '
                     f'non-empty for sweep.field={sweep.field!r}, got {values}')
  return {'field': sweep.field, 'values': values,
          'unswept_variants': tuple(sweep.get('unswept_variants', ())),
          'baseline': sweep.get('baseline', None)}


def cross_sweep(config: ml_collections.ConfigDict,
                cells: Sequence[Cell]) -> list[Cell]:
  """``cells`` x the sweep values, value-major (``cells`` without a sweep).

  Cells of ``sweep.unswept_variants`` are kept once, unswept (for
  ``data.epsilon`` the original variant has no eps: it is the curve's eps 0).
  """
  axis = sweep_axis(config)
  if axis is None:
    return list(cells)
  unswept = [c for c in cells if c.variant in axis['unswept_variants']]
  swept = [SweepCell(c.dataset, c.variant, c.model, axis['field'], value)
           for value in axis['values'] for c in cells
           if c.variant not in axis['unswept_variants']]
  return unswept + swept


def _nested(field: str, value: Any) -> dict[str, Any]:
  """``'a.b.c', v`` -> ``{'a': {'b': {'c': v}}}``."""
  out: Any = value
  for key in reversed(field.split('.')):
    out = {key: out}
  return out


def apply_sweep(train_config: ml_collections.ConfigDict, cell: Cell) -> None:
  """Sets the sweep field of a ``SweepCell``'s train config (in place).

  Raises:
    ValueError: a field the train config does not have.
  """
  if isinstance(cell, SweepCell):
    apply_overrides(train_config, _nested(cell.field, cell.value))


def tag_sweep(records: Sequence[dict[str, Any]], cell: Cell
              ) -> list[dict[str, Any]]:
  """Adds ``sweep_value`` to the records of a ``SweepCell``."""
  if not isinstance(cell, SweepCell):
    return list(records)
  return [dict(r, sweep_value=cell.value) for r in records]


def summarize_sweep(config: ml_collections.ConfigDict,
                    records: Sequence[Mapping[str, Any]]
                    ) -> list[dict[str, Any]]:
  """``summarize`` per sweep value; rows carry ``sweep_value``.

  Records of the unswept variants get the axis' ``baseline`` value.
  """
  axis = sweep_axis(config)
  groups: dict[Any, list] = {}
  for r in records:
    value = r.get('sweep_value', axis['baseline'])
    groups.setdefault(value, []).append(r)
  return [dict(row, sweep_value=value) for value, group in groups.items()
          for row in summarize(group)]


def _curves(config, summary, metric: str, dataset: str):
  """``{(model, variant): [(x, mean, sd), ...]}`` of one metric and dataset.

  The unswept variants' points (at the baseline) start every swept curve of
  the same model.
  """
  axis = sweep_axis(config)
  rows = [s for s in summary if s['metric'] == metric
          and s['dataset'] == dataset]
  base = {s['model']: s for s in rows
          if s['variant'] in axis['unswept_variants']}
  curves = {}
  for s in sorted(rows, key=lambda s: s['sweep_value']):
    if s['variant'] in axis['unswept_variants']:
      continue
    points = curves.setdefault((s['model'], s['variant']), [])
    if not points and s['model'] in base and axis['baseline'] is not None:
      b = base[s['model']]
      points.append((axis['baseline'], b['mean'], b['sd']))
    points.append((s['sweep_value'], s['mean'], s['sd']))
  return curves


def plot_sweep(config: ml_collections.ConfigDict,
               summary: Sequence[Mapping[str, Any]], path: str) -> str:
  """Metric against the sweep axis, seed-sd error bars; one line per model
  and variant, one panel per metric (rows) and dataset (columns)."""
  axis = sweep_axis(config)
  metrics, datasets = list(config.table_metrics), list(config.datasets)
  fig = mpl_figure.Figure(figsize=(5.0 * len(datasets), 3.5 * len(metrics)))
  axes = fig.subplots(len(metrics), len(datasets), squeeze=False)
  for i, metric in enumerate(metrics):
    for j, dataset in enumerate(datasets):
      ax = axes[i, j]
      for (model, variant), points in _curves(config, summary, metric,
                                               dataset).items():
        x, mean, sd = (np.asarray(v, np.float64) for v in zip(*points))
        ax.errorbar(x, mean, yerr=sd, marker='o', capsize=3,
                    label=f'{_display(config, model)} {variant}')
      ax.set_xlabel(axis['field'])
      ax.set_ylabel(_display(config, metric))
      ax.set_title(_display(config, dataset), fontsize=9)
      ax.legend(fontsize=7)
  fig.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, dpi=100)
  return path


def format_sweep_table(config: ml_collections.ConfigDict,
                       summary: Sequence[Mapping[str, Any]], metric: str,
                       digits: int = 2) -> str:
  """Markdown: rows model x variant, one column per sweep value."""
  axis = sweep_axis(config)
  values = ([axis['baseline']] if axis['unswept_variants']
            and axis['baseline'] is not None else []) + axis['values']
  lines = []
  for dataset in config.datasets:
    curves = _curves(config, summary, metric, dataset)
    header = (f'| {_display(config, dataset)}: model | variant | '
              + ' | '.join(format_value(v) for v in values) + ' |')
    lines += [header, '|---' * (len(values) + 2) + '|']
    for (model, variant), points in curves.items():
      by_x = {x: (m, s) for x, m, s in points}
      cells = [f'{by_x[v][0]:.{digits}f} ({by_x[v][1]:.{digits}f})'
               if v in by_x and math.isfinite(by_x[v][0]) else '-'
               for v in values]
      lines.append(f'| {_display(config, model)} | {variant} | '
                   + ' | '.join(cells) + ' |')
    lines.append('')
  return '\n'.join(lines)


def write_sweep_outputs(config: ml_collections.ConfigDict, workdir: str,
                        records: Sequence[Mapping[str, Any]],
                        timings: Mapping[str, Any]) -> dict[str, Any]:
  """``results.json``, ``table.md`` and ``sweep.png`` of a sweep."""
  axis = sweep_axis(config)
  summary = summarize_sweep(config, records)
  results = {
      'protocol': config.get('name', None),
      'num_cells': len(expand_grid(config)),
      'num_seeds': config.num_seeds,
      'sweep': axis,
      'records': list(records),
      'summary': summary,
      'timings': dict(timings),
      'config': _config_json(config),
      'provenance': provenance.provenance(),
  }
  _write_json(os.path.join(workdir, 'results.json'), results)
  unswept = (f'; {", ".join(axis["unswept_variants"])} at '
             f'{format_value(axis["baseline"])}'
             if axis['unswept_variants'] else '')
  parts = [f'# {config.get("description", None) or "Sweep"}', '',
           f'{config.num_seeds} seeds per cell; entries are mean (sd) over '
           f'seeds (sample sd, ddof=1) against {axis["field"]}{unswept}.', '']
  for metric in config.table_metrics:
    parts += [f'## {_display(config, metric)}', '',
              format_sweep_table(config, summary, metric)]
  with open(os.path.join(workdir, 'table.md'), 'w', encoding='utf-8') as f:
    f.write('\n'.join(parts))
  plot_sweep(config, summary, os.path.join(workdir, 'sweep.png'))
  return results


# ----------------------------------------------------------------------------
# Job-array shards.


@dataclasses.dataclass(frozen=True)
class Shard:
  """Part ``index`` of ``count`` of a grid (a job array's task)."""
  index: int
  count: int

  def __post_init__(self):
    if not 0 <= self.index < self.count:
      raise ValueError(f'shard index must be in [0, {self.count}), got '
                       f'{self.index} of {self.count}')


def shard_cells(cells: Sequence[Cell], shard: Shard | None) -> list[Cell]:
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
  _write_json(path, result)
  logging.info('shard %d of %d finished: %s; run without --shard to write '
               'the table of the whole grid', shard.index, shard.count, path)
  return result


__all__ = ['Cell', 'expand_grid', 'apply_overrides', 'base_train_config',
           'cell_config', 'seed_records', 'summarize', 'format_table',
           'plot_bars', 'analyze_dataset', 'format_analysis_table',
           'plot_analysis', 'run_cell', 'write_outputs', 'reproduce',
           'SweepCell', 'sweep_axis', 'cross_sweep', 'apply_sweep',
           'summarize_sweep', 'plot_sweep', 'format_sweep_table',
           'write_sweep_outputs', 'Shard', 'shard_cells', 'write_shard']
