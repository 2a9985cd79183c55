"""Tests for the factor and pair samplers."""

import jax
import numpy as np
import pytest

from disent_bias.data import samplers

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')

SIZES = (3, 6, 40, 32, 32)


def test_uniform_factors_range_and_coverage():
  f = np.asarray(samplers.uniform_factors(jax.random.key(0), (2, 3, 5), 3000))
  assert f.shape == (3000, 3) and f.dtype == np.int32
  for k, size in enumerate((2, 3, 5)):
    assert set(np.unique(f[:, k])) == set(range(size))


@pytest.mark.parametrize('x,size,expected', [
    ([-1, -2, 0, 4, 5, 7, 9], 5, [1, 2, 0, 4, 3, 1, 1]),
    ([-3, 3, 0], 1, [0, 0, 0]),
    ([-1, 2, 3], 2, [1, 0, 1]),
])
def test_reflect_known_values(x, size, expected):
  np.testing.assert_array_equal(samplers.reflect(np.asarray(x), size),
                                expected)


@pytest.mark.parametrize('rate', [1.0, 6.0])
def test_laplace_pairs_on_grid_and_sparse(rate):
  n = 20_000
  w0, w1 = samplers.laplace_transition_pairs(jax.random.key(1), SIZES, n,
                                             rate=rate)
  w0, w1 = np.asarray(w0), np.asarray(w1)
  assert w0.shape == w1.shape == (n, 5) and w1.dtype == np.int32
  for w in (w0, w1):
    assert (w >= 0).all() and (w < np.asarray(SIZES)).all()
  # A factor moves iff |Laplace(0, 1/rate)| >= 1/2, probability exp(-rate/2)
  # (reflection at the borders almost never maps a move back onto itself).
  moved = (w0 != w1).mean(axis=0)
  p = np.exp(-rate / 2)
  # Binomial sd over n draws is <= 0.0036; allow about 5 sd.
  np.testing.assert_allclose(moved[2:], p, atol=0.02)
  # Steps are small: with rate 6 nearly all moves are single grid steps.
  if rate == 6.0:
    step = np.abs(w1 - w0)[:, 2:]
    assert (step <= 2).mean() > 0.999


def test_laplace_pairs_deterministic():
  a = samplers.laplace_transition_pairs(jax.random.key(2), SIZES, 16, 2.0)
  b = samplers.laplace_transition_pairs(jax.random.key(2), SIZES, 16, 2.0)
  np.testing.assert_array_equal(a[0], b[0])
  np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize('k', [1, 2, 4, 5])
def test_shared_pairs_differ_in_at_most_k(k):
  n = 4000
  w0, w1 = samplers.shared_factor_pairs(jax.random.key(3), SIZES, n, k)
  w0, w1 = np.asarray(w0), np.asarray(w1)
  assert (w1 >= 0).all() and (w1 < np.asarray(SIZES)).all()
  differ = (w0 != w1).sum(axis=1)
  assert differ.max() <= k
  # Re-drawn values collide with the old ones only by chance (<= 1/3 per
  # factor here, and 1/32 for the large factors), so k is usually reached.
  assert (differ == k).mean() > 0.3
  # Every factor gets re-sampled sometimes.
  assert (w0 != w1).any(axis=0).all()


def test_shared_pairs_random_k():
  w0, w1 = samplers.shared_factor_pairs(jax.random.key(4), SIZES, 4000, None)
  differ = (np.asarray(w0) != np.asarray(w1)).sum(axis=1)
  assert differ.max() <= 4
  assert set(np.unique(differ)) >= {1, 2, 3, 4}


@pytest.mark.parametrize('k', [0, 6])
def test_shared_pairs_bad_k(k):
  with pytest.raises(ValueError, match='k must be in'):
    samplers.shared_factor_pairs(jax.random.key(0), SIZES, 4, k)
