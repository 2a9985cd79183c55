"""Synthetic vector datasets: the toy tasks of Rolinek et al. (CVPR 2019).

Each factor takes ``factor_size`` values on ``linspace(-1, 1, factor_size)``;
the factor vector ``w`` (K,) is mapped to R^D by a fixed generator:

- ``synthetic_linear``: ``y = A w`` with ``A = Q diag(scales)``, ``Q`` (D, K) a
  random matrix with orthonormal columns. The columns of ``A`` are orthogonal
  with distinct norms ``scales``, so the principal (PCA) directions of the data
  are well defined and coincide with the factor axes.
- ``synthetic_nonlinear``: ``y = MLP(w)``, a fixed random tanh network (Glorot
  normal weights, zero biases) with a linear output layer.

Observations must lie in [0, 1] (the default reconstruction loss is
Bernoulli), so ``y`` is squashed by the fixed affine map
``x = 0.5 + 0.5 * y / bound``, where ``bound`` is the largest |y_d| over the
whole grid (computed once at construction). Hence ``x = offset + matrix @ w``
for the linear task, with ``matrix = 0.5 * A / bound`` exposed as
``dataset.info['matrix']`` (its Jacobian in factor *values*) and
``info['jacobian_per_step']`` (per grid step, ``matrix * step``).

References:
  M. Rolinek, D. Zietlow, G. Martius. Variational Autoencoders Pursue PCA
  Directions (by Accident). CVPR 2019, Section 5 (synthetic tasks).
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.data import base
from disent_bias.data import state_space

_MAX_BOUND_POINTS = 2**18


def _factor_grid(num_factors: int, factor_size: int):
  if num_factors < 1:
    raise ValueError(f'num_factors must be >= 1, got {num_factors}')
  if factor_size < 2:
    raise ValueError(f'factor_size must be >= 2, got {factor_size}')
  values = np.linspace(-1.0, 1.0, factor_size).astype(np.float32)
  return (factor_size,) * num_factors, values


def _scales(num_factors: int, scales: Sequence[float] | None) -> np.ndarray:
  """``scales`` as float64 (K,), checked positive; default 0.8**k.

  The default gives distinct, geometrically spaced norms: 1, 0.8, 0.64, ...
  """
  if scales is None:
    return 0.8 ** np.arange(num_factors)
  scales = np.asarray(scales, np.float64)
  if scales.shape != (num_factors,) or (scales <= 0).any():
    raise ValueError(f'scales must be {num_factors} positive numbers, '
                     f'got {scales}')
  return scales


def make_linear(num_factors: int = 3, factor_size: int = 10, dim: int = 10,
                scales: Sequence[float] | None = None, seed: int = 0,
                squash: bool = True) -> base.GroundTruthData:
  """Linear toy task: x = 0.5 + M w, M (D, K) with orthogonal columns.

  With ``squash=False`` the observations are ``x = A w`` itself (``M = A``,
  offset 0, no clipping): not confined to [0, 1], so only for the L2
  likelihood. The column norms are then exactly ``scales``, which sets the
  signal-to-prior ratio directly (the 2019 mechanism check uses it; the
  squashed data have column norms below 0.5, a weak signal against a
  unit-variance prior).

  Args:
    num_factors: K.
    factor_size: values per factor, on linspace(-1, 1, factor_size).
    dim: observation dimension D >= K.
    scales: K distinct positive column norms of the generator before
      squashing; default 0.8**k.
    seed: seed of the random orthonormal frame Q.
    squash: map into [0, 1] (default) or keep ``x = A w``.

  Returns:
    A ``GroundTruthData`` with observation_shape (D,), values in [0, 1]
    when squashed; ``info['matrix']`` is M (D, K) float32 and
    ``info['offset']`` (D,).

  Raises:
    ValueError: for inconsistent sizes or scales.
  """
  sizes, values = _factor_grid(num_factors, factor_size)
  if dim < num_factors:
    raise ValueError(f'dim must be >= num_factors, got dim={dim}, '
                     f'num_factors={num_factors}')
  scales = _scales(num_factors, scales)
  rng = np.random.default_rng(seed)
  q, _ = np.linalg.qr(rng.standard_normal((dim, num_factors)))
  a = q * scales[None, :]
  # max over w in [-1, 1]^K of |a_d . w| is the l1 norm of row d.
  if squash:
    bound = float(np.abs(a).sum(axis=1).max())
    matrix = (0.5 * a / bound).astype(np.float32)
    offset = np.full((dim,), 0.5, np.float32)
  else:
    matrix = a.astype(np.float32)
    offset = np.zeros((dim,), np.float32)
  step = float(values[1] - values[0])
  jm, jo, jv = jnp.asarray(matrix), jnp.asarray(offset), jnp.asarray(values)

  def render(factors):
    w = jv[jnp.asarray(factors, jnp.int32)]
    x = jo + w @ jm.T
    return jnp.clip(x, 0.0, 1.0) if squash else x

  info = dict(matrix=matrix, offset=offset, values=values, scales=scales,
              jacobian_per_step=matrix * step, seed=seed, squash=squash,
              source='procedural')
  return base.GroundTruthData(
      'synthetic_linear', sizes, [f'w{i}' for i in range(num_factors)],
      (dim,), render, is_pure=True, info=info)


def make_nonlinear(num_factors: int = 3, factor_size: int = 10, dim: int = 10,
                   hidden: Sequence[int] = (32, 32), scales: Sequence[float] |
                   None = None, seed: int = 0) -> base.GroundTruthData:
  """Nonlinear toy task: x = 0.5 + 0.5 * MLP(scales * w) / bound.

  Args:
    num_factors: K.
    factor_size: values per factor, on linspace(-1, 1, factor_size).
    dim: observation dimension D.
    hidden: widths of the tanh hidden layers.
    scales: K positive per-factor input scales (distinct local variances);
      default 0.8**k.
    seed: seed of the random weights.

  Returns:
    A ``GroundTruthData`` with observation_shape (D,), values in [0, 1];
    ``info['weights']`` holds the MLP's (W, b) pairs.

  Raises:
    ValueError: for inconsistent sizes or scales.
  """
  sizes, values = _factor_grid(num_factors, factor_size)
  if dim < 1 or any(h < 1 for h in hidden):
    raise ValueError(f'dim and hidden widths must be >= 1, got {dim}, {hidden}')
  scales = _scales(num_factors, scales)
  rng = np.random.default_rng(seed)
  widths = (num_factors, *hidden, dim)
  weights = []
  for fan_in, fan_out in zip(widths[:-1], widths[1:]):
    std = np.sqrt(2.0 / (fan_in + fan_out))  # Glorot normal.
    w = rng.standard_normal((fan_in, fan_out)) * std
    weights.append((w.astype(np.float32), np.zeros(fan_out, np.float32)))
  jscales = jnp.asarray(scales, jnp.float32)
  jweights = [(jnp.asarray(w), jnp.asarray(b)) for w, b in weights]

  def mlp(w):
    h = w * jscales
    for i, (kernel, bias) in enumerate(jweights):
      h = h @ kernel + bias
      if i < len(jweights) - 1:
        h = jnp.tanh(h)
    return h

  bound = _grid_bound(mlp, sizes, values, rng)
  jv = jnp.asarray(values)

  def render(factors):
    y = mlp(jv[jnp.asarray(factors, jnp.int32)])
    return jnp.clip(0.5 + 0.5 * y / bound, 0.0, 1.0)

  info = dict(weights=weights, scales=scales, bound=bound, values=values,
              seed=seed, source='procedural')
  return base.GroundTruthData(
      'synthetic_nonlinear', sizes, [f'w{i}' for i in range(num_factors)],
      (dim,), render, is_pure=True, info=info)


def _grid_bound(fn: Callable[[jax.Array], jax.Array], sizes: Sequence[int],
                values: np.ndarray, rng: np.random.Generator) -> float:
  """The squashing bound: the largest |fn(w)| over the grid (at least 1e-6).

  Over a fixed random subset of ``_MAX_BOUND_POINTS`` grid points (drawn from
  ``rng``) for larger grids; the output is clipped to [0, 1] either way.
  """
  space = state_space.StateSpace(sizes)
  if space.num_points <= _MAX_BOUND_POINTS:
    grid_factors = space.all_factors()
  else:
    grid_factors = np.asarray(space.index_to_factors(rng.integers(
        0, space.num_points, _MAX_BOUND_POINTS)))
  grid_values = values[grid_factors]
  bound = float(np.abs(np.asarray(jax.jit(fn)(grid_values))).max())
  return max(bound, 1e-6)
