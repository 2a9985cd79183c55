"""Tests for disent_bias.metrics.unsupervised against closed forms."""

import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias import metrics


class TestGaussianScores:

  @pytest.mark.parametrize('rho', [0., 0.3, -0.8])
  def test_total_correlation_closed_form(self, rho):
    # Bivariate Gaussian, unit variances: TC = I(x; y) = -0.5 log(1 - rho^2).
    cov = np.array([[1., rho], [rho, 1.]]) * 2.5
    np.testing.assert_allclose(
        metrics.unsupervised_lib.gaussian_total_correlation(cov),
        -0.5 * np.log(1. - rho**2), atol=1e-12)

  @pytest.mark.parametrize('rho', [0., 0.3, -0.8])
  def test_wasserstein_closed_form(self, rho):
    # cov * diag(cov) = cov here; sqrtm has eigenvalues sqrt(1 +- rho).
    cov = np.array([[1., rho], [rho, 1.]])
    expected = 4. - 2. * (np.sqrt(1. + rho) + np.sqrt(1. - rho))
    np.testing.assert_allclose(
        metrics.unsupervised_lib.gaussian_wasserstein_correlation(cov),
        expected, atol=1e-10)

  def test_independent_codes_have_near_zero_total_correlation(self):
    # Sample TC of independent Gaussians: E ~ D (D-1) / (4 N) = 3e-4 here.
    codes = np.random.default_rng(0).normal(size=(5000, 3)) * [1., 3., 0.2]
    scores = metrics.unsupervised(codes)
    assert 0. <= scores['gaussian_total_correlation'] < 3e-3
    assert scores['gaussian_wasserstein_correlation_norm'] < 3e-3

  def test_sampled_total_correlation_matches_closed_form(self):
    cov = np.array([[1., 0.6, 0.], [0.6, 2., 0.5], [0., 0.5, 1.]])
    codes = np.random.default_rng(1).multivariate_normal(
        np.zeros(3), cov, size=20000)
    expected = 0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1])
    scores = metrics.unsupervised(codes)
    # Relative sampling error of ~1/sqrt(N) on the covariance entries.
    np.testing.assert_allclose(scores['gaussian_total_correlation'], expected,
                               rtol=0.05)

  def test_norm_is_invariant_to_common_rescaling(self):
    codes = np.random.default_rng(2).multivariate_normal(
        np.zeros(2), [[1., .5], [.5, 1.]], size=500)
    a = metrics.unsupervised(codes)
    b = metrics.unsupervised(codes * 4. + 1.)
    np.testing.assert_allclose(b['gaussian_wasserstein_correlation'],
                               16. * a['gaussian_wasserstein_correlation'])
    for key in ('gaussian_wasserstein_correlation_norm',
                'gaussian_total_correlation', 'mutual_info_score'):
      np.testing.assert_allclose(b[key], a[key], rtol=1e-9, atol=1e-12)


class TestUnsupervised:

  def test_duplicated_codes_mutual_information_is_binned_entropy(self):
    x = np.random.default_rng(3).normal(size=(400, 1))
    scores = metrics.unsupervised(np.concatenate([x, x], axis=1))
    binned = metrics.utils.histogram_discretize(x, 20)
    np.testing.assert_allclose(scores['mutual_info_score'],
                               metrics.utils.discrete_entropy(binned)[0])

  def test_constant_code_is_left_out_of_gaussian_scores(self):
    codes = np.random.default_rng(4).multivariate_normal(
        np.zeros(2), [[1., .5], [.5, 1.]], size=300)
    with_const = np.concatenate([codes, np.ones((300, 1))], axis=1)
    a, b = metrics.unsupervised(codes), metrics.unsupervised(with_const)
    for key in ('gaussian_total_correlation',
                'gaussian_wasserstein_correlation',
                'gaussian_wasserstein_correlation_norm'):
      np.testing.assert_allclose(b[key], a[key], rtol=1e-12)
    # The constant code has zero MI with the others: 2 of 6 ordered pairs
    # keep their MI.
    np.testing.assert_allclose(b['mutual_info_score'],
                               a['mutual_info_score'] * 2 / 6)

  def test_all_constant(self):
    scores = metrics.unsupervised(np.ones((10, 3)))
    assert all(v == 0. for v in scores.values())

  def test_numpy_and_jax_agree_and_permutation(self):
    codes = np.random.default_rng(5).normal(size=(300, 3)).astype(np.float32)
    codes[:, 1] += codes[:, 0]
    a = metrics.unsupervised(codes)
    assert a == metrics.unsupervised(jnp.asarray(codes))
    b = metrics.unsupervised(codes[:, [2, 0, 1]])
    for key, value in a.items():
      np.testing.assert_allclose(b[key], value, rtol=1e-9)

  def test_bad_inputs(self):
    codes = np.zeros((10, 2))
    codes[0, 0] = -np.inf
    with pytest.raises(ValueError, match='inf'):
      metrics.unsupervised(codes)
    with pytest.raises(ValueError, match='at least 2 codes'):
      metrics.unsupervised(np.ones((10, 1)))
