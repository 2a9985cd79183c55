"""Tests for disent_bias.metrics.utils (checks, binning, discrete MI)."""

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import metrics as sk_metrics

from disent_bias.metrics import utils


class TestMutualInfo:

  @pytest.mark.parametrize('sizes', [(2, 2), (3, 7), (20, 5)])
  def test_matches_sklearn(self, sizes):
    rng = np.random.default_rng(sum(sizes))
    a = rng.integers(0, sizes[0], 500)
    b = (a + rng.integers(0, sizes[1], 500)) % sizes[1]
    np.testing.assert_allclose(utils.mutual_info(a, b),
                               sk_metrics.mutual_info_score(a, b), rtol=1e-12)

  def test_single_class_is_zero(self):
    a = np.zeros(10, int)
    assert utils.mutual_info(a, np.arange(10)) == 0.0

  def test_entropy_matches_self_information(self):
    y = np.random.default_rng(0).integers(0, 6, (300, 2))
    expected = [sk_metrics.mutual_info_score(y[:, j], y[:, j])
                for j in range(2)]
    np.testing.assert_allclose(utils.discrete_entropy(y), expected,
                               rtol=1e-12)

  def test_entropy_of_uniform_is_log_k(self):
    y = np.arange(12).reshape(-1, 1) % 4
    np.testing.assert_allclose(utils.discrete_entropy(y), [np.log(4)])


class TestHistogramDiscretize:

  def test_matches_reference_formula(self):
    x = np.random.default_rng(1).normal(size=(200, 3))
    out = utils.histogram_discretize(x, 20)
    for i in range(3):
      expected = np.digitize(x[:, i], np.histogram(x[:, i], 20)[1][:-1])
      np.testing.assert_array_equal(out[:, i], expected)
    assert out.min() == 1 and out.max() == 20

  def test_constant_column_is_one_bin(self):
    out = utils.histogram_discretize(np.full((5, 1), 3.0), 20)
    assert len(np.unique(out)) == 1


class TestChecks:

  def test_nan_and_inf_are_named(self):
    codes = np.zeros((4, 3))
    codes[1, 2] = np.nan
    codes[2, 0] = np.inf
    with pytest.raises(ValueError, match=r'1 NaN, 1 inf.*\[0, 2\]'):
      utils.check_codes(codes)

  def test_mismatched_n_names_both_shapes(self):
    with pytest.raises(ValueError, match=r'\(5, 2\) and \(4, 1\)'):
      utils.check_pair(np.zeros((5, 2)), np.zeros((4, 1), int))

  def test_float_factors_raise_type_error(self):
    with pytest.raises(TypeError, match='integer'):
      utils.check_factors(np.zeros((4, 2), np.float32))

  def test_wrong_rank(self):
    with pytest.raises(ValueError, match='shape'):
      utils.check_codes(np.zeros(4))

  def test_jax_input(self):
    out = utils.check_factors(jnp.ones((3, 2), jnp.int32))
    assert isinstance(out, np.ndarray) and out.dtype == np.int64
