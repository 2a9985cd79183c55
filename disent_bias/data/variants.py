"""Dataset variants: ``original``, ``perturbed`` and the ``noise`` control.

Both non-original variants are deterministic pure functions of the factor
indices, ``x' = clip(x + eps * m(w), 0, 1)`` with ``|m(w)|_inf <= 1``:
- ``noise``: ``m`` is i.i.d. U[-1, 1] per pixel, drawn from a key folded with
  the flat grid index, so an image always gets the same noise.
- ``perturbed``: ``m`` comes from ``disent_bias.data.perturbations``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.data import base
from disent_bias.data import perturbations

VARIANTS = ('original', 'perturbed', 'noise')
# The paper's eps for dSprites and Shapes3D; for the 32x32 image tier
# (``tiers``) the eps at which the perturbed variant's median local-PCA DtO
# reaches about 1 (docs/datasets.md, "The image tier"): dsprites32 0.29
# original, 0.52 / 0.78 / 0.99 at eps 0.1 / 0.15 / 0.2; shapes3d32 keeps
# the paper's Shapes3D value (0.00 original, 1.30 from eps 0.1 on).
DEFAULT_EPSILON = {'dsprites': 0.1, 'shapes3d': 0.175, 'dsprites32': 0.2,
                   'shapes3d32': 0.175}
FALLBACK_EPSILON = 0.1
_NOISE_SEED = 20210214


def default_epsilon(name: str) -> float:
  return DEFAULT_EPSILON.get(name, FALLBACK_EPSILON)


def noise_pattern(dataset: base.GroundTruthData, factors) -> jax.Array:
  """i.i.d. U[-1, 1] per pixel, fixed per grid point: (n, *obs)."""
  index = dataset.factors_to_index(jnp.asarray(factors, jnp.int32))
  root = jax.random.key(_NOISE_SEED)
  draw = lambda i: jax.random.uniform(
      jax.random.fold_in(root, i), dataset.observation_shape,
      minval=-1.0, maxval=1.0)
  return jax.vmap(draw)(index)


def apply_variant(dataset: base.GroundTruthData, variant: str,
                  epsilon: float | None = None) -> base.GroundTruthData:
  """Wraps ``dataset.render`` with the requested variant.

  Args:
    dataset: an ``original`` dataset.
    variant: one of ``VARIANTS``.
    epsilon: amplitude; defaults to ``DEFAULT_EPSILON[name]``, else 0.1.

  Returns:
    A dataset with the same grid whose ``render`` applies the variant.
  """
  if variant not in VARIANTS:
    raise ValueError(f'unknown variant {variant!r}; valid: {", ".join(VARIANTS)}')
  if dataset.variant != 'original':
    raise ValueError(f'{dataset.name} is already the {dataset.variant!r} variant')
  if variant == 'original':
    return dataset
  eps = default_epsilon(dataset.name) if epsilon is None else float(epsilon)
  if not 0.0 < eps <= 1.0:
    raise ValueError(f'epsilon must be in (0, 1], got {epsilon}')
  if variant == 'noise':
    pattern = lambda f: noise_pattern(dataset, f)
  else:
    pattern = perturbations.make_perturbation(dataset)
  base_render = dataset.render

  def render(factors):
    x = base_render(factors)
    m = pattern(jnp.asarray(factors, jnp.int32))
    out = jnp.clip(jnp.asarray(x) + eps * m, 0.0, 1.0)
    return out if dataset.is_pure else np.asarray(out)

  return dataset.replace(render_fn=render, variant=variant, epsilon=eps,
                         binary=False)
