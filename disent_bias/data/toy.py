"""Toy ground-truth data for CPU-scale experiments: moving bumps on a strip.

``toy_bumps``: three factors, each the position of a Gaussian bump inside its
own window of a 1-D "image" (a vector of ``DIM`` values in [0, 1]) on a flat
background. It is a minimal dSprites: the factor effects are local (the
pixels near each bump), orthogonal (disjoint windows) and of clearly distinct
size (bump heights ``HEIGHTS``, so the per-step Jacobian column norms are in
the ratio of the heights and the local PCA basis is unique and factor-
aligned), exactly the situation in which a VAE disentangles "by accident"
(Rolinek et al. 2019). The positions move by half a value per grid step
over ``FACTOR_SIZE = 24`` steps (travel 11.5 values, about 4 bump widths),
so every factor is nearly continuous and the image manifold smooth, and the
bumps use most of the range (background 0.1, peaks up to 0.9): with the L2
likelihood and beta 0.1 a beta-VAE of MLPs disentangles the original strip
in about 12,000 steps (MIG 0.8; ``experiments/configs/toy.py``). The
background leaves room for the ``perturbed`` variant's texture
(``perturbations``: a plane wave over all ``DIM`` values whose phase follows
the sum of the factor indices) in both directions without clipping.

Layout (``DIM = 128``): windows of ``WINDOW = 40`` values at offsets 4, 44
and 84; bump k has height ``HEIGHTS[k]`` and width ``SIGMA``; its centre
runs over ``FACTOR_SIZE`` positions ``STEP`` apart, centred in its window
(at least ``MARGIN`` values from the window's edges for the default travel).
"""

from __future__ import annotations

from typing import Sequence

import jax.numpy as jnp
import numpy as np

from disent_bias.data import base

DIM = 128
WINDOW = 40
OFFSETS = (4, 44, 84)
HEIGHTS = (0.8, 0.6, 0.45)
SIGMA = 3.0
STEP = 0.5
MARGIN = 8
BACKGROUND = 0.1
FACTOR_SIZE = 24
FACTOR_NAMES = ('bump0', 'bump1', 'bump2')


def make_toy_bumps(factor_size: int = FACTOR_SIZE,
                   heights: Sequence[float] = HEIGHTS,
                   sigma: float = SIGMA,
                   step: float = STEP) -> base.GroundTruthData:
  """Three moving bumps on a 128-value strip.

  Args:
    factor_size: positions per bump (>= 2).
    heights: 3 positive bump heights with background + height <= 0.9.
    sigma: bump width in values (0.5 <= sigma <= MARGIN / 2).
    step: bump shift per grid step, in values; the travel
      ``step * (factor_size - 1)`` must fit in ``WINDOW - 2 * MARGIN``.

  Returns:
    A ``GroundTruthData`` named ``'toy_bumps'`` with observation_shape (128,).

  Raises:
    ValueError: for bad sizes, heights or widths.
  """
  if factor_size < 2:
    raise ValueError(f'factor_size must be >= 2, got {factor_size}')
  heights = np.asarray(heights, np.float32)
  if heights.shape != (3,) or (heights <= 0).any() or (
      BACKGROUND + heights > 0.9 + 1e-6).any():
    raise ValueError(f'heights must be 3 values in (0, {0.9 - BACKGROUND}], '
                     f'got {heights}')
  if not 0.5 <= sigma <= MARGIN / 2:
    raise ValueError(f'sigma must be in [0.5, {MARGIN / 2}], got {sigma}')
  travel = step * (factor_size - 1)
  if not 0 < travel <= WINDOW - 2 * MARGIN:
    raise ValueError(f'step * (factor_size - 1) must be in (0, '
                     f'{WINDOW - 2 * MARGIN}], got {travel}')
  start = (WINDOW - travel) / 2
  centres = (start + step * np.arange(factor_size)).astype(np.float32)
  pixels = np.arange(DIM, dtype=np.float32)
  jc, jh, jp = jnp.asarray(centres), jnp.asarray(heights), jnp.asarray(pixels)
  joff = jnp.asarray(OFFSETS, jnp.float32)

  def render(factors):
    f = jnp.asarray(factors, jnp.int32)
    centre = joff[None, :] + jc[f]  # (n, 3) absolute positions
    bumps = jh[None, :, None] * jnp.exp(
        -0.5 * ((jp[None, None, :] - centre[:, :, None]) / sigma) ** 2)
    return jnp.clip(BACKGROUND + bumps.sum(1), 0.0, 1.0)

  info = dict(centres=centres, heights=heights, sigma=float(sigma),
              offsets=OFFSETS, background=BACKGROUND, source='procedural')
  return base.GroundTruthData('toy_bumps', (factor_size,) * 3, FACTOR_NAMES,
                              (DIM,), render, is_pure=True, info=info)


DATASETS = {'toy_bumps': make_toy_bumps}
