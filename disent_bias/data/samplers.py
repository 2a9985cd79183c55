"""Pair samplers: sparse temporal transitions (SlowVAE, PCL) and shared-factor
pairs (Ada-GVAE). Pure functions of a PRNG key and static grid sizes."""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp


def uniform_factors(key: jax.Array, factor_sizes: Sequence[int],
                    n: int) -> jax.Array:
  """Independent uniform factor classes: int32 (n, K)."""
  keys = jax.random.split(key, len(factor_sizes))
  cols = [jax.random.randint(k, (n,), 0, s) for k, s in zip(keys, factor_sizes)]
  return jnp.stack(cols, axis=-1).astype(jnp.int32)


def reflect(x: jax.Array, size: jax.Array) -> jax.Array:
  """Reflects integer positions into [0, size - 1] (mirror at both ends).

  A walk that steps past the border bounces back, so the transition keeps
  its Laplace shape near the edges instead of piling mass on the border.
  """
  size = jnp.asarray(size)
  period = jnp.maximum(2 * (size - 1), 1)
  x = jnp.mod(x, period)
  return jnp.where(x >= size, period - x, x).astype(jnp.int32)


def laplace_transition_pairs(key: jax.Array, factor_sizes: Sequence[int],
                             n: int, rate: float = 1.0,
                             ) -> tuple[jax.Array, jax.Array]:
  """Pairs (w_t, w_{t+1}) with sparse Laplace transitions.

  ``w_t`` is uniform on the grid; ``w_{t+1} = reflect(w_t + round(Laplace(0, b)))``
  per factor with scale ``b = 1 / rate`` (in grid steps). Positions leaving
  the grid are reflected back into it (see ``reflect``). A factor with one
  value never moves.

  Args:
    key: PRNG key.
    factor_sizes: static grid sizes (K,).
    n: number of pairs.
    rate: Laplace rate 1 / b; larger means sparser, smaller transitions.

  Returns:
    Two int32 (n, K) arrays.
  """
  k0, k1 = jax.random.split(key)
  w0 = uniform_factors(k0, factor_sizes, n)
  step = jnp.round(jax.random.laplace(k1, w0.shape) / rate).astype(jnp.int32)
  sizes = jnp.asarray(factor_sizes, jnp.int32)
  w1 = reflect(w0 + step, sizes)
  return w0, w1


def shared_factor_pairs(key: jax.Array, factor_sizes: Sequence[int], n: int,
                        k: int | None = 1) -> tuple[jax.Array, jax.Array]:
  """Pairs that share all but ``k`` randomly chosen factors (Ada-GVAE).

  Args:
    key: PRNG key.
    factor_sizes: static grid sizes (K,).
    n: number of pairs.
    k: number of factors re-sampled in the second element; ``None`` draws k
      uniformly in [1, K - 1] per pair, as in Locatello et al. (2020).

  Returns:
    Two int32 (n, K) arrays. The re-sampled factors are drawn uniformly, so
    they may coincide with the first element's value by chance.
  """
  num = len(factor_sizes)
  k0, k1, k2, k3 = jax.random.split(key, 4)
  w0 = uniform_factors(k0, factor_sizes, n)
  fresh = uniform_factors(k1, factor_sizes, n)
  if k is None:
    kk = jax.random.randint(k2, (n, 1), 1, max(num, 2))
  else:
    if not 1 <= k <= num:
      raise ValueError(f'k must be in [1, {num}], got {k}')
    kk = jnp.full((n, 1), k)
  # Rank a random score per factor; the k lowest ranks are re-sampled.
  ranks = jnp.argsort(jnp.argsort(jax.random.uniform(k3, (n, num)), -1), -1)
  change = ranks < kk
  return w0, jnp.where(change, fresh, w0).astype(jnp.int32)
