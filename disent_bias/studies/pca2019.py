"""The 2019 predecessor's checks (Rolinek, Zietlow, Martius, CVPR 2019).

Its *linear task*: two factors, stretched so that their scales differ (ratio
2), embedded in three dimensions by a rotation; a linear encoder and decoder
with two latents. A beta-VAE in the polarized regime ends with decoder
columns that are orthogonal *and* on the local principal directions (DtO
near 0); a plain autoencoder reconstructs as well with any invertible mix of
the latents (DtO clearly above 0). Its *equal-scale test*: with the two
scales equal (ratio 1.0) the principal directions are not unique, so the
beta-VAE's columns are still orthogonal but point anywhere in the factor
plane (DtO and MIG scatter over seeds); from ratio 1.2 to 1.5 they lock on to
the factor axes. This is the "degenerate basis" argument the package uses
for dSprites' posX / posY.

``run`` trains every (scale ratio, model) pair for ``num_seeds`` vmapped
seeds and scores each seed: the decoder DtO (median over grid points; the
decoder is linear, so every point gives the same Jacobian), the off-diagonal
cosine mass of its columns (0 for orthogonal columns whatever their norms),
the MIG of the posterior means and the number of active latents.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import jax
import ml_collections
import numpy as np

from disent_bias.analysis import alignment
from disent_bias.analysis import dataset as dataset_lib
from disent_bias.analysis import model as model_lib
from disent_bias.data import synthetic
from disent_bias.studies import experiment
from disent_bias.training import runner
from disent_bias.utils import stats

NUM_FACTORS = 2
DIM = 3


def linear_task(ratio: float, *, base_scale: float, factor_size: int,
                seed: int = 0):
  """Two factors of scales (ratio * base_scale, base_scale) in 3-D, unsquashed.

  Factor values lie on linspace(-1, 1, factor_size); x = A w with A (3, 2)
  of orthogonal columns of those norms (``synthetic.make_linear``).
  """
  return synthetic.make_linear(
      num_factors=NUM_FACTORS, factor_size=factor_size, dim=DIM,
      scales=(ratio * base_scale, base_scale), seed=seed, squash=False)


def score_seeds(model, params, dataset, *, variational: bool,
                num_points: int = 64) -> dict[str, list]:
  """Per-seed decoder DtO, off-diagonal cosine mass, MIG and active count.

  ``variational=False`` (an AE) scores all latents; otherwise the active ones.
  """
  factors = dataset_lib.sample_points(dataset, num_points, seed=1)
  images = np.asarray(dataset.render(factors))
  dto, offdiag, active = [], [], []
  for s in range(jax.tree.leaves(params)[0].shape[0]):
    p = runner.select_seed(params, s)
    stats = model_lib.posterior_stats(model, p, images)
    cols = (np.flatnonzero(stats['active']) if variational
            else np.arange(stats['mu'].shape[-1]))
    # One Jacobian per point serves both scores (DtO on the scored latents).
    jac = model_lib.decoder_jacobian(model, p, stats['mu'], recon='l2')
    dto.append(float(np.median(
        alignment.batch_alignment_scores(jac[..., cols])['dto']))
               if cols.size >= 2 else 0.0)
    offdiag.append(float(np.median(
        alignment.batch_alignment_scores(jac)['offdiag_mass'])))
    active.append(int(cols.size))
  mig = experiment.seed_mig(model, params, dataset,
                            num_points=dataset.num_points)
  return {'dto': dto, 'offdiag_mass': offdiag, 'mig': mig.tolist(),
          'active_latents': active}


def run(configs: dict[str, ml_collections.ConfigDict],
        ratios: Iterable[float], *, base_scale: float, factor_size: int,
        num_seeds: int, num_steps: int, log=print) -> list[dict]:
  """Trains and scores every (ratio, model); one record per pair.

  Args:
    configs: model name -> train config (linear encoder / decoder, two
      latents; ``model.hparams`` set), e.g. ``disent_bias/configs/pca2019.py``.
    ratios: scale ratios of the two factors (1.0: equal scales).
    base_scale: the smaller factor's column norm.
    factor_size: grid values per factor.
    num_seeds, num_steps: vmapped seeds and steps per pair.
    log: progress callback taking one line.
  """
  records = []
  for ratio in ratios:
    dataset = linear_task(ratio, base_scale=base_scale,
                          factor_size=factor_size)
    for name, config in configs.items():
      model, params, losses = experiment.train_seeds(
          config, dataset, num_seeds=num_seeds, num_steps=num_steps)
      if not np.isfinite(losses).all():
        raise FloatingPointError(f'{name} at ratio {ratio}: non-finite loss')
      scores = score_seeds(model, params, dataset,
                           variational=name != 'ae')
      records.append(dict(ratio=float(ratio), model=name,
                          num_seeds=num_seeds, num_steps=num_steps,
                          **scores))
      log(f'ratio {ratio:g} {name}: DtO {stats.mean_sd(scores["dto"])}, '
          f'MIG {stats.mean_sd(scores["mig"])}')
  return records


def table(records: Sequence[dict]) -> str:
  """The Markdown table of ``run``'s records, one row per (ratio, model)."""
  first = records[0]
  lines = [f"{first['num_seeds']} seeds, {first['num_steps']} steps; "
           'mean ± sd over seeds (ddof=1)', '',
           '| scale ratio | model | decoder DtO | off-diagonal cosine mass | '
           'MIG | active latents |', '|---|---|---|---|---|---|']
  for r in records:
    active = ' / '.join(str(a) for a in sorted(set(r['active_latents'])))
    lines.append(f"| {r['ratio']:g} | {r['model']} | {stats.mean_sd(r['dto'])} | "
                 f"{stats.mean_sd(r['offdiag_mass'])} | {stats.mean_sd(r['mig'])} | "
                 f'{active} |')
  return '\n'.join(lines) + '\n'
