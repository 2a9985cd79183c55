"""Collects training and reproduction workdirs into one table (pandas).

``collect(dirs)`` walks the given directories for training runs (a
``results.json`` written by ``train.train_and_evaluate``, e.g. every cell of
a reproduction or of its shards) and returns one row per model seed:

- ``workdir``, ``root`` (the directory it was found under) and ``path``
  (relative to ``root``; a sweep cell's path names its value);
- ``model``, ``dataset``, ``variant``, ``seed``, ``num_steps``;
- ``config.*``: the resolved train config (hyperparameters in
  ``config.model.hparams.*``; the ``model.presets`` table is left out);
- ``score.*``: every score of that seed and its mechanism readouts
  (``reproduce.records.seed_scores``), ``counts.*`` and
  ``score_timings.<stage>.<kind>`` the score run's counts and seconds
  (``metrics.ScoreRecord``), ``final.*`` its last logged train terms,
  ``eval.*`` its last eval-point readouts, ``eval_json.*`` the scores of
  ``experiments.evaluate`` if run;
- ``timings.*`` (the run's) and ``provenance.*`` (library versions, device,
  commit).

A run whose ``results.json`` cannot be read (torn, or an older version's
without per-seed records) is skipped with a warning naming the file; no
readable run at all is refused. ``save(frame, path)`` writes CSV, plus
parquet when pyarrow is installed (``path`` must not be a directory). Needs
the ``aggregate`` extra (pandas).
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Mapping

from absl import logging

from disent_bias.reproduce import records as records_lib
from disent_bias.training import scoring
from disent_bias.utils import errors
from disent_bias.utils import workdir as workdir_lib

try:
  import pandas as pd  # The optional ``aggregate`` extra.
except ImportError:
  pd = None
try:
  import pyarrow  # Optional: parquet next to the CSV.
except ImportError:
  pyarrow = None

# What every training result holds (``train.train_and_evaluate``).
_RESULT_FIELDS = ('model', 'dataset', 'variant', 'seeds', 'config')
# Directories that hold no runs of their own.
_SKIP_DIRS = ('checkpoints', 'replaced', 'damaged_checkpoints', 'images',
              'tensorboard', 'visualize', 'analysis', 'shards')


def find_runs(root: str) -> list[str]:
  """Training workdirs under ``root`` (it included), sorted; a reproduction
  root is not one (its cells are)."""
  runs = []
  for directory, subdirs, files in os.walk(root):
    subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
    if _is_run(directory, files):
      runs.append(directory)
  return sorted(runs)


def _is_run(directory: str, files: list[str]) -> bool:
  """Results and a config, and not a reproduction root's."""
  found = workdir_lib.directory_kind(directory)
  return {'results.json', 'config.json'} <= set(files) and (
      found is None or found[0] != workdir_lib.REPRODUCTION)


def _training_results(run: str) -> dict[str, Any]:
  """The ``results.json`` of a training workdir.

  Raises:
    ValueError: it is torn or lacks a field of a training result.
  """
  results = workdir_lib.read_json(os.path.join(run, 'results.json'))
  if not isinstance(results, Mapping):
    raise ValueError('not a training result (not a JSON object)')
  missing = [k for k in _RESULT_FIELDS if k not in results]
  if missing or not isinstance(results['config'], Mapping):
    raise ValueError('not a training result (it lacks '
                     f'{", ".join(missing) or "a config"})')
  return dict(results)


def _seed_columns(values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
  """One seed's ``final`` or ``eval`` terms (its ``per_seed`` record) as
  columns: keys lose their ``train/`` or ``eval/`` namespace for ``prefix``;
  a value that is a list (per latent) becomes JSON text."""
  return {prefix + key.split('/', 1)[-1]:
          json.dumps(value) if isinstance(value, list) else value
          for key, value in values.items()}


def _flat(prefix: str, tree: Mapping[str, Any]) -> dict[str, Any]:
  """Nested dicts as dotted columns; lists as JSON text (one cell each)."""
  (row,) = pd.json_normalize(dict(tree), sep='.').to_dict('records')
  return {prefix + k: json.dumps(v) if isinstance(v, (list, tuple)) else v
          for k, v in row.items()}


def _eval_json(run: str) -> dict[int, dict[str, Any]]:
  """``eval.json``'s scores per model seed (empty when absent)."""
  result = workdir_lib.read_json_or_none(os.path.join(run, 'eval.json'))
  if not isinstance(result, Mapping):
    return {}
  out = {}
  for record in result.get('per_seed', []):
    row = {f'eval_json.{k}': v
           for k, v in scoring.read_scores(record).scores.items()}
    row['eval_json.step'] = result.get('step', None)
    out[record.get('seed', None)] = row
  return out


def run_rows(run: str, root: str) -> list[dict[str, Any]]:
  """One row per model seed of one training workdir (module docstring).

  Raises:
    ValueError: its ``results.json`` is torn, not a training result, or has
      no per-seed records (an older version's file).
  """
  results = _training_results(run)
  config = dict(results['config'])
  config['model'] = {k: v for k, v in config.get('model', {}).items()
                     if k != 'presets'}
  common = {'workdir': os.path.abspath(run), 'root': root,
            'path': os.path.relpath(run, root)}
  common.update(_flat('config.', config))
  common.update(_flat('provenance.', results.get('provenance', {}) or {}))
  common.update(_flat('timings.', results.get('timings', {}) or {}))
  evals = _eval_json(run)
  rows = []
  for record in records_lib.per_seed_records(results, run):
    seed = int(record['seed'])
    scored = scoring.read_scores(record)
    row = dict(common, model=results['model'], dataset=results['dataset'],
               variant=results['variant'], seed=seed,
               num_steps=results.get('num_steps', None))
    row.update({f'score.{k}': v
                for k, v in records_lib.seed_scores(record).items()})
    row.update({f'counts.{k}': v for k, v in scored.counts.items()})
    row.update(_flat('score_timings.', scored.timings))
    row.update(_seed_columns(record.get('final', {}), 'final.'))
    row.update(_seed_columns(record.get('eval', {}), 'eval.'))
    row.update(evals.get(seed, {}))
    rows.append(row)
  return rows


def collect(dirs: Iterable[str]) -> pd.DataFrame:
  """One ``pandas.DataFrame`` row per model seed of every run under ``dirs``.

  A run whose ``results.json`` cannot be read (torn, an older version's
  file) is skipped with a warning naming it; the others make the table.

  Raises:
    ImportError: pandas is not installed (the ``aggregate`` extra).
    FileNotFoundError: a directory that does not exist.
    errors.InvalidInputError: no readable training run under ``dirs``.
  """
  if pd is None:
    raise ImportError('aggregate needs pandas: pip install '
                      '"disent_bias[aggregate]"')
  dirs = list(dirs)
  rows, skipped = [], 0
  for root in dirs:
    if not os.path.isdir(root):
      raise FileNotFoundError(f'no such directory: {root}')
    runs = find_runs(root)
    logging.info('%s: %d training run(s)', root, len(runs))
    for run in runs:
      try:
        rows += run_rows(run, root)
      except ValueError as e:
        logging.warning('skipped %s: %s', os.path.join(run, 'results.json'),
                        e)
        skipped += 1
  if not rows:
    raise errors.InvalidInputError(
        f'no readable training run under {", ".join(dirs)}'
        + (f' ({skipped} skipped, named above)' if skipped else '')
        + '; give the workdirs of experiments.train or experiments.reproduce')
  return _table(rows)


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
  """The rows as a frame, identifying columns first, sorted by run and seed."""
  frame = pd.DataFrame(rows)
  first = ['path', 'model', 'dataset', 'variant', 'seed', 'num_steps']
  frame = frame[[c for c in first if c in frame] +
                [c for c in frame if c not in first]]
  frame = frame.sort_values(['root', 'path', 'seed'], kind='stable')
  return frame.reset_index(drop=True)


def check_out(path: str) -> None:
  """Refuses an output path that is a directory.

  Raises:
    IsADirectoryError: ``path`` is a directory.
  """
  if os.path.isdir(path):
    raise IsADirectoryError(f'--out={path} is a directory; give a file name, '
                            f'e.g. --out={os.path.join(path, "runs.csv")}')


def save(frame: pd.DataFrame, path: str) -> list[str]:
  """Writes ``path`` (CSV) and, with pyarrow, ``<path stem>.parquet``.

  Raises:
    IsADirectoryError: ``path`` is a directory (``check_out``).
  """
  check_out(path)
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  frame.to_csv(path, index=False)
  written = [path]
  if pyarrow is None:
    return written
  parquet = os.path.splitext(path)[0] + '.parquet'
  frame.to_parquet(parquet, index=False)
  return written + [parquet]
