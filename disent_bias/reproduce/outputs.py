"""Outputs of a grid without a sweep: results.json, table.md and plots."""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import ml_collections

from disent_bias.reproduce import files
from disent_bias.reproduce import local_pca
from disent_bias.reproduce import plots
from disent_bias.reproduce import protocol as protocol_lib
from disent_bias.reproduce import records as records_lib
from disent_bias.reproduce import tables
from disent_bias.utils import provenance
from disent_bias.utils import workdir as workdir_lib

MECHANISM_TEXT = (
    'Decoder Jacobian distance to orthogonality on the active latents (all '
    'latents for AE and PCL; median over points; 0: orthogonal columns), '
    'number of active latents (mean posterior variance < 0.5) and the '
    'fraction of seeds in the polarized regime (`disent_bias.analysis.model`).')
ANALYSIS_TEXT = ('Median over sampled grid points; 0 means the local '
                 'principal directions are the factor axes.')


def metric_tables(config: ml_collections.ConfigDict,
                  summary: Sequence[Mapping[str, Any]],
                  metrics: Sequence[str], level: str) -> list[str]:
  """Markdown lines: a ``level`` heading and ``format_table`` per metric."""
  models, datasets = list(config.models), list(config.datasets)
  parts = []
  for metric in metrics:
    parts += [f'{level} {tables.display(config, metric)}', '',
              tables.format_table(
                  summary, metric, models=models, datasets=datasets,
                  variants=list(config.variants),
                  model_names={m: tables.display(config, m) for m in models},
                  dataset_names={d: tables.display(config, d)
                                 for d in datasets}), '']
  return parts


def grid_markdown(config: ml_collections.ConfigDict,
                  records: Sequence[Mapping[str, Any]],
                  summary: Sequence[Mapping[str, Any]],
                  analyses: Sequence[Mapping[str, Any]],
                  note: str = '') -> str:
  """``table.md``: the score tables, the mechanism, the analysis; ``note``
  (if any) is a paragraph under the title."""
  seeds = sorted({r['seed'] for r in records})
  parts = [f'# {config.get("description", None) or "Reproduction"}', '']
  parts += [note, ''] if note else []
  parts += [f'{len(seeds)} seeds per cell; entries are mean (sd) over seeds '
            f'(sample sd, ddof=1), for the variants '
            f'{" / ".join(config.variants)}.', '']
  parts += metric_tables(config, summary, list(config.table_metrics), '##')
  present = {row['metric'] for row in summary}
  mechanism = [m for m in records_lib.MECHANISM_KEYS if m in present]
  if mechanism:
    parts += ['## Mechanism (final eval point)', '', MECHANISM_TEXT, '']
    parts += metric_tables(config, summary, mechanism, '###')
  if analyses:
    parts += ['## Dataset local PCA alignment (docs/analysis.md)', '',
              ANALYSIS_TEXT, '', tables.format_analysis_table(analyses), '']
  return '\n'.join(parts)


def write_results(protocol: protocol_lib.Protocol, workdir: str,
                  fields: Mapping[str, Any], markdown: str) -> dict[str, Any]:
  """Writes a protocol's ``results.json`` and ``table.md`` (both atomic).

  ``results.json`` holds the protocol, cell and seed counts, then ``fields``
  in their order, then the config and provenance.

  Returns:
    The contents of ``results.json``.
  """
  results = {
      'protocol': protocol.name,
      'num_cells': len(protocol.cells),
      'num_seeds': protocol.num_seeds,
      **fields,
      'config': protocol.config_json,
      'provenance': provenance.provenance(),
  }
  files.write_json(os.path.join(workdir, 'results.json'), results)
  workdir_lib.write_text(os.path.join(workdir, 'table.md'), markdown)
  return results


def write_outputs(protocol: protocol_lib.Protocol, workdir: str,
                  records: Sequence[Mapping[str, Any]],
                  analyses: Sequence[Mapping[str, Any]],
                  timings: Mapping[str, Any], note: str = ''
                  ) -> dict[str, Any]:
  """``results.json``, ``table.md``, ``bars.png`` and the analysis outputs
  (``note``: a paragraph under ``table.md``'s title).

  Returns:
    The contents of ``results.json``.
  """
  config = protocol.config
  summary = records_lib.summarize(records)
  results = write_results(
      protocol, workdir,
      {'records': list(records), 'summary': summary,
       'analysis': local_pca.analysis_summary(analyses),
       'timings': dict(timings)},
      grid_markdown(config, records, summary, analyses, note))
  models, datasets = list(config.models), list(config.datasets)
  metrics = list(config.table_metrics)
  plots.plot_bars(
      summary, metrics, os.path.join(workdir, 'bars.png'), models=models,
      datasets=datasets, variants=list(config.variants),
      model_names={m: tables.display(config, m) for m in models},
      dataset_names={d: tables.display(config, d) for d in datasets},
      metric_names={m: tables.display(config, m) for m in metrics})
  if analyses:
    plots.plot_analysis(analyses, os.path.join(workdir, 'analysis.png'))
  return results
