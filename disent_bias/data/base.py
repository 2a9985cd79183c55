"""The ground-truth dataset interface shared by procedural and file data."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.data import state_space

# ``info`` key: factor name -> its perturbation phase as a function of the
# images, ``(factors int32 (n, K), images (n, *obs)) -> float32 (n,)``
# (``perturbations.image_phases``); ``subgrid`` keeps it on the full grid's
# factors.
IMAGE_PHASE = 'image_phase'


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


def check_image_size(name: str, image_size: Any) -> int:
  """A procedural image side: an int multiple of 16 (the conv networks')."""
  if (not isinstance(image_size, (int, np.integer)) or isinstance(
      image_size, bool) or image_size < 16 or image_size % 16):
    raise ValueError(f'{name}: image_size must be a multiple of 16 (>= 16), '
                     f'got {image_size!r}')
  return int(image_size)


def subgrid(dataset: GroundTruthData, values: Mapping[str, Sequence[int]],
            name: str | None = None) -> GroundTruthData:
  """The dataset restricted to chosen values of some factors.

  Args:
    dataset: a pure (procedural) ``original`` dataset.
    values: factor name -> the grid indices it keeps, in order (e.g.
      ``{'shape': [1], 'posX': range(0, 32, 2)}``). A factor kept at one
      value is dropped from the grid (it is a constant of the images, and a
      factor without variation has no entropy for the metrics).
    name: registry name of the result (default: the dataset's).

  Returns:
    A ``GroundTruthData`` whose factor k indexes ``values[k]`` of the
    original factor; ``info['subgrid']`` records the kept indices.

  Raises:
    ValueError: unknown factor names, empty or out-of-range index lists.
  """
  if not dataset.is_pure:
    raise ValueError(f'subgrid needs a procedural dataset, got {dataset}')
  unknown = set(values) - set(dataset.factor_names)
  if unknown:
    raise ValueError(f'{dataset.name} has no factor {sorted(unknown)}; '
                     f'factors: {", ".join(dataset.factor_names)}')
  kept = []
  for factor, size in zip(dataset.factor_names, dataset.factor_sizes):
    index = [int(i) for i in values.get(factor, range(size))]
    if not index or min(index) < 0 or max(index) >= size:
      raise ValueError(f'{dataset.name}.{factor}: indices must be a non-empty '
                       f'subset of 0..{size - 1}, got {index}')
    kept.append(index)
  varying = [k for k, index in enumerate(kept) if len(index) > 1]
  tables = [jnp.asarray(index, jnp.int32) for index in kept]
  base_render = dataset.render

  def full_factors(factors):
    factors = jnp.asarray(factors, jnp.int32)
    columns = [jnp.full(factors.shape[:1], index[0], jnp.int32)
               for index in kept]
    for j, k in enumerate(varying):
      columns[k] = tables[k][factors[:, j]]
    return jnp.stack(columns, axis=-1)

  def render(factors):
    return base_render(full_factors(factors))

  info = dict(dataset.info, subgrid={
      f: list(index) for f, index in zip(dataset.factor_names, kept)})
  if IMAGE_PHASE in info:
    info[IMAGE_PHASE] = {
        name: _on_full_factors(phase_fn, full_factors)
        for name, phase_fn in info[IMAGE_PHASE].items()}
  return dataset.replace(
      name=name or dataset.name,
      factor_sizes=tuple(len(kept[k]) for k in varying),
      factor_names=tuple(dataset.factor_names[k] for k in varying),
      render_fn=render, info=info)


def _on_full_factors(phase_fn: Callable, full_factors: Callable) -> Callable:
  """An image phase function of the full grid, called with subgrid factors."""
  return lambda factors, images: phase_fn(full_factors(factors), images)
