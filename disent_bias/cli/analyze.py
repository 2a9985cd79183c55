r"""Local PCA / Jacobian analysis of one dataset variant.

Run:
  disent-bias-analyze --dataset=dsprites --variant=perturbed \
    --workdir=/tmp/analysis/dsprites_perturbed --num_points=200

Your own data (a generic-layout npz / HDF5 file, docs/own_data.md), before
any training: ``--path=FILE`` audits it instead (``tools.audit``: the
original's and the perturbed variant's alignment under the same criterion,
``audit.json`` and plots in ``--workdir``):
  disent-bias-analyze --path=mine.npz --workdir=/tmp/audit

Writes ``workdir/analysis.json`` (median DtO and off-diagonal mass with their
quantiles for stencil radii 1 and 3, the sample description and, for
non-original variants, the perturbation report: bound, mean |change|,
variance change, duplicates, nearest-neighbour probe on a dense block of the
grid) and the plots ``analysis_hist.png`` (alignment scores of all three
variants on the same points) and ``analysis_images.png`` (original / variant
/ difference). About 2-5 CPU-minutes for 200 points of dSprites or Shapes3D.

Criterion (``docs/analysis.md``): the Jacobian columns of the *ordinal*
factors (``perturbations.mixed_factors``; a finite difference between
categorical shapes is not a local direction), images blurred by
``--blur`` pixels (default 1 for images, 0 for vectors: binary sprites'
Jacobians are edge-dominated; a smooth decoder sees a blurred image). The
unblurred all-factor scores are kept under ``raw`` for comparison.
"""

from __future__ import annotations

import os

from absl import app
from absl import flags
from absl import logging
import matplotlib
import numpy as np

from disent_bias import analysis
from disent_bias import data
from disent_bias.tools import audit
from disent_bias.cli import common
from disent_bias.utils import workdir as workdir_lib

matplotlib.use('Agg')
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

_RADII = (1, 3)
_PROBE_POINTS = 4096


def _strip(result: dict) -> dict:
  return {k: v for k, v in result.items() if k != 'per_point'}


def run(dataset: str, variant: str, workdir: str, num_points: int = 200,
        epsilon: float | None = None, seed: int = 0,
        blur: float | None = None) -> dict:
  """Analyses ``variant`` (and, for the histogram, all variants) of a dataset."""
  os.makedirs(workdir, exist_ok=True)
  datasets = {v: data.load(dataset, variant=v, epsilon=epsilon)
              for v in data.VARIANTS}
  original = datasets['original']
  blur, columns = analysis.criterion(original, blur=blur)
  factors = analysis.sample_points(original, num_points, seed)
  per_variant, raw = {}, {}
  for v, ds in datasets.items():
    per_variant[v] = {r: analysis.local_alignment(
        ds, factors, radius=r, blur=blur, columns=columns) for r in _RADII}
    raw[v] = _strip(analysis.local_alignment(ds, factors, radius=1, blur=0.0,
                                              columns=None))
    logging.info('%s %s: median DtO %s', dataset, v,
                 [per_variant[v][r]['median_dto'] for r in _RADII])
  target = per_variant[variant]
  result = {
      'dataset': dataset,
      'variant': variant,
      'epsilon': datasets[variant].epsilon,
      'sample': dict(num_points=int(len(factors)), seed=seed,
                     description='grid points uniform without replacement '
                                 '(the whole grid if smaller)',
                     factor_names=list(original.factor_names)),
      'criterion': dict(columns=list(columns), blur=blur,
                        scored_factors=[original.factor_names[c]
                                        for c in columns]),
      'median_dto': target[1]['median_dto'],
      'median_offdiag_mass': target[1]['median_offdiag_mass'],
      'by_radius': {str(r): _strip(target[r]) for r in _RADII},
      'all_variants': {v: {str(r): dict(
          median_dto=per_variant[v][r]['median_dto'],
          median_offdiag_mass=per_variant[v][r]['median_offdiag_mass'])
                           for r in _RADII} for v in per_variant},
      'raw': {v: dict(median_dto=raw[v]['median_dto'],
                      median_offdiag_mass=raw[v]['median_offdiag_mass'])
              for v in raw},
  }
  if variant != 'original':
    result['perturbation'] = analysis.perturbation_report(
        original, datasets[variant], factors, tolerance=1)
    block = analysis.block_points(original, _PROBE_POINTS, seed)
    probe = analysis.perturbation_report(original, datasets[variant], block,
                                         tolerance=1)
    result['perturbation']['block_probe'] = {
        k: probe[k] for k in ('num_points', 'probe_accuracy_original',
                              'probe_accuracy_variant',
                              'probe_accuracy_drop_max', 'num_duplicates',
                              'num_duplicates_original')}
  workdir_lib.write_json(os.path.join(workdir, 'analysis.json'), result)
  _plot_hist(per_variant, os.path.join(workdir, 'analysis_hist.png'), dataset)
  _plot_images(datasets['original'], datasets[variant], factors[:4],
               os.path.join(workdir, 'analysis_images.png'))
  return result


def _plot_hist(per_variant, path, name):
  fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
  for ax, score in zip(axes, ('dto', 'offdiag_mass')):
    for v, res in per_variant.items():
      ax.hist(res[1]['per_point'][score], bins=30, alpha=0.5, label=v)
    ax.set_xlabel(f'{score} (radius 1, ordinal factors, '
                  f'blur {res[1]["blur"]:g})')
  axes[0].legend()
  fig.suptitle(name)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def _plot_images(original, variant, factors, path):
  x = np.asarray(original.render(factors))
  y = np.asarray(variant.render(factors))
  n = len(factors)
  fig, axes = plt.subplots(3, n, figsize=(2 * n, 6), squeeze=False)
  for i in range(n):
    for row, (img, title) in enumerate(((x[i], 'original'), (y[i], variant.variant),
                                        (0.5 + (y[i] - x[i]), 'difference + 0.5'))):
      ax = axes[row, i]
      if img.ndim == 1:
        ax.plot(img)
        ax.set_ylim(-0.05, 1.05)
      else:
        ax.imshow(np.clip(img.squeeze(-1) if img.shape[-1] == 1 else img, 0, 1),
                  cmap='gray', vmin=0, vmax=1)
        ax.axis('off')
      ax.set_title(title, fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def define_flags() -> None:
  """The binary's flags."""
  flags.DEFINE_string('dataset', 'dsprites', 'dataset name')
  flags.DEFINE_enum('variant', 'perturbed', data.VARIANTS, 'variant')
  flags.DEFINE_string('workdir', None, 'output directory', required=True)
  flags.DEFINE_integer('num_points', 200, 'sampled grid points')
  flags.DEFINE_float('epsilon', None, 'amplitude; dataset default')
  flags.DEFINE_integer('seed', 0, 'seed of the grid-point sample')
  flags.DEFINE_float('blur', None, 'Gaussian blur sigma (pixels) of the '
                     'renders; default 1 for images, 0 for vectors')
  flags.DEFINE_string('path', None, 'a generic-layout file (npz / HDF5) to '
                      'audit instead of --dataset (docs/own_data.md)')


def main(argv: list[str]) -> None:
  """Analyses ``--dataset`` / ``--variant`` into ``--workdir``."""
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  f = flags.FLAGS
  with common.user_errors():
    if f.path is not None:
      report = audit.audit_dataset(data.from_arrays(f.path), f.workdir,
                                   num_points=f.num_points, seed=f.seed,
                                   epsilon=f.epsilon)
      logging.info('%s; wrote %s', report['summary'], f.workdir)
      return
    run(f.dataset, f.variant, f.workdir, f.num_points, f.epsilon, f.seed,
        f.blur)


def entry(argv: list[str] | None = None) -> None:
  """The ``disent-bias-analyze`` console script."""
  common.run(define_flags, main, argv)
