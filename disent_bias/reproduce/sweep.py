"""Outputs of a sweep: metric against the swept train-config field.

The grid side of a sweep (``SweepCell``, ``SweepAxis``, ``cross_sweep``)
is in ``grid``, parsed once into ``Protocol.sweep``; here the records of all
values become one summary, a table with one column per value and a plot of
each metric against the value.
"""

from __future__ import annotations

import math
import os
from typing import Any, Mapping, Sequence

from matplotlib import figure as mpl_figure
import numpy as np

from disent_bias.reproduce import grid
from disent_bias.reproduce import outputs
from disent_bias.reproduce import plots
from disent_bias.reproduce import protocol as protocol_lib
from disent_bias.reproduce import records as records_lib

Curves = dict[tuple[str, str], list[tuple[Any, float, float]]]


def tag_sweep(records: Sequence[dict[str, Any]], cell: grid.Cell
              ) -> list[dict[str, Any]]:
  """Adds ``sweep_value`` to the records of a ``SweepCell``."""
  if not isinstance(cell, grid.SweepCell):
    return list(records)
  return [dict(r, sweep_value=cell.value) for r in records]


def summarize_sweep(protocol: protocol_lib.Protocol,
                    records: Sequence[Mapping[str, Any]]
                    ) -> list[dict[str, Any]]:
  """``records.summarize`` per sweep value; rows carry ``sweep_value``.

  Records of the unswept variants get the axis' ``baseline`` value.
  """
  axis = protocol.sweep
  groups: dict[Any, list] = {}
  for r in records:
    value = r.get('sweep_value', axis.baseline)
    groups.setdefault(value, []).append(r)
  return [dict(row, sweep_value=value) for value, group in groups.items()
          for row in records_lib.summarize(group)]


def sweep_curves(protocol: protocol_lib.Protocol,
                 summary: Sequence[Mapping[str, Any]], metric: str,
                 dataset: str) -> Curves:
  """``{(model, variant): [(x, mean, sd), ...]}`` of one metric and dataset.

  The unswept variants' points (at the baseline) start every swept curve of
  the same model.
  """
  axis = protocol.sweep
  unswept = axis.unswept_variants
  rows = [s for s in summary if s['metric'] == metric
          and s['dataset'] == dataset]
  base = {s['model']: s for s in rows if s['variant'] in unswept}
  curves = {}
  for s in sorted((s for s in rows if s['variant'] not in unswept),
                  key=lambda s: s['sweep_value']):
    points = curves.setdefault((s['model'], s['variant']), [])
    if not points and s['model'] in base:
      b = base[s['model']]
      points.append((axis.baseline, b['mean'], b['sd']))
    points.append((s['sweep_value'], s['mean'], s['sd']))
  return curves


def plot_sweep(protocol: protocol_lib.Protocol,
               summary: Sequence[Mapping[str, Any]], path: str) -> str:
  """Metric against the sweep axis, seed-sd error bars; one line per model
  and variant, one panel per metric (rows) and dataset (columns)."""
  axis = protocol.sweep
  metrics, datasets = list(protocol.table_metrics), list(protocol.datasets)
  fig = mpl_figure.Figure(figsize=(5.0 * len(datasets), 3.5 * len(metrics)))
  axes = fig.subplots(len(metrics), len(datasets), squeeze=False)
  for i, metric in enumerate(metrics):
    for j, dataset in enumerate(datasets):
      ax = axes[i, j]
      for (model, variant), points in sweep_curves(protocol, summary, metric,
                                                   dataset).items():
        x, mean, sd = (np.asarray(v, np.float64) for v in zip(*points))
        ax.errorbar(x, mean, yerr=sd, marker='o', capsize=3,
                    label=f'{protocol.label(model)} {variant}')
      ax.set_xlabel(axis.field)
      ax.set_ylabel(protocol.label(metric))
      ax.set_title(protocol.label(dataset), fontsize=9)
      ax.legend(fontsize=7)
  return plots.save(fig, path)


def format_sweep_table(protocol: protocol_lib.Protocol,
                       summary: Sequence[Mapping[str, Any]], metric: str,
                       digits: int = 2) -> str:
  """Markdown: rows model x variant, one column per sweep value (the
  baseline first when there are unswept variants)."""
  axis = protocol.sweep
  values = ([axis.baseline] if axis.unswept_variants else []
            ) + list(axis.values)
  lines = []
  for dataset in protocol.datasets:
    curves = sweep_curves(protocol, summary, metric, dataset)
    header = (f'| {protocol.label(dataset)}: model | variant | '
              + ' | '.join(grid.format_value(v) for v in values) + ' |')
    lines += [header, '|---' * (len(values) + 2) + '|']
    for (model, variant), points in curves.items():
      by_x = {x: (m, s) for x, m, s in points}
      cells = [f'{by_x[v][0]:.{digits}f} ({by_x[v][1]:.{digits}f})'
               if v in by_x and math.isfinite(by_x[v][0]) else '-'
               for v in values]
      lines.append(f'| {protocol.label(model)} | {variant} | '
                   + ' | '.join(cells) + ' |')
    lines.append('')
  return '\n'.join(lines)


def sweep_markdown(protocol: protocol_lib.Protocol,
                   summary: Sequence[Mapping[str, Any]]) -> str:
  """``table.md`` of a sweep: one ``format_sweep_table`` per metric."""
  axis = protocol.sweep
  unswept = (f'; {", ".join(axis.unswept_variants)} at '
             f'{grid.format_value(axis.baseline)}'
             if axis.unswept_variants else '')
  parts = [f'# {protocol.description or "Sweep"}', '',
           f'{protocol.num_seeds} seeds per cell; entries are mean (sd) over '
           f'seeds (sample sd, ddof=1) against {axis.field}{unswept}.', '']
  for metric in protocol.table_metrics:
    parts += [f'## {protocol.label(metric)}', '',
              format_sweep_table(protocol, summary, metric)]
  return '\n'.join(parts)


def write_sweep_outputs(protocol: protocol_lib.Protocol, workdir: str,
                        records: Sequence[Mapping[str, Any]],
                        timings: Mapping[str, Any]) -> dict[str, Any]:
  """``results.json``, ``table.md`` and ``sweep.png`` of a sweep.

  Returns:
    The contents of ``results.json``.
  """
  summary = summarize_sweep(protocol, records)
  results = outputs.write_results(
      protocol, workdir,
      {'sweep': protocol.sweep.as_dict(), 'records': list(records),
       'summary': summary, 'timings': dict(timings)},
      sweep_markdown(protocol, summary))
  plot_sweep(protocol, summary, os.path.join(workdir, 'sweep.png'))
  return results
