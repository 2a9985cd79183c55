"""Finite-difference Jacobians of a ground-truth generator in factor space.

A dataset is a map from factor indices ``w`` (K,) to an observation ``x(w)``.
Its local linearisation at a grid point is ``J(w)`` of shape (P, K), P the
number of observation values (pixels x channels), one column per factor, in
units of "observation change per grid step".

With ``radius=1`` (the default) column k is the central difference
``(x(w + e_k) - x(w - e_k)) / 2`` and the one-sided difference at the border
of the grid. A larger radius fits the least-squares slope through the
``2 * radius + 1`` grid points along the axis (clipped to the grid), which for
``radius=1`` is exactly the central / one-sided difference. Longer stencils
average out changes that flip from one grid point to the next (per-image
noise, parity patterns): such changes look large to a two-point difference
but a smooth decoder cannot follow them, so comparing radii separates the
smooth part of the local structure from the rough part.

A factor with a single value has a zero column.

``blur`` (pixels, images only) low-passes every rendered image with a
Gaussian before differencing. The Jacobian of a binary image is dominated by
its edges (one pixel flips per step along the outline), where a moving edge
and a growing or rotating one share pixels, and a shift in x and one in y
share the corner pixels (their contributions cancel only for outlines that
are symmetric on the pixel grid, not for rotated or aliased sprites). A decoder with smooth outputs sees the images as a
slightly blurred function of the factors; blurring by about one pixel
measures that smooth structure (for centrally symmetric sprites the columns
of position, scale and orientation become orthogonal) and leaves a smooth
texture essentially unchanged.
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np


def _stencil(factor_sizes: Sequence[int], factors: jax.Array, radius: int):
  """Neighbour factors and regression weights along each axis.

  Args:
    factor_sizes: static grid sizes (K,).
    factors: int32 (N, K) grid points.
    radius: stencil half width r >= 1.

  Returns:
    neighbours: int32 (N, K, 2r + 1, K) factor rows (clipped to the grid);
    weights: float32 (N, K, 2r + 1) least-squares slope weights; the slope
      along axis k is ``sum_t weights[..., k, t] * x(neighbours[..., k, t])``.
  """
  num = len(factor_sizes)
  offsets = jnp.arange(-radius, radius + 1, dtype=jnp.int32)  # (T,)
  sizes = jnp.asarray(factor_sizes, jnp.int32)  # (K,)
  eye = jnp.eye(num, dtype=jnp.int32)  # (K, K)
  # pos[n, k, t] = w_k + t; valid where it stays on the grid.
  pos = factors[:, :, None] + offsets[None, None, :]
  valid = (pos >= 0) & (pos < sizes[None, :, None])
  t = offsets.astype(jnp.float32)[None, None, :] * valid
  count = valid.sum(-1, keepdims=True)
  t_mean = t.sum(-1, keepdims=True) / jnp.maximum(count, 1)
  centred = (t - t_mean) * valid
  denom = (centred ** 2).sum(-1, keepdims=True)
  weights = jnp.where(denom > 0, centred / jnp.where(denom > 0, denom, 1.0), 0.)
  clipped = jnp.clip(pos, 0, sizes[None, :, None] - 1)
  # neighbours[n, k, t, :] = factors[n] with coordinate k replaced.
  neighbours = (factors[:, None, None, :] * (1 - eye)[None, :, None, :]
                + clipped[:, :, :, None] * eye[None, :, None, :])
  return neighbours.astype(jnp.int32), weights.astype(jnp.float32)


def generator_jacobian(render_fn: Callable, factor_sizes: Sequence[int],
                       factors: jax.typing.ArrayLike, *,
                       radius: int = 1) -> jax.Array:
  """Finite-difference factor-space Jacobians at a batch of grid points.

  Pure jnp when ``render_fn`` is (jit it, or a chunk of it, at the caller);
  for host renderers (file-backed data) call it eagerly.

  Args:
    render_fn: factors int32 (M, K) -> observations (M, *obs).
    factor_sizes: static grid sizes (K,).
    factors: int32 (N, K) grid points.
    radius: stencil half width; 1 = central differences, one-sided at the
      grid border.

  Returns:
    float32 (N, P, K) with P = prod(obs): J[n, :, k] is the change of the
    flattened observation per grid step of factor k.

  Raises:
    ValueError: factors of the wrong shape or radius < 1.
  """
  factors = jnp.asarray(factors, jnp.int32)
  num = len(factor_sizes)
  if factors.ndim != 2 or factors.shape[1] != num:
    raise ValueError(f'factors must have shape (N, {num}), got {factors.shape}')
  if radius < 1:
    raise ValueError(f'radius must be >= 1, got {radius}')
  neighbours, weights = _stencil(factor_sizes, factors, radius)
  n, _, taps, _ = neighbours.shape
  x = jnp.asarray(render_fn(neighbours.reshape(-1, num)), jnp.float32)
  x = x.reshape(n, num, taps, -1)  # (N, K, T, P)
  jac = jnp.einsum('nkt,nktp->npk', weights, x)
  return jac


def gaussian_blur(images: jax.Array, sigma: float) -> jax.Array:
  """Separable Gaussian blur of (N, H, W, C) images (edge padding): same shape.

  The kernel has half width ``ceil(3 sigma)`` and sums to 1.
  """
  if sigma <= 0:
    return images
  half = int(np.ceil(3 * sigma))
  t = np.arange(-half, half + 1, dtype=np.float32)
  kernel = np.exp(-0.5 * (t / sigma) ** 2)
  kernel = jnp.asarray(kernel / kernel.sum())
  x = jnp.pad(images, ((0, 0), (half, half), (half, half), (0, 0)),
              mode='edge')
  h, w = images.shape[1], images.shape[2]
  x = sum(kernel[i] * x[:, i:i + h] for i in range(2 * half + 1))
  return sum(kernel[i] * x[:, :, i:i + w] for i in range(2 * half + 1))


def blurred_render(render_fn: Callable, sigma: float) -> Callable:
  """``render_fn`` followed by ``gaussian_blur`` (identity for sigma 0)."""
  if sigma <= 0:
    return render_fn

  def render(factors):
    x = jnp.asarray(render_fn(factors), jnp.float32)
    if x.ndim != 4:
      raise ValueError(f'blur needs (N, H, W, C) images, got {x.shape}')
    return gaussian_blur(x, sigma)

  return render


def generator_jacobians(dataset, factors: np.ndarray, *, radius: int = 1,
                        chunk: int = 64, blur: float = 0.0) -> np.ndarray:
  """``generator_jacobian`` over many points, in jitted chunks: (N, P, K).

  Args:
    dataset: a ``GroundTruthData`` (``render`` and ``factor_sizes``).
    factors: int (N, K) grid points.
    radius: stencil half width (see ``generator_jacobian``).
    chunk: points per jitted call (memory: chunk * K * (2r + 1) renders).
    blur: Gaussian blur sigma in pixels applied to every render (images
      only; 0 = none).

  Returns:
    float32 numpy (N, P, K).
  """
  factors = np.asarray(factors, np.int32)
  sizes = tuple(dataset.factor_sizes)

  render = blurred_render(dataset.render, blur)

  def one_chunk(f):
    return generator_jacobian(render, sizes, f, radius=radius)

  fn = jax.jit(one_chunk) if dataset.is_pure else one_chunk
  out = []
  for start in range(0, len(factors), chunk):
    part = factors[start:start + chunk]
    pad = chunk - len(part)
    if dataset.is_pure and pad:  # keep one compiled shape
      part = np.concatenate([part, np.repeat(part[-1:], pad, 0)])
    out.append(np.asarray(fn(part))[:chunk - pad])
  return np.concatenate(out, 0)
