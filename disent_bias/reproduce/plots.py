"""Plots of a reproduction: grouped bars and the analysis histograms."""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from matplotlib import figure as mpl_figure
import numpy as np

from disent_bias.reproduce import tables


def save(fig: mpl_figure.Figure, path: str) -> str:
  """Lays out and writes ``fig`` to ``path`` (directories made); ``path``."""
  fig.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, dpi=100)
  return path


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
  # A pyplot-free Figure: no backend, nothing shown in notebooks.
  fig = mpl_figure.Figure(figsize=(max(4.0, 0.8 * len(models))
                                   * len(datasets), 3.0 * len(metrics)))
  axes = fig.subplots(len(metrics), len(datasets), squeeze=False)
  x = np.arange(len(models))
  width = 0.8 / len(variants)
  for i, metric in enumerate(metrics):
    table = tables.by_cell(summary, metric)
    for j, d in enumerate(datasets):
      ax = axes[i, j]
      for k, v in enumerate(variants):
        rows = [table.get((m, d, v)) for m in models]
        means = [s['mean'] if s else np.nan for s in rows]
        sds = [s['sd'] if s else 0.0 for s in rows]
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
  return save(fig, path)


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
  return save(fig, path)
