"""Per-seed records of a cell's ``results.json`` and their summaries.

``train.train_and_evaluate`` writes one record per seed under
``results['per_seed']``: ``{'seed', 'metrics', 'eval'}``, the seed's score
record (``metrics.ScoreRecord``: scores, counts and timings apart; read with
``scoring.read_scores``, which also reads the flat records of older runs)
and its final eval point (``eval/...`` keys). The grid keeps the scores and
the mechanism readouts.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from disent_bias.reproduce import grid
from disent_bias.training import scoring
from disent_bias.utils import stats

# Mechanism readouts (``analysis.model_summary`` at the final eval point, a
# seed's ``eval`` record): score name -> eval key. The decoder's column
# orthogonality on the active latents, how many latents are active, and
# whether the model is in the polarized regime (1 / 0 per seed, so the cell
# mean is the polarized fraction).
MECHANISM_KEYS = {
    'mechanism.decoder_dto': 'eval/decoder_dto_median',
    'mechanism.active_latents': 'eval/active_latents',
    'mechanism.polarized': 'eval/polarized',
}


def seed_scores(record: Mapping[str, Any]) -> dict[str, float]:
  """The scores of one per-seed record, then its ``MECHANISM_KEYS``."""
  scores = {key: float(value)
            for key, value in scoring.read_scores(record).scores.items()}
  evals = record.get('eval', None) or {}
  scores.update({name: float(evals[key])
                 for name, key in MECHANISM_KEYS.items() if key in evals})
  return scores


def per_seed_records(results: Mapping[str, Any], source: object
                     ) -> list[Mapping[str, Any]]:
  """``results['per_seed']``, checked against ``results['seeds']``;
  ``source`` (a cell, a workdir) names the results in errors.

  Raises:
    ValueError: results without per-seed records (written before them), or
      records that are not one per seed in seed order.
  """
  records = results.get('per_seed', None)
  if not isinstance(records, list) or not all(
      isinstance(r, Mapping) for r in records):
    raise ValueError(f'results for {source} have no per-seed records '
                     "('per_seed'); rerun the cell to score it again")
  seeds = [r.get('seed', None) for r in records]
  if seeds != list(results.get('seeds', seeds)):
    raise ValueError(f'results for {source}: per-seed records of seeds '
                     f'{seeds}, expected {results["seeds"]}')
  return records


def seed_records(results: Mapping[str, Any], cell: grid.Cell,
                 wall_seconds: float | None = None,
                 cpu_seconds: float | None = None) -> list[dict[str, Any]]:
  """Splits a cell's ``results.json`` into one record per seed.

  Args:
    results: the dict written by ``train.train_and_evaluate`` (``per_seed``,
      ``timings``, ``num_steps``).
    cell: the grid point.
    wall_seconds: wall time of the cell as seen by the driver (None when
      unknown).
    cpu_seconds: CPU time of the driver process during the cell (user +
      system, all threads); unlike the wall time it hardly depends on other
      load on the machine.

  Returns:
    ``[{'model', 'dataset', 'variant', 'seed', 'scores', 'timings'}, ...]``;
    timings are the cell's (shared by its vmapped seeds).

  Raises:
    ValueError: results without per-seed records (``per_seed_records``).
  """
  timings = dict(results.get('timings', {}) or {})
  timings['cell_wall_seconds'] = wall_seconds
  timings['cell_cpu_seconds'] = cpu_seconds
  timings['num_steps'] = results.get('num_steps', None)
  return [{'model': cell.model, 'dataset': cell.dataset,
           'variant': cell.variant, 'seed': int(record['seed']),
           'scores': seed_scores(record), 'timings': timings}
          for record in per_seed_records(results, cell)]


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
