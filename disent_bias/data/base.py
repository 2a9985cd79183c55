"""The ground-truth dataset interface shared by procedural and file data."""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.data import state_space


class GroundTruthData(state_space.StateSpace):
  """A factor grid plus a map from factors to observations.

  Attributes:
    name: registry name, e.g. ``'dsprites'``.
    observation_shape: (H, W, C) for images, (D,) for vectors.
    is_pure: True when ``render`` is a pure jnp function of the factors that
      may be called inside ``jax.jit`` / ``jax.vmap`` (procedural data). File
      backed data look images up on the host and return numpy arrays.
    variant: ``'original'``, ``'perturbed'`` or ``'noise'``.
    epsilon: amplitude of the perturbation (0 for ``original``).
  """

  is_pure: bool = True

  def __init__(self, name: str, factor_sizes: Sequence[int],
               factor_names: Sequence[str], observation_shape: Sequence[int],
               render_fn: Callable, *, is_pure: bool = True,
               variant: str = 'original', epsilon: float = 0.0,
               binary: bool = False, info: dict | None = None):
    super().__init__(factor_sizes, factor_names)
    self.name = name
    self.observation_shape = tuple(int(s) for s in observation_shape)
    self._render_fn = render_fn
    self.is_pure = is_pure
    self.variant = variant
    self.epsilon = float(epsilon)
    self.binary = binary
    self.info = dict(info or {})

  def render(self, factors):
    """int32 (n, K) factors -> float32 (n, *observation_shape) in [0, 1]."""
    if hasattr(factors, 'shape') and (
        len(factors.shape) != 2 or factors.shape[1] != self.num_factors):
      raise ValueError(
          f'{self.name}: factors must have shape (n, {self.num_factors}), '
          f'got {factors.shape}')
    return self._render_fn(factors)

  def render_index(self, index):
    """Flat indices (n,) -> observations (n, *observation_shape)."""
    return self.render(self.index_to_factors(index))

  def sample_observations(self, key: jax.Array, n: int):
    """Uniform factors and their observations: ((n, K), (n, *obs))."""
    factors = self.sample_factors(key, n)
    if not self.is_pure:
      factors = np.asarray(factors)
    return factors, self.render(factors)

  def replace(self, **changes) -> 'GroundTruthData':
    """A copy with some constructor arguments replaced."""
    kwargs = dict(name=self.name, factor_sizes=self.factor_sizes,
                  factor_names=self.factor_names,
                  observation_shape=self.observation_shape,
                  render_fn=self._render_fn, is_pure=self.is_pure,
                  variant=self.variant, epsilon=self.epsilon,
                  binary=self.binary, info=self.info)
    kwargs.update(changes)
    return GroundTruthData(**kwargs)

  def __repr__(self):
    return (f'GroundTruthData(name={self.name!r}, variant={self.variant!r}, '
            f'factors={dict(zip(self.factor_names, self.factor_sizes))}, '
            f'observation_shape={self.observation_shape})')


def as_float_image(x) -> jax.Array:
  """uint8 or bool images -> float32 in [0, 1]."""
  x = jnp.asarray(x)
  if x.dtype == jnp.uint8:
    return x.astype(jnp.float32) / 255.0
  return x.astype(jnp.float32)
