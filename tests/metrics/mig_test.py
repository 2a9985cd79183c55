"""Tests for disent_bias.metrics.mig against known answers."""

import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias import metrics
from disent_bias.data import state_space
from factor_codes import ROTATION
from factor_codes import noisy_codes


def _noisy_identity(n=500, sizes=(4, 4), noise=0.05, seed=0):
  return noisy_codes(np.random.default_rng(seed), n, sizes, noise)


class TestMig:

  @pytest.mark.parametrize('sizes', [(3, 4), (2, 3, 5)])
  def test_identity_codes_on_full_grid_is_one(self, sizes):
    # On the full grid factors are exactly independent, so the second largest
    # MI is 0 and the largest is H(factor).
    factors = state_space.StateSpace(sizes).all_factors()
    np.testing.assert_allclose(
        metrics.mig(factors.astype(np.float32), factors), 1.0, atol=1e-12)

  def test_hand_computed_value(self):
    # Factor f = [0, 0, 1, 1]: code 0 determines f (MI = log 2); code 1 =
    # [0, 0, 0, 1] has joint p(0,0)=1/2, p(0,1)=1/4, p(1,1)=1/4 with
    # marginals p(c=0)=3/4, p(c=1)=1/4, p(f)=1/2.
    factors = np.array([[0], [0], [1], [1]])
    codes = np.array([[0., 0.], [1., 0.], [2., 0.], [3., 1.]])
    mi_1 = (0.5 * np.log(0.5 / 0.375) + 0.25 * np.log(0.25 / 0.375)
            + 0.25 * np.log(0.25 / 0.125))
    expected = (np.log(2.) - mi_1) / np.log(2.)
    np.testing.assert_allclose(metrics.mig(codes, factors), expected,
                               rtol=1e-12)

  def test_noisy_identity_is_near_one(self):
    codes, factors = _noisy_identity()
    assert metrics.mig(codes, factors) > 0.95

  def test_rotation_scores_clearly_lower(self):
    codes, factors = _noisy_identity()
    assert metrics.mig(codes @ ROTATION.T, factors) < 0.2

  def test_duplicated_code_gives_zero_gap(self):
    codes, factors = _noisy_identity()
    # Factor 0 appears twice (gap 0), factor 1 once (gap ~1).
    dup = np.stack([codes[:, 0], codes[:, 0], codes[:, 1]], axis=1)
    m = metrics.mig_lib.mig_matrix(dup, factors)
    np.testing.assert_allclose(m[0, 0], m[1, 0], rtol=1e-12)
    both = metrics.mig(dup, factors)
    only_1 = metrics.mig(dup, factors[:, 1:])
    np.testing.assert_allclose(both, only_1 / 2., rtol=1e-12)
    np.testing.assert_allclose(metrics.mig(dup[:, :2], factors[:, :1]), 0.)

  def test_constant_code_has_zero_information(self):
    codes, factors = _noisy_identity(sizes=(4,))
    with_const = np.concatenate([codes, np.full_like(codes, 2.5)], axis=1)
    m = metrics.mig_lib.mig_matrix(with_const, factors)
    assert m[1, 0] == 0.
    entropy = metrics.utils.discrete_entropy(factors)[0]
    np.testing.assert_allclose(metrics.mig(with_const, factors),
                               m[0, 0] / entropy)

  def test_invariant_to_permutation_and_positive_affine_rescaling(self):
    codes, factors = _noisy_identity(sizes=(4, 5, 3))
    # A partly mixed code, so the score is away from the bounds.
    mixed = codes + codes[:, ::-1] * 0.3
    base = metrics.mig(mixed, factors)
    assert metrics.mig(mixed[:, [2, 0, 1]], factors) == base
    rescaled = mixed * np.array([3., 0.5, 10.]) + np.array([-1.5, 2., 7.])
    np.testing.assert_allclose(metrics.mig(rescaled, factors), base,
                               atol=1e-12)

  def test_numpy_and_jax_agree(self):
    codes, factors = _noisy_identity()
    assert metrics.mig(jnp.asarray(codes, jnp.float32),
                       jnp.asarray(factors, jnp.int32)) == metrics.mig(
                           codes.astype(np.float32), factors)

  def test_bad_inputs(self):
    codes, factors = _noisy_identity()
    bad = codes.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match='NaN'):
      metrics.mig(bad, factors)
    with pytest.raises(ValueError, match=r'\(500, 2\) and \(499, 2\)'):
      metrics.mig(codes, factors[:-1])
    with pytest.raises(TypeError, match='integer'):
      metrics.mig(codes, factors.astype(np.float64))
    with pytest.raises(ValueError, match='at least 2 codes'):
      metrics.mig(codes[:, :1], factors)
    const = factors.copy()
    const[:, 1] = 3
    with pytest.raises(ValueError, match=r'columns \[1\] are constant'):
      metrics.mig(codes, const)
