"""Tests for the FactorVAE score on a tiny vector dataset (the BetaVAE
score: metrics/beta_vae_test.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias import metrics
import factor_codes

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')

SIZES = factor_codes.SIZES
_dataset = factor_codes.factor_dataset
identity = factor_codes.identity


FAST = dict(num_train=60, num_eval=30)


class TestFactorVae:

  def test_identity_scores_one(self):
    # The fixed factor's code has zero variance in its batch; every other
    # code varies unless all 64 draws agree (probability <= 3 * (1/3)^63).
    scores = metrics.factor_vae_score(_dataset(), identity, seed=0,
                                      num_variance_estimate=500, **FAST)
    assert scores == {'train_accuracy': 1.0, 'eval_accuracy': 1.0,
                      'num_active_dims': 3}

  def test_mixed_codes_score_lower_and_deterministic(self):
    mix = np.array([[1., 1., 0.], [-1., 1., 0.], [0., 0., 1.]]) / np.sqrt(2.)
    rep = lambda x: np.asarray(x) @ mix.T
    a = metrics.factor_vae_score(_dataset(), rep, seed=1,
                                 num_variance_estimate=500, **FAST)
    assert a['eval_accuracy'] < 0.9
    assert a == metrics.factor_vae_score(_dataset(), rep, seed=1,
                                         num_variance_estimate=500, **FAST)

  def test_host_rendered_dataset_gives_the_same_result(self):
    kwargs = dict(seed=2, num_variance_estimate=300, **FAST)
    rep = lambda x: np.asarray(x) * [1., 2., 3.] + np.sin(np.asarray(x))
    assert metrics.factor_vae_score(_dataset(True), rep, **kwargs) == (
        metrics.factor_vae_score(_dataset(False), rep, **kwargs))

  def test_pruned_codes(self):
    # Code 2 is scaled to std ~0.014 < 0.05 and pruned; the other two codes
    # still identify factors 0 and 1, and factor 2 gets no code.
    rep = lambda x: np.asarray(x) * [1., 1., 0.01]
    scores = metrics.factor_vae_score(_dataset(), rep, seed=0,
                                      num_variance_estimate=500, **FAST)
    assert scores['num_active_dims'] == 2
    assert 0.4 < scores['eval_accuracy'] < 0.9
    all_pruned = metrics.factor_vae_score(
        _dataset(), lambda x: np.asarray(x) * 1e-3, seed=0,
        num_variance_estimate=500, **FAST)
    assert all_pruned == {'train_accuracy': 0., 'eval_accuracy': 0.,
                          'num_active_dims': 0}

  def test_single_valued_factor_is_never_fixed(self):
    dataset = _dataset(sizes=(3, 1, 5))
    scores = metrics.factor_vae_score(dataset, identity, seed=0,
                                      num_variance_estimate=500, **FAST)
    # Code 1 is constant and pruned; factors 0 and 2 are found exactly.
    assert scores == {'train_accuracy': 1.0, 'eval_accuracy': 1.0,
                      'num_active_dims': 2}


class TestDraws:

  def test_vote_layout_matches_one_key_per_chunk(self):
    # The draws are those of ``fixed_factor_batches(fold_in(key, c))`` for
    # consecutive chunks c of DRAW_POINTS // batch_size votes, whatever the
    # encoding batch: the scores do not depend on how points are encoded.
    key = jax.random.key(7)
    index, factors = metrics.factor_vae_lib.draw_votes(
        key, SIZES, (0, 1, 2), 40, 64)
    per_chunk = metrics.factor_vae_lib.DRAW_POINTS // 64
    for c in range(3):
      i, f = metrics.factor_vae_lib.fixed_factor_batches(
          jax.random.fold_in(key, c), SIZES, (0, 1, 2), per_chunk, 64)
      n = min(per_chunk, 40 - c * per_chunk)
      np.testing.assert_array_equal(index[c * per_chunk:][:n], i[:n])
      np.testing.assert_array_equal(
          factors.reshape(40, 64, 3)[c * per_chunk:][:n], f[:n])

  def test_fused_representation_gives_the_same_scores(self):
    class Fused:
      params = jnp.asarray([1., 2., 3.])
      jax_fn = staticmethod(lambda p, x: x * p + jnp.sin(x))

      def __call__(self, x):
        raise AssertionError('the fused path must not call the host path')

    host = lambda x: np.asarray(x) * [1., 2., 3.] + np.sin(np.asarray(x))
    kwargs = dict(seed=2, num_variance_estimate=300, **FAST)
    assert metrics.factor_vae_score(_dataset(), Fused(), **kwargs) == (
        metrics.factor_vae_score(_dataset(), host, **kwargs))
    assert metrics.beta_vae_score(_dataset(), Fused(), seed=1, **FAST) == (
        metrics.beta_vae_score(_dataset(), host, seed=1, **FAST))
