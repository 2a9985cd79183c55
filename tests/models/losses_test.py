"""Known-answer tests for the loss terms (expected values from numpy/scipy)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special
from scipy import stats

from disent_bias.models import losses

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def _rng(seed=0):
  return np.random.default_rng(seed)


class TestReconstruction:

  def test_bernoulli_matches_numpy(self):
    rng = _rng()
    logits = rng.normal(size=(3, 4, 4, 1)).astype(np.float32) * 3
    x = (rng.uniform(size=logits.shape) > 0.5).astype(np.float32)
    p = special.expit(logits.astype(np.float64))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(3, -1).sum(-1)
    got = jax.jit(losses.bernoulli_nll)(logits, x)
    assert got.shape == (3,)
    np.testing.assert_allclose(got, expected, rtol=1e-5)

  def test_l2_matches_numpy(self):
    rng = _rng(1)
    a, b = rng.normal(size=(2, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(jax.jit(losses.l2)(a, b),
                               ((a - b) ** 2).sum(-1), rtol=1e-5)

  def test_shape_mismatch(self):
    with pytest.raises(ValueError, match='Shape mismatch'):
      losses.bernoulli_nll(jnp.zeros((2, 3)), jnp.zeros((2, 4)))


class TestGaussianKL:

  def test_unit_mean_unit_variance_is_half_per_latent(self):
    mu, logvar = jnp.ones((2, 5)), jnp.zeros((2, 5))
    np.testing.assert_allclose(jax.jit(losses.gaussian_kl_per_latent)(
        mu, logvar), np.full((2, 5), 0.5), rtol=1e-6)
    np.testing.assert_allclose(jax.jit(losses.gaussian_kl)(mu, logvar),
                               [2.5, 2.5], rtol=1e-6)

  def test_prior_is_zero(self):
    np.testing.assert_allclose(
        losses.gaussian_kl(jnp.zeros((3, 4)), jnp.zeros((3, 4))), 0.0)

  def test_between_matches_closed_form(self):
    rng = _rng(2)
    m1, m2 = rng.normal(size=(2, 4, 3))
    v1, v2 = np.exp(rng.normal(size=(2, 4, 3)))
    expected = np.log(np.sqrt(v2 / v1)) + (v1 + (m1 - m2) ** 2) / (2 * v2) - 0.5
    got = jax.jit(losses.gaussian_kl_between)(
        m1.astype(np.float32), np.log(v1).astype(np.float32),
        m2.astype(np.float32), np.log(v2).astype(np.float32))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)

  def test_log_density_matches_scipy(self):
    x, m, lv = 0.3, -0.2, math.log(2.0)
    np.testing.assert_allclose(
        losses.gaussian_log_density(jnp.float32(x), m, lv),
        stats.norm(m, math.sqrt(2.0)).logpdf(x), rtol=1e-5)


class TestTotalCorrelation:

  def _numpy_tc(self, z, mu, logvar):
    b, d = z.shape
    out = np.zeros(b)
    for i in range(b):
      joint = np.zeros(b)
      marg = np.zeros((b, d))
      for j in range(b):
        for k in range(d):
          lp = stats.norm(mu[j, k], np.exp(0.5 * logvar[j, k])).logpdf(z[i, k])
          marg[j, k] = lp
          joint[j] += lp
      out[i] = special.logsumexp(joint) - special.logsumexp(marg, axis=0).sum()
    return out

  def test_matches_explicit_loop(self):
    rng = _rng(3)
    mu = rng.normal(size=(5, 3))
    logvar = rng.normal(size=(5, 3)) * 0.5
    z = mu + np.exp(0.5 * logvar) * rng.normal(size=(5, 3))
    got = jax.jit(losses.total_correlation)(*(a.astype(np.float32)
                                              for a in (z, mu, logvar)))
    assert got.shape == (5,)
    np.testing.assert_allclose(got, self._numpy_tc(z, mu, logvar), rtol=1e-4,
                               atol=1e-4)

  def test_one_latent_is_zero(self):
    # With D = 1 the joint and the product of marginals coincide.
    rng = _rng(4)
    z, mu, logvar = rng.normal(size=(3, 6, 1)).astype(np.float32)
    np.testing.assert_allclose(losses.total_correlation(z, mu, logvar), 0.0,
                               atol=1e-5)


class TestDIP:

  def test_covariances_match_numpy(self):
    rng = _rng(5)
    mu = rng.normal(size=(7, 3)).astype(np.float32)
    logvar = rng.normal(size=(7, 3)).astype(np.float32)
    cov_i = np.cov(mu, rowvar=False, bias=True)
    np.testing.assert_allclose(
        jax.jit(losses.dip_covariance, static_argnums=2)(mu, logvar, 'i'),
        cov_i, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        losses.dip_covariance(mu, logvar, 'ii'),
        cov_i + np.diag(np.exp(logvar).mean(0)), rtol=1e-4, atol=1e-6)

  def test_regularizer_matches_loop(self):
    cov = np.array([[2.0, 0.5, -1.0], [0.5, 1.0, 0.25], [-1.0, 0.25, 0.0]],
                   np.float32)
    off = sum(cov[i, j] ** 2 for i in range(3) for j in range(3) if i != j)
    diag = sum((cov[i, i] - 1) ** 2 for i in range(3))
    np.testing.assert_allclose(
        losses.dip_regularizer(cov, lambda_od=3.0, lambda_d=7.0),
        3.0 * off + 7.0 * diag, rtol=1e-6)

  def test_unknown_kind(self):
    with pytest.raises(ValueError, match='unknown DIP kind'):
      losses.dip_covariance(jnp.zeros((2, 2)), jnp.zeros((2, 2)), 'iii')


class TestFactorVAE:

  def test_each_column_is_a_permutation(self):
    z = jnp.arange(40, dtype=jnp.float32).reshape(10, 4)
    out = np.asarray(jax.jit(losses.permute_dims)(jax.random.key(0), z))
    assert out.shape == (10, 4)
    for k in range(4):
      np.testing.assert_array_equal(np.sort(out[:, k]), np.asarray(z[:, k]))
    # Columns are permuted independently (rows are broken up).
    assert not all((out[:, k] - out[:, 0] == k).all() for k in range(4))

  def test_tc_of_constant_logits(self):
    logits = jnp.tile(jnp.array([[2.5, -1.0]]), (6, 1))
    np.testing.assert_allclose(losses.factor_vae_tc(logits), np.full(6, 3.5))

  def test_tc_bad_shape(self):
    with pytest.raises(ValueError, match='Expected'):
      losses.factor_vae_tc(jnp.zeros((4, 3)))


class TestAdaGVAE:

  def test_threshold_and_averaging(self):
    # Pair 0: latents 0, 1 equal posteriors (KL 0), latent 2 far (KL 8):
    # threshold 4, so 0 and 1 are averaged. Pair 1: KLs 0.5, 2, 4.5 (means
    # differ by 1, 2, 3 at unit variance): threshold 2.25, so 0 and 1 averaged.
    mu1 = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], np.float32)
    mu2 = np.array([[0.0, 1.0, 4.0], [1.0, 2.0, 3.0]], np.float32)
    lv1 = np.array([[0.0, 0.5, 0.0], [0.0, 0.0, 0.0]], np.float32)
    lv2 = lv1.copy()
    kl = losses.gaussian_kl_between(mu1, lv1, mu2, lv2)
    np.testing.assert_allclose(kl, [[0, 0, 8], [0.5, 2, 4.5]], atol=1e-6)
    m1, l1, m2, l2, mask = jax.jit(losses.ada_gvae_posteriors)(mu1, lv1, mu2,
                                                               lv2)
    np.testing.assert_array_equal(mask, [[1, 1, 0], [1, 1, 0]])
    np.testing.assert_allclose(m1, [[0, 1, 0], [0.5, 1, 0]])
    np.testing.assert_allclose(m2, [[0, 1, 4], [0.5, 1, 3]])
    np.testing.assert_allclose(l1, lv1, atol=1e-6)  # equal variances

  def test_averaged_variance(self):
    mu = np.zeros((1, 2), np.float32)
    lv1 = np.log(np.array([[1.0, 1.0]], np.float32))
    lv2 = np.log(np.array([[3.0, 1.0]], np.float32))
    # Latent 0 has KL > 0, latent 1 has KL 0 -> only latent 1 averaged.
    _, l1, _, l2, mask = losses.ada_gvae_posteriors(mu, lv1, mu, lv2)
    np.testing.assert_array_equal(mask, [[False, True]])
    np.testing.assert_allclose(np.exp(l1), [[1.0, 1.0]], rtol=1e-6)
    np.testing.assert_allclose(np.exp(l2), [[3.0, 1.0]], rtol=1e-6)
    _, l1, _, _, _ = losses.ada_gvae_posteriors(mu, lv2, mu + 5, lv1)
    np.testing.assert_allclose(np.exp(l1), [[3.0, 1.0]], rtol=1e-6)

  def test_mask_matches_disentanglement_lib_binning(self):
    rng = _rng(3)
    kl = np.concatenate([
        rng.exponential(size=(64, 5)),
        [[0., 1., 2., 2., 0.],  # the midpoint 1 is in the upper bin
         [3., 3., 3., 3., 3.],  # all equal: every latent averaged
         [0., 0., 0., 0., 0.]],  # identical images
    ]).astype(np.float32)
    got = jax.jit(losses.adaptive_average_mask)(kl)
    np.testing.assert_array_equal(got, _dlib_average_mask(kl))
    np.testing.assert_array_equal(got[-3:], [[1, 0, 0, 0, 1], [1] * 5,
                                             [1] * 5])

  def test_identical_pair_averages_all_and_keeps_posteriors(self):
    rng = _rng(4)
    mu = rng.normal(size=(3, 4)).astype(np.float32)
    logvar = rng.normal(size=(3, 4)).astype(np.float32)
    mu1, lv1, mu2, lv2, mask = jax.jit(losses.ada_gvae_posteriors)(
        mu, logvar, mu, logvar)
    assert np.asarray(mask).all()
    for m, lv in ((mu1, lv1), (mu2, lv2)):
      np.testing.assert_array_equal(m, mu)
      np.testing.assert_allclose(lv, logvar, rtol=1e-6, atol=1e-6)


def _dlib_average_mask(kl: np.ndarray) -> np.ndarray:
  """disentanglement_lib's aggregate_argmax mask, re-typed in numpy.

  ``discretize_in_bins``: ``tf.histogram_fixed_width_bins(x, [min, max], 2)``
  per row, i.e. floor(2 * (x - min) / (max - min)) clipped to [0, 1] and cast
  to int32; a latent keeps its own posterior only in bin 1. A NaN (all
  values equal) stays NaN through floor and clip and is never bin 1.
  """
  low = kl.min(-1, keepdims=True)
  high = kl.max(-1, keepdims=True)
  with np.errstate(invalid='ignore', divide='ignore'):
    bins = np.clip(np.floor(np.float32(2) * ((kl - low) / (high - low))), 0, 1)
  return ~(bins == 1)


class TestSlowVAE:

  @pytest.mark.parametrize('mu,logvar,loc,rate', [
      (0.0, 0.0, 0.0, 6.0), (0.7, -1.0, -0.2, 6.0), (-1.5, 0.5, 0.3, 2.0)])
  def test_laplace_cross_entropy_matches_monte_carlo(self, mu, logvar, loc,
                                                     rate):
    rng = _rng(6)
    z = mu + math.exp(0.5 * logvar) * rng.normal(size=400_000)
    mc = -stats.laplace(loc, 1.0 / rate).logpdf(z)
    # Standard error of the MC mean is rate * std|z - loc| / sqrt(4e5) < 0.01.
    got = losses.laplace_cross_entropy(jnp.float32(mu), jnp.float32(logvar),
                                       jnp.float32(loc), rate)
    np.testing.assert_allclose(got, mc.mean(), atol=0.03)

  def test_transition_kl_pointwise(self):
    # -H(N(., s^2)) - log Laplace(z_next; z_prev, 1/rate), against scipy.
    z_next = np.array([[0.5, -0.1]], np.float32)
    z_prev = np.array([[0.2, 0.4]], np.float32)
    logvar = np.array([[-2.0, 0.0]], np.float32)
    expected = (-stats.norm(0, np.exp(0.5 * logvar)).entropy() -
                stats.laplace(z_prev, 1 / 6.0).logpdf(z_next))
    np.testing.assert_allclose(
        jax.jit(losses.slow_transition_kl, static_argnums=3)(
            z_next, logvar, z_prev, 6.0), expected, rtol=1e-5)

  def test_transition_kl_is_unbiased(self):
    # Mean of the sampled estimate over z_next ~ q equals -H + closed-form CE.
    key = jax.random.key(0)
    mu, logvar, z_prev = 0.3, -1.0, -0.1
    z_next = mu + math.exp(0.5 * logvar) * jax.random.normal(key, (200_000, 1))
    est = losses.slow_transition_kl(
        z_next, jnp.full_like(z_next, logvar), jnp.full_like(z_next, z_prev),
        6.0).mean()
    exact = (-losses.gaussian_entropy_per_latent(jnp.float32(logvar)) +
             losses.laplace_cross_entropy(jnp.float32(mu),
                                          jnp.float32(logvar),
                                          jnp.float32(z_prev), 6.0))
    np.testing.assert_allclose(est, exact, atol=0.02)


class TestPCL:

  def test_logit_hand_set_params(self):
    h1 = np.array([[0.0, 1.0], [2.0, -1.0]], np.float32)
    h2 = np.array([[0.5, 1.0], [0.0, 1.0]], np.float32)
    a = np.array([2.0, 0.5], np.float32)
    params = {'a_raw': np.log(np.expm1(a)), 'b': np.array([0.1, -0.2],
                                                         np.float32),
              'c': np.float32(0.3)}
    expected = []
    for i in range(2):
      r = 0.3
      for d in range(2):
        u, v = h1[i, d], h2[i, d]
        r += -a[d] * abs(v - u) + params['b'][d] * (u * u + v * v)
      expected.append(r)
    np.testing.assert_allclose(jax.jit(losses.pcl_logit)(h1, h2, params),
                               expected, rtol=1e-5)

  def test_logistic_loss(self):
    logits = np.array([0.0, 2.0, -3.0], np.float32)
    labels = np.array([1.0, 0.0, 1.0], np.float32)
    expected = [math.log(2), math.log1p(math.exp(2)), math.log1p(math.exp(3))]
    np.testing.assert_allclose(losses.logistic_loss(logits, labels), expected,
                               rtol=1e-6)
