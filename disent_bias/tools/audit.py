"""Before training: do a dataset's local principal directions follow its factors?

``audit_dataset`` scores the original and the perturbed variant of a
dataset (any ``GroundTruthData``, e.g. ``data.from_arrays``) under the
documented criterion (``dataset.criterion``: ordinal factors, images blurred
by one pixel) with ``reproduce.analyze_dataset``, the same per-variant
analysis the reproduction caches, and writes ``audit.json`` and the plots.
Import it as a module (``from disent_bias.tools import audit``).
"""

from __future__ import annotations

import os
from typing import Any

from disent_bias.analysis import dataset as dataset_lib
from disent_bias.data import variants as variants_lib
from disent_bias.reproduce import local_pca
from disent_bias.reproduce import plots
from disent_bias.utils import plotting
from disent_bias.utils import workdir as workdir_lib

# Medians of the reference datasets under the criterion, radius 1
# (docs/perturbations.md, "Local PCA" table).
REFERENCE = ('median off-diagonal cosine mass / DtO, radius 1: dSprites '
             '0.23 / 0.71 original, 0.49 / 1.35 perturbed; Shapes3D 0.13 / '
             '0.21 original, 0.67 / 1.78 perturbed (docs/perturbations.md)')


def audit_dataset(dataset, out: str | None = None, *, num_points: int = 200,
                  seed: int = 0, radius: int = 1,
                  epsilon: float | None = None) -> dict[str, Any]:
  """Local PCA alignment of ``dataset`` and of its perturbed variant.

  Args:
    dataset: an ``original`` ``GroundTruthData`` with at least one ordinal
      factor (``perturbations.MIN_ORDINAL_VALUES`` values).
    out: folder for ``audit.json``, ``audit_dto.png``,
      ``audit_offdiag_mass.png`` (per-point histograms of both variants) and
      ``audit_overview.png`` (samples and factor traversals); None writes
      nothing.
    num_points: grid points sampled (``dataset.sample_points``).
    seed: seed of the sample.
    radius: finite-difference stencil half width.
    epsilon: the perturbed variant's amplitude (dataset default when None).

  Returns:
    ``{'dataset', 'factor_names', 'factor_sizes', 'criterion': {blur,
    columns, scored_factors}, 'num_points', 'seed', 'radius', 'variants':
    {'original' / 'perturbed': {epsilon, median_dto, median_offdiag_mass,
    quantile summaries}}, 'summary': one line, 'reference'}``; lower scores
    are closer to the factor axes (0: aligned).

  Raises:
    ValueError: a non-original dataset or no ordinal factor.
  """
  if dataset.variant != 'original':
    raise ValueError(f'audit_dataset needs the original variant, got '
                     f'{dataset.variant!r}')
  blur, columns = dataset_lib.criterion(dataset)
  pair = {'original': dataset,
          'perturbed': variants_lib.apply_variant(dataset, 'perturbed',
                                                  epsilon)}
  analyses = []
  for name, ds in pair.items():
    result = local_pca.analyze_dataset(ds, num_points=num_points, seed=seed,
                                       radius=radius, blur=blur,
                                       ordinal_factors=True)
    result.update(dataset=dataset.name, variant=name, epsilon=ds.epsilon)
    analyses.append(result)
  scores = {a['variant']: {k: v for k, v in a.items()
                           if not k.endswith('_values')
                           and k not in ('dataset', 'variant', 'per_point')}
            for a in analyses}
  line = '; '.join(
      f"{v} (eps {s['epsilon']:g}): median off-diagonal cosine mass "
      f"{s['median_offdiag_mass']:.2f}, DtO {s['median_dto']:.2f}"
      for v, s in scores.items())
  report = {
      'dataset': dataset.name,
      'factor_names': list(dataset.factor_names),
      'factor_sizes': list(dataset.factor_sizes),
      'criterion': dict(blur=blur, columns=list(columns),
                        scored_factors=[dataset.factor_names[c]
                                        for c in columns]),
      'num_points': analyses[0]['num_points'], 'seed': seed,
      'radius': radius, 'variants': scores, 'summary': line,
      'reference': REFERENCE,
  }
  if out is not None:
    os.makedirs(out, exist_ok=True)
    workdir_lib.write_json(os.path.join(out, 'audit.json'), report)
    for score in ('dto', 'offdiag_mass'):
      plots.plot_analysis(analyses, os.path.join(out, f'audit_{score}.png'),
                          score=score)
    plotting.save_dataset_overview(dataset,
                                   os.path.join(out, 'audit_overview.png'))
  return report


__all__ = ['REFERENCE', 'audit_dataset']
