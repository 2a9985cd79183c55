"""Tests of factor -> observation -> code sampling (host and fused paths)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias.data import base
from disent_bias.metrics import sampling

SIZES = (3, 5)
# Observation of (a, b): the vector (a, b, a + b) / 10.
MIX = np.array([[1., 0., 1.], [0., 1., 1.]], np.float32) / 10


def _dataset(is_pure=True):
  xp = jnp if is_pure else np
  return base.GroundTruthData(
      'mix', SIZES, ('a', 'b'), (3,),
      lambda f: xp.asarray(f, xp.float32) @ xp.asarray(MIX),
      is_pure=is_pure)


def _expected(factors):
  return np.asarray(factors, np.float64) @ MIX.astype(np.float64)


class Counting:
  """Host representation (the observation itself) counting encoded rows."""

  def __init__(self):
    self.rows = 0

  def __call__(self, x):
    self.rows += len(x)
    return np.asarray(x)


class Fused(Counting):
  params = jnp.float32(2.0)
  jax_fn = staticmethod(lambda p, x: x * p)

  def __call__(self, x):
    raise AssertionError('the fused path must not call the host path')


@pytest.mark.parametrize('is_pure', [True, False])
def test_observe_matches_render(is_pure):
  factors = np.array([[0, 0], [2, 4], [1, 3]])
  x = sampling.observe(_dataset(is_pure), factors)
  assert isinstance(x, np.ndarray) and x.shape == (3, 3)
  np.testing.assert_allclose(x, _expected(factors), rtol=1e-6)


def test_encode_checks_the_code_shape():
  codes = sampling.encode(lambda x: x[:, :2], np.ones((4, 3), np.float32), 4)
  assert codes.shape == (4, 2) and codes.dtype == np.float64
  with pytest.raises(ValueError, match=r'\(n, D\) codes, got shape \(4,\)'):
    sampling.encode(lambda x: x[:, 0], np.ones((4, 3)), 4)


@pytest.mark.parametrize('batch_size', [1, 4, 100])
def test_host_path_is_independent_of_the_batch(batch_size):
  factors = np.stack(np.unravel_index(np.arange(15), SIZES), 1)
  rep = Counting()
  encoder = sampling.FactorEncoder(_dataset(), rep, batch_size=batch_size)
  assert not encoder.fused
  np.testing.assert_allclose(encoder(factors), _expected(factors), rtol=1e-6)
  assert rep.rows == 15


def test_fused_path_equals_host_path():
  factors = np.stack(np.unravel_index(np.arange(15), SIZES), 1)
  encoder = sampling.FactorEncoder(_dataset(), Fused())
  assert encoder.fused
  codes = encoder(factors)
  assert codes.shape == (15, 3) and codes.dtype == np.float64
  np.testing.assert_allclose(codes, 2 * _expected(factors), rtol=1e-6)
  # File-backed data never take the fused path.
  assert not sampling.FactorEncoder(_dataset(False), Fused()).fused


def test_no_factors_give_no_codes():
  codes = sampling.codes_of_factors(_dataset(), Counting(),
                                    np.zeros((0, 2), np.int64))
  assert codes.shape == (0, 3)


def test_sample_codes_is_a_function_of_the_key():
  rep = Counting()
  codes, factors = sampling.sample_codes(_dataset(), rep, 20,
                                         jax.random.key(3), batch_size=7)
  assert factors.shape == (20, 2) and factors.dtype == np.int64
  assert ((factors >= 0) & (factors < SIZES)).all()
  np.testing.assert_allclose(codes, _expected(factors), rtol=1e-6)
  again, same = sampling.sample_codes(_dataset(), rep, 20, jax.random.key(3))
  np.testing.assert_array_equal(factors, same)
  np.testing.assert_array_equal(codes, again)


def test_encode_draws_encodes_each_grid_point_once():
  draws = [{'a': np.array([[0, 1], [2, 4], [0, 1]]), 'label': np.arange(3)},
           {'b': np.array([[2, 4]]), 'c': np.array([[1, 1], [0, 1]])}]
  rep, stats = Counting(), {}
  out = sampling.encode_draws(_dataset(), rep, draws, stats=stats)
  assert stats == {'num_drawn': 6, 'num_encoded': 3} and rep.rows == 3
  assert [sorted(d) for d in out] == [['a'], ['b', 'c']]
  for got, draw in zip(out, draws):
    for k, codes in got.items():
      np.testing.assert_allclose(codes, _expected(draw[k]), rtol=1e-6)
