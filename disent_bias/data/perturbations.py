"""The ``perturbed`` variant: a faint travelling texture on a mixed factor.

``x'(w) = clip(x(w) + eps * m(w), 0, 1)`` (applied in ``variants``); this
module builds ``m`` with ``|m| <= 1``, a pure function of the factor indices
and of the image ``x(w)``.

Construction ("rotate", one shared mixed direction):

    m(w)[p] = s(x(w)[p]) * t(theta[p] + sum_{k in mixed} phi_k(w))

- ``theta[p]`` is a plane wave over the observation: for images
  ``2 pi (3 row / H + 2 col / W)`` (the same in every channel), for vectors
  ``2 pi 3 i / D``; so ``m`` is spread over *all* pixels, smoothly;
- the phase advances by about ``omega = pi / 4`` per grid step of *every*
  mixed factor: ``phi_k = omega w_k`` (the sum of their indices), so moving
  along any mixed factor shifts the texture the same way and moving along
  ``w_i - w_j`` does not;
- except where a factor's index is not what the image shows: a dataset
  declares such a factor's phase as a function of its images
  (``info[base.IMAGE_PHASE]``, ``image_phases``), so that grid points with
  equal images get equal textures and the variant carries no information
  the original lacks. dSprites does so for orientation
  (``dsprites.orientation_phase``, 0.48-0.64 rad per step): classes 0 and
  39 are the same angle, a square repeats every quarter turn, and small
  sprites pixelise alike at nearby angles (22,604 groups of equal images on
  the grid, all split by the index phase). No other dataset declares one,
  so their textures are bit-identical to the index construction;
- ``mixed`` are the ordinal factors (at least ``MIN_ORDINAL_VALUES`` values:
  dSprites scale, orientation, posX, posY; Shapes3D the three hues, scale,
  orientation; every factor of the toy and synthetic data); categorical
  factors with few values (shape) keep their own effect;
- ``t`` and the polarity ``s``: for binary data (dSprites) the texture is
  ``t = (1 + sin) / 2`` pushed *into* the valid range, ``s = 1 - 2 x``
  (up on black pixels, down on white ones), so nothing is lost to clipping;
  for continuous data ``t = sin`` and ``s = 1``.

Why this works (Rolinek et al. 2019; Zietlow et al. 2021): a VAE picks latent
axes along the eigenvectors of ``J^T J``, ``J`` the generator's Jacobian in
factor space. The texture adds the *same* vector ``g(w)`` to every mixed
column, ``J' = J + g 1_mixed^T``, so ``J'^T J' = J^T J + |g|^2 1 1^T`` on the
mixed block: a rank-one term along the diagonal direction ``sum_k e_k``.
Where two factors have nearly equal orthogonal effects (posX / posY, hues)
any such term turns the eigenbasis by 45 degrees; where the effects differ,
the term has to be comparable to them, which the bound ``|m| <= 1`` allows
only because ``g`` is spread over the whole image (``|g|^2`` grows with the
number of pixels, the factor effects of sprites only with their edges). The
phase rate is a compromise: the finite-difference effect is ``sin(omega)``
of its maximum (0.71 at ``pi / 4``, 1 at ``pi / 2``), while the texture
completes a period every 8 (4) grid steps, so a decoder can model it as two
smooth functions of the latents (``cos`` and ``sin`` of the phase times two
fixed images) — unlike a pattern that flips with the parity of an index,
which a two-point difference sees but no smooth decoder can follow.
Measured on dSprites (``docs/perturbations.md``): ``pi / 2`` raises the
radius-1 misalignment a little more than ``pi / 4`` (cosine mass 0.60 vs
0.52, original 0.23) but a 7-point stencil averages its 4-step period out
(0.25 vs 0.37, original 0.20), and it moves same-phase images of other
shapes/orientations closer than grid neighbours (nearest-neighbour probe
drop up to 0.054 vs 0.010), so ``pi / 4`` is kept everywhere.

Guarantees (tested): ``|m| <= 1`` so ``|x' - x|_inf <= eps``; deterministic;
the base image is kept up to ``eps``, so distinct binary images (differing by
1 somewhere) stay distinct for ``eps < 1/2``; equal dSprites images have
equal perturbed images (the whole grid), so there ``x'`` is a function of
``x``.
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.data import base

MIN_ORDINAL_VALUES = 5
PHASE_PER_STEP = math.pi / 4
SPATIAL_CYCLES = (3.0, 2.0)  # along rows, along columns (vectors: first only)
# (factors int32 (n, K), images (n, *obs)) -> phase float32 (n,).
ImagePhase = Callable[[jax.Array, jax.Array], jax.Array]


def mixed_factors(factor_sizes) -> tuple[int, ...]:
  """Indices of the ordinal factors the texture phase follows."""
  return tuple(i for i, s in enumerate(factor_sizes) if s >= MIN_ORDINAL_VALUES)


def spatial_phase(observation_shape) -> np.ndarray:
  """theta (*obs): the plane wave's phase per observation value."""
  shape = tuple(observation_shape)
  if len(shape) == 3:
    h, w, c = shape
    rows = np.arange(h)[:, None, None] / h
    cols = np.arange(w)[None, :, None] / w
    theta = 2 * np.pi * (SPATIAL_CYCLES[0] * rows + SPATIAL_CYCLES[1] * cols)
    return np.broadcast_to(theta, shape).astype(np.float32)
  size = int(np.prod(shape))
  theta = 2 * np.pi * SPATIAL_CYCLES[0] * np.arange(size) / size
  return theta.reshape(shape).astype(np.float32)


def factor_phase(factors: jax.Array, factor_sizes,
                 phase_per_step: float = PHASE_PER_STEP,
                 skip: tuple[int, ...] = ()) -> jax.Array:
  """omega * (sum of the mixed factors' indices, except ``skip``): (n,)."""
  mixed = tuple(k for k in mixed_factors(factor_sizes) if k not in skip)
  columns = jnp.asarray(mixed or (0,), jnp.int32)
  weight = 1.0 if mixed else 0.0
  return weight * phase_per_step * factors[:, columns].sum(-1).astype(
      jnp.float32)


def image_phases(dataset) -> dict[int, ImagePhase]:
  """Mixed factors whose phase the dataset derives from its images.

  ``dataset.info[base.IMAGE_PHASE]`` maps factor names to functions
  ``(factors int32 (n, K), images (n, *obs)) -> float32 (n,)`` (radians);
  only the mixed factors among them count.

  Returns:
    factor column -> its phase function.
  """
  declared = dataset.info.get(base.IMAGE_PHASE, {})
  mixed = mixed_factors(dataset.factor_sizes)
  return {k: declared[name] for k, name in enumerate(dataset.factor_names)
          if name in declared and k in mixed}


def make_perturbation(dataset, phase_per_step: float = PHASE_PER_STEP
                      ) -> Callable[[jax.Array], jax.Array]:
  """The perturbation pattern of ``dataset`` (an ``original`` dataset).

  Args:
    dataset: a ``GroundTruthData``; its ``render`` gives the base images (used
      for the polarity of binary data) and its grid gives the mixed factors.
    phase_per_step: omega, the phase advance per grid step of a mixed
      factor (``variant='perturbed'`` uses the default); a phase the
      dataset derives from its images keeps its own rate.

  Returns:
    ``m(factors int32 (n, K)) -> float32 (n, *obs)`` with ``|m| <= 1``; pure
    jnp for procedural datasets. The phase of a factor the dataset declares
    in ``info[base.IMAGE_PHASE]`` comes from the base images.
  """
  theta = jnp.asarray(spatial_phase(dataset.observation_shape))
  sizes = tuple(dataset.factor_sizes)
  binary = bool(dataset.binary)
  omega = float(phase_per_step)
  base_render = dataset.render
  from_image = image_phases(dataset)
  obs_axes = (None,) * len(dataset.observation_shape)

  def pattern(factors):
    factors = jnp.asarray(factors, jnp.int32)
    x = (jnp.asarray(base_render(factors), jnp.float32)
         if binary or from_image else None)
    phase = factor_phase(factors, sizes, omega, skip=tuple(from_image))
    for phase_fn in from_image.values():
      phase = phase + phase_fn(factors, x)
    wave = jnp.sin(theta[None] + phase[(slice(None), *obs_axes)])
    if not binary:
      return wave
    return (1.0 - 2.0 * x) * 0.5 * (1.0 + wave)

  return pattern
