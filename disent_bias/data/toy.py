"""Toy ground-truth data for CPU-scale experiments: moving bumps on a strip.

``toy_bumps``: three factors, each the position of a Gaussian bump inside its
own window of a 1-D "image" (a vector of ``DIM`` values in [0, 1]); the rest
of the strip is a flat background. It is a minimal dSprites: the factor
effects are local (a few pixels near each bump), orthogonal (disjoint
windows) and of distinct size (bump heights ``HEIGHTS``), so the local
variance structure is factor-aligned with a well-defined principal basis,
exactly the situation in which a VAE disentangles "by accident" (Rolinek et
al. 2019). Like dSprites, most of the strip is background, so the
``perturbed`` variant's texture (``perturbations``: a plane wave over all
``DIM`` values whose phase follows the sum of the factor indices) has an
effect comparable to the factors' own, while the change per image stays
small (``|x' - x|_inf <= eps``).

Layout (``DIM = 128``): windows of 16 values at offsets 8, 56 and 104;
background 0.2; bump k has height ``HEIGHTS[k]`` and width ``SIGMA``; its
centre runs from 3 to 12 inside the window over ``FACTOR_SIZE`` steps. MLP
models (``architecture='mlp'``) train on it in seconds.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from disent_bias.data import base

DIM = 128
WINDOW = 16
OFFSETS = (8, 56, 104)
HEIGHTS = (0.7, 0.5, 0.35)
SIGMA = 1.5
BACKGROUND = 0.2
FACTOR_SIZE = 10
FACTOR_NAMES = ('bump0', 'bump1', 'bump2')


def make_toy_bumps(factor_size: int = FACTOR_SIZE,
                   heights=HEIGHTS) -> base.GroundTruthData:
  """Three moving bumps on a 128-value strip.

  Args:
    factor_size: positions per bump (>= 2).
    heights: bump heights (3 distinct positive values with background +
      height <= 1).

  Returns:
    A ``GroundTruthData`` named ``'toy_bumps'`` with observation_shape (128,).

  Raises:
    ValueError: for bad sizes or heights.
  """
  if factor_size < 2:
    raise ValueError(f'factor_size must be >= 2, got {factor_size}')
  heights = np.asarray(heights, np.float32)
  if heights.shape != (3,) or (heights <= 0).any() or (
      BACKGROUND + heights > 1).any():
    raise ValueError(f'heights must be 3 values in (0, {1 - BACKGROUND}], '
                     f'got {heights}')
  centres = np.linspace(3.0, WINDOW - 4.0, factor_size).astype(np.float32)
  pixels = np.arange(DIM, dtype=np.float32)
  jc, jh, jp = jnp.asarray(centres), jnp.asarray(heights), jnp.asarray(pixels)
  joff = jnp.asarray(OFFSETS, jnp.float32)

  def render(factors):
    f = jnp.asarray(factors, jnp.int32)
    centre = joff[None, :] + jc[f]  # (n, 3) absolute positions
    bumps = jh[None, :, None] * jnp.exp(
        -0.5 * ((jp[None, None, :] - centre[:, :, None]) / SIGMA) ** 2)
    return jnp.clip(BACKGROUND + bumps.sum(1), 0.0, 1.0)

  info = dict(centres=centres, heights=heights, sigma=SIGMA,
              offsets=OFFSETS, source='procedural')
  return base.GroundTruthData('toy_bumps', (factor_size,) * 3, FACTOR_NAMES,
                              (DIM,), render, is_pure=True, info=info)


DATASETS = {'toy_bumps': make_toy_bumps}
