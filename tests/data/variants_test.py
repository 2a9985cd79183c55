"""Tests for dataset variants (the ``noise`` control and argument checks)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias import data
from disent_bias.data import base
from disent_bias.data import variants

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def _toy(name='toy_grey'):
  """4 x 5 grid of constant 3 x 3 grey images (values 0..1)."""
  def render(factors):
    f = jnp.asarray(factors, jnp.float32)
    level = (f[:, 0] * 5 + f[:, 1]) / 19.0
    return jnp.broadcast_to(level[:, None, None, None], (f.shape[0], 3, 3, 1))
  return base.GroundTruthData(name, (4, 5), ('a', 'b'), (3, 3, 1), render)


@pytest.fixture(scope='module')
def dsprites_noise():
  return data.load('dsprites', variant='noise', epsilon=0.1)


@pytest.fixture(scope='module')
def noise_render(dsprites_noise):
  return jax.jit(dsprites_noise.render)


def test_noise_is_bounded_and_clipped(dsprites_noise, noise_render):
  clean = data.load('dsprites')
  f = clean.sample_factors(jax.random.key(0), 8)
  x = np.asarray(jax.jit(clean.render)(f))
  y = np.asarray(noise_render(f))
  assert y.dtype == np.float32 and y.shape == x.shape
  assert y.min() >= 0.0 and y.max() <= 1.0
  assert np.abs(y - x).max() <= 0.1 + 1e-6
  # Not a no-op: about half the pixels of a binary image are pushed inwards
  # (the other half is clipped back), by up to eps.
  assert np.abs(y - x).max() > 0.09
  assert (y != x).mean() > 0.4
  assert dsprites_noise.variant == 'noise'
  assert dsprites_noise.epsilon == pytest.approx(0.1)
  assert not dsprites_noise.binary


def test_noise_deterministic_per_grid_point(dsprites_noise, noise_render):
  f = dsprites_noise.sample_factors(jax.random.key(1), 8)
  a = np.asarray(noise_render(f))
  # Same grid points in another order and another batch: same images.
  b = np.asarray(noise_render(f[::-1]))[::-1]
  np.testing.assert_array_equal(a, b)
  c = np.asarray(noise_render(jnp.concatenate([f[4:], f[:4]])))
  np.testing.assert_array_equal(np.concatenate([a[4:], a[:4]]), c)


def test_noise_pattern_differs_between_images_and_is_uniform():
  ds = _toy()
  pattern = np.asarray(variants.noise_pattern(ds, ds.all_factors()))
  assert pattern.shape == (20, 3, 3, 1)
  assert np.abs(pattern).max() <= 1.0
  flat = pattern.reshape(20, -1)
  # Distinct grid points get different noise.
  for i in range(20):
    for j in range(i + 1, 20):
      assert np.abs(flat[i] - flat[j]).max() > 1e-3
  # U[-1, 1]: mean 0 (sd of the mean 0.58 / sqrt(180) = 0.043), var 1/3.
  assert abs(pattern.mean()) < 0.15
  assert abs(pattern.var() - 1 / 3) < 0.1


def test_noise_on_grey_images_unclipped():
  # Mid-grey levels are never clipped, so x' - x = eps * m exactly.
  ds = _toy()
  noisy = variants.apply_variant(ds, 'noise', 0.05)
  f = ds.all_factors()[5:15]
  diff = np.asarray(noisy.render(f)) - np.asarray(ds.render(f))
  m = np.asarray(variants.noise_pattern(ds, f))
  np.testing.assert_allclose(diff, 0.05 * m, atol=1e-6)


def test_default_epsilon():
  assert data.load('shapes3d', variant='noise').epsilon == pytest.approx(0.175)
  assert data.load('dsprites', variant='noise').epsilon == pytest.approx(0.1)
  assert variants.apply_variant(_toy(), 'noise').epsilon == pytest.approx(
      variants.FALLBACK_EPSILON)


def test_original_is_unchanged():
  ds = _toy()
  assert variants.apply_variant(ds, 'original') is ds


@pytest.mark.parametrize('variant,eps,match', [
    ('blur', None, 'unknown variant'), ('noise', 0.0, 'epsilon'),
    ('noise', 1.5, 'epsilon')])
def test_bad_arguments(variant, eps, match):
  with pytest.raises(ValueError, match=match):
    variants.apply_variant(_toy(), variant, eps)


def test_no_double_variant():
  noisy = variants.apply_variant(_toy(), 'noise', 0.1)
  with pytest.raises(ValueError, match='already'):
    variants.apply_variant(noisy, 'noise', 0.1)
