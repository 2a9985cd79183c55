"""Tests for the synthetic linear / nonlinear vector datasets."""

import jax
import numpy as np
import pytest

from disent_bias import data
from disent_bias.data import synthetic

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


@pytest.mark.parametrize('name', ['synthetic_linear', 'synthetic_nonlinear'])
def test_load_shapes_range_and_grid(name):
  ds = data.load(name, num_factors=4, factor_size=5, dim=12)
  assert ds.name == name
  assert ds.factor_sizes == (5, 5, 5, 5)
  assert ds.observation_shape == (12,)
  x = np.asarray(jax.jit(ds.render)(ds.all_factors()))
  assert x.shape == (625, 12) and x.dtype == np.float32
  assert x.min() >= 0.0 and x.max() <= 1.0
  # The squashing uses the whole [0, 1] range: some coordinate reaches 0 or 1.
  assert min(x.min(), 1.0 - x.max()) < 1e-5
  # Injective: no two grid points give the same observation.
  assert len(np.unique(x.round(6), axis=0)) == 625


def test_linear_jacobian_is_the_matrix():
  ds = synthetic.make_linear(num_factors=3, factor_size=7, dim=8,
                             scales=(1.0, 0.5, 0.25), seed=3)
  m = ds.info['matrix']
  assert m.shape == (8, 3)
  f = np.asarray([[1, 2, 3], [5, 0, 4]], np.int32)
  step = 2.0 / 6.0
  for k in range(3):
    g = f.copy()
    g[:, k] += 1
    jac = (np.asarray(ds.render(g)) - np.asarray(ds.render(f))) / step
    np.testing.assert_allclose(jac, np.broadcast_to(m[:, k], jac.shape),
                               atol=1e-5)
  np.testing.assert_allclose(ds.info['jacobian_per_step'], m * step,
                             rtol=1e-6)
  # x = offset + M w exactly at a grid point.
  w = ds.info['values'][f]
  np.testing.assert_allclose(ds.render(f), ds.info['offset'] + w @ m.T,
                             atol=1e-6)


def test_linear_columns_orthogonal_with_distinct_norms():
  scales = (1.0, 0.7, 0.4)
  m = synthetic.make_linear(num_factors=3, dim=6, scales=scales).info['matrix']
  gram = m.T @ m
  np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0.0, atol=1e-6)
  norms = np.sqrt(np.diag(gram))
  np.testing.assert_allclose(norms / norms[0], np.asarray(scales) / scales[0],
                             rtol=1e-5)


@pytest.mark.parametrize('make', [synthetic.make_linear,
                                  synthetic.make_nonlinear])
def test_deterministic_from_seed(make):
  f = np.asarray([[0, 1, 2], [9, 8, 7]], np.int32)
  a = np.asarray(make(seed=1).render(f))
  b = np.asarray(make(seed=1).render(f))
  c = np.asarray(make(seed=2).render(f))
  np.testing.assert_array_equal(a, b)
  assert np.abs(a - c).max() > 1e-3


def test_nonlinear_is_not_affine():
  ds = synthetic.make_nonlinear(num_factors=2, factor_size=9, dim=5)
  x = np.asarray(ds.render(ds.all_factors())).reshape(9, 9, 5)
  second = x[2:] - 2 * x[1:-1] + x[:-2]
  assert np.abs(second).max() > 1e-3
  assert len(ds.info['weights']) == 3


@pytest.mark.parametrize('make,kwargs,match', [
    (synthetic.make_linear, dict(num_factors=0), 'num_factors'),
    (synthetic.make_linear, dict(factor_size=1), 'factor_size'),
    (synthetic.make_linear, dict(num_factors=4, dim=3), 'dim'),
    (synthetic.make_linear, dict(num_factors=2, scales=(1.0,)), 'scales'),
    (synthetic.make_nonlinear, dict(scales=(1.0, -1.0, 1.0)), 'scales'),
    (synthetic.make_nonlinear, dict(hidden=(0,)), 'hidden'),
])
def test_bad_options_raise(make, kwargs, match):
  with pytest.raises(ValueError, match=match):
    make(**kwargs)
