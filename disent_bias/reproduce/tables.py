"""Markdown tables of a reproduction: the paper's table and the analysis."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import ml_collections

from disent_bias.reproduce import grid


def display(config: ml_collections.ConfigDict, key: str) -> str:
  """Label of a model, dataset or score (config keys write '.' as '_')."""
  labels = grid.as_dict(config.get('display', None))
  return labels.get(key.replace('.', '_'), None) or key


def by_cell(summary: Sequence[Mapping[str, Any]], metric: str
            ) -> dict[tuple[str, str, str], Mapping[str, Any]]:
  """The summary rows of one metric by ``(model, dataset, variant)``."""
  return {(s['model'], s['dataset'], s['variant']): s for s in summary
          if s['metric'] == metric}


def format_table(summary: Sequence[Mapping[str, Any]], metric: str, *,
                 models: Sequence[str], datasets: Sequence[str],
                 variants: Sequence[str],
                 model_names: Mapping[str, str] | None = None,
                 dataset_names: Mapping[str, str] | None = None,
                 digits: int = 2) -> str:
  """One markdown table laid out like the paper's Table 1.

  Rows are models, one column per dataset, each cell
  ``mean (sd) / mean (sd) / ...`` over ``variants`` (missing: ``-``).
  """
  model_names = model_names or {}
  dataset_names = dataset_names or {}
  table = by_cell(summary, metric)

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
