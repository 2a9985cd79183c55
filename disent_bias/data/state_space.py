"""Finite factor grids and row-major index conversion (last factor fastest)."""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np


class StateSpace:
  """A finite grid of ground-truth factors.

  Indices follow disentanglement_lib: row-major, the last factor varies
  fastest. Factors are int32 class indices of shape (..., K).
  """

  def __init__(self, factor_sizes: Sequence[int],
               factor_names: Sequence[str] | None = None):
    sizes = tuple(int(s) for s in factor_sizes)
    if not sizes or any(s < 1 for s in sizes):
      raise ValueError(f'factor_sizes must be positive ints, got {factor_sizes}')
    if factor_names is None:
      factor_names = tuple(f'factor_{i}' for i in range(len(sizes)))
    names = tuple(str(n) for n in factor_names)
    if len(names) != len(sizes):
      raise ValueError(
          f'need one name per factor, got {len(names)} names for sizes {sizes}')
    self.factor_sizes = sizes
    self.factor_names = names
    # strides[i] = prod(sizes[i+1:]).
    self._strides = tuple(int(np.prod(sizes[i + 1:], dtype=np.int64))
                          for i in range(len(sizes)))

  @property
  def num_factors(self) -> int:
    return len(self.factor_sizes)

  @property
  def num_points(self) -> int:
    return int(np.prod(self.factor_sizes, dtype=np.int64))

  def factor_index(self, factor: int | str) -> int:
    """Position of a factor given by name or index."""
    if isinstance(factor, str):
      if factor not in self.factor_names:
        raise ValueError(
            f'unknown factor {factor!r}; valid: {", ".join(self.factor_names)}')
      return self.factor_names.index(factor)
    if not 0 <= int(factor) < self.num_factors:
      raise ValueError(
          f'factor index {factor} out of range [0, {self.num_factors})')
    return int(factor)

  def _xp(self, x):
    return jnp if isinstance(x, jax.Array) else np

  def factors_to_index(self, factors):
    """int32 (..., K) factor classes -> int32 (...,) flat indices.

    Works on numpy arrays (returns numpy) and on jax arrays (returns jax,
    jit-safe). Out-of-range factors raise for numpy input.
    """
    xp = self._xp(factors)
    factors = xp.asarray(factors)
    if factors.shape[-1:] != (self.num_factors,):
      raise ValueError(
          f'factors need a last axis of size {self.num_factors}, '
          f'got shape {factors.shape}')
    if xp is np:
      if not np.issubdtype(factors.dtype, np.integer):
        raise TypeError(f'factors must be integer classes, got {factors.dtype}')
      if (factors < 0).any() or (factors >= np.array(self.factor_sizes)).any():
        raise ValueError(f'factors out of range for grid {self.factor_sizes}')
    strides = xp.asarray(self._strides, dtype=xp.int32)
    return (factors.astype(xp.int32) * strides).sum(-1).astype(xp.int32)

  def index_to_factors(self, index):
    """int (...,) flat indices -> int32 (..., K) factor classes."""
    xp = self._xp(index)
    index = xp.asarray(index)
    if xp is np:
      if not np.issubdtype(index.dtype, np.integer):
        raise TypeError(f'indices must be integers, got {index.dtype}')
      if (index < 0).any() or (index >= self.num_points).any():
        raise ValueError(f'index out of range [0, {self.num_points})')
    index = index.astype(xp.int32)
    cols = [(index // s) % n for s, n in zip(self._strides, self.factor_sizes)]
    return xp.stack(cols, axis=-1).astype(xp.int32)

  def sample_factors(self, key: jax.Array, n: int) -> jax.Array:
    """Factors drawn uniformly and independently: int32 (n, K)."""
    keys = jax.random.split(key, self.num_factors)
    cols = [jax.random.randint(k, (n,), 0, size)
            for k, size in zip(keys, self.factor_sizes)]
    return jnp.stack(cols, axis=-1).astype(jnp.int32)

  def all_factors(self) -> np.ndarray:
    """The whole grid in index order: int32 (num_points, K)."""
    return self.index_to_factors(np.arange(self.num_points, dtype=np.int64))

  def __repr__(self):
    inner = ', '.join(f'{n}={s}' for n, s in
                      zip(self.factor_names, self.factor_sizes))
    return f'{type(self).__name__}({inner})'
