"""Tests for StateSpace: row-major index conversion and sampling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias.data import state_space

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')

GRIDS = [(1,), (5,), (2, 3), (3, 1, 4), (2, 2, 2, 2), (3, 6, 40, 32, 32),
         (10, 10, 10, 8, 4, 15), (1, 7, 1)]


@pytest.mark.parametrize('sizes', GRIDS)
def test_round_trip_numpy(sizes):
  space = state_space.StateSpace(sizes)
  n = space.num_points
  index = np.unique(np.linspace(0, n - 1, min(n, 5000)).astype(np.int64))
  factors = space.index_to_factors(index)
  assert isinstance(factors, np.ndarray) and factors.dtype == np.int32
  assert factors.shape == (len(index), len(sizes))
  assert (factors >= 0).all() and (factors < np.asarray(sizes)).all()
  np.testing.assert_array_equal(space.factors_to_index(factors), index)


@pytest.mark.parametrize('sizes', GRIDS)
def test_round_trip_jax_under_jit(sizes):
  space = state_space.StateSpace(sizes)
  factors = space.sample_factors(jax.random.key(0), 64)
  back = jax.jit(lambda f: space.index_to_factors(space.factors_to_index(f)))
  out = back(factors)
  assert isinstance(out, jax.Array) and out.dtype == jnp.int32
  np.testing.assert_array_equal(out, factors)


@pytest.mark.parametrize('sizes', [(2, 3), (3, 1, 4), (2, 5, 3)])
def test_row_major_last_factor_fastest(sizes):
  space = state_space.StateSpace(sizes)
  expected = np.stack(np.meshgrid(*[np.arange(s) for s in sizes],
                                  indexing='ij'), -1).reshape(-1, len(sizes))
  np.testing.assert_array_equal(space.all_factors(), expected)
  np.testing.assert_array_equal(
      space.factors_to_index(expected),
      np.ravel_multi_index(expected.T, sizes))


def test_matches_numpy_ravel_on_dsprites_grid():
  sizes = (3, 6, 40, 32, 32)
  space = state_space.StateSpace(sizes)
  index = np.asarray([0, 1, 32, 1024, 40960, 737279])
  np.testing.assert_array_equal(space.index_to_factors(index),
                                np.stack(np.unravel_index(index, sizes), -1))


def test_sample_factors_uniform_in_range():
  space = state_space.StateSpace((2, 5, 7))
  f = np.asarray(space.sample_factors(jax.random.key(1), 20_000))
  assert f.dtype == np.int32 and f.shape == (20_000, 3)
  for k, size in enumerate(space.factor_sizes):
    counts = np.bincount(f[:, k], minlength=size)
    assert len(counts) == size
    # Binomial sd of a count is <= sqrt(n / size) <= 100; allow 5 sd.
    assert np.abs(counts - 20_000 / size).max() < 500


def test_names_and_factor_index():
  space = state_space.StateSpace((2, 3), ('a', 'b'))
  assert space.num_factors == 2 and space.num_points == 6
  assert space.factor_index('b') == 1 and space.factor_index(0) == 0
  with pytest.raises(ValueError, match='valid: a, b'):
    space.factor_index('c')
  with pytest.raises(ValueError, match='out of range'):
    space.factor_index(2)
  assert state_space.StateSpace((4,)).factor_names == ('factor_0',)


@pytest.mark.parametrize('sizes,names', [((), None), ((2, 0), None),
                                          ((2, 3), ('a',))])
def test_bad_construction(sizes, names):
  with pytest.raises(ValueError):
    state_space.StateSpace(sizes, names)


def test_numpy_input_validation():
  space = state_space.StateSpace((2, 3))
  with pytest.raises(ValueError, match='out of range'):
    space.factors_to_index(np.asarray([[2, 0]]))
  with pytest.raises(ValueError, match='out of range'):
    space.factors_to_index(np.asarray([[0, -1]]))
  with pytest.raises(ValueError, match='last axis of size 2'):
    space.factors_to_index(np.asarray([[0, 1, 2]]))
  with pytest.raises(TypeError, match='integer'):
    space.factors_to_index(np.asarray([[0.0, 1.0]]))
  with pytest.raises(ValueError, match='out of range'):
    space.index_to_factors(np.asarray([6]))
  with pytest.raises(TypeError, match='integers'):
    space.index_to_factors(np.asarray([1.5]))
