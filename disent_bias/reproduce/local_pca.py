"""The dataset-side local PCA analysis of each dataset variant (docs/analysis.md).

It runs once per dataset x variant of a grid and is cached in
``DIR/analysis/<dataset>/<variant>.json``.
"""

from __future__ import annotations

import os
import time
from typing import Any, Iterable, Mapping

import numpy as np

from disent_bias import data as data_lib
from disent_bias.analysis import dataset as dataset_analysis
from disent_bias.data import perturbations
from disent_bias.reproduce import files
from disent_bias.reproduce import grid
from disent_bias.reproduce import protocol as protocol_lib
from disent_bias.utils import logging_utils
from disent_bias.utils import workdir as workdir_lib


def analyze_dataset(dataset: data_lib.GroundTruthData, *, num_points: int,
                    seed: int, radius: int = 1, blur: float = 0.0,
                    ordinal_factors: bool = False) -> dict[str, Any]:
  """``analysis.local_alignment`` at ``num_points`` sampled grid points.

  ``blur`` and ``ordinal_factors`` give the documented criterion for binary
  sprites (``experiments/analyze.py``): renders blurred by ``blur`` pixels,
  and only the ordinal factors' columns (``perturbations.mixed_factors``; a
  step between categorical shapes is no local direction).

  Returns:
    The JSON-ready scalars and quantile summaries of ``local_alignment``
    (``median_dto``, ``median_offdiag_mass``, ...), ``seed``, and the
    per-point scores as lists under ``<score>_values`` (for histograms).
  """
  factors = dataset_analysis.sample_points(dataset, num_points, seed)
  columns = (perturbations.mixed_factors(dataset.factor_sizes)
             if ordinal_factors else None)
  result = dataset_analysis.local_alignment(dataset, factors, radius=radius,
                                            blur=blur, columns=columns)
  per_point = result.pop('per_point', {})
  out = logging_utils.to_jsonable(result)
  out['seed'] = int(seed)
  for name, values in per_point.items():
    values = np.asarray(values, np.float64)
    if values.ndim == 1:
      out[f'{name}_values'] = values.tolist()
  return out


def analysis_path(workdir: str, dataset: str, variant: str) -> str:
  """Where the analysis of a dataset variant is cached."""
  return os.path.join(workdir, 'analysis', dataset, f'{variant}.json')


def run_analysis(protocol: protocol_lib.Protocol, cell: grid.Cell,
                 workdir: str) -> dict[str, Any]:
  """Analysis of ``cell``'s dataset variant (cached on disk), with the
  protocol's ``analysis`` settings on the cell's data config."""
  path = analysis_path(workdir, cell.dataset, cell.variant)
  cached = workdir_lib.read_json_or_none(path)
  if cached is not None:
    return cached
  start = time.time()
  settings = protocol.config.analysis
  dataset = data_lib.load_config(protocol.train_configs[cell].data)
  result = analyze_dataset(dataset, num_points=settings.num_points,
                           seed=settings.seed, radius=settings.radius,
                           blur=settings.get('blur', 0.0),
                           ordinal_factors=settings.get('ordinal_factors',
                                                        False))
  result.update(dataset=cell.dataset, variant=cell.variant,
                epsilon=dataset.epsilon, seconds=time.time() - start)
  files.write_json(path, result)
  return result


def analysis_summary(analyses: Iterable[Mapping[str, Any]]
                     ) -> list[dict[str, Any]]:
  """The per-variant scalars of each analysis (per-point values dropped)."""
  return [{k: v for k, v in a.items() if not k.endswith('_values')}
          for a in analyses]
