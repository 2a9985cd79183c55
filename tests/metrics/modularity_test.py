"""Tests for disent_bias.metrics.modularity (modularity and explicitness)."""

import functools

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import metrics as sk_metrics

from disent_bias import metrics
from checks import assert_rejects
from factor_codes import ROTATION
from factor_codes import noisy_split

_split = functools.partial(noisy_split, n_train=400, n_test=200, sizes=(4, 3))


class TestModularityOfMi:

  def test_hand_values(self):
    modularity = metrics.modularity_lib.modularity
    assert modularity(np.eye(2)) == 1.
    # Equal MI with both factors: delta = 1, modularity 0.
    assert modularity(np.ones((2, 2))) == 0.
    # Row (2, 1): delta = 1 / (4 * 1), modularity 0.75; zero row scores 0.
    np.testing.assert_allclose(modularity(np.array([[2., 1.], [0., 0.]])),
                               0.75 / 2)


class TestRocAuc:

  @pytest.mark.parametrize('seed', [0, 1])
  def test_matches_sklearn_with_ties(self, seed):
    rng = np.random.default_rng(seed)
    target = rng.random(300) < 0.3
    score = np.round(rng.random(300) + 0.3 * target, 1)  # many ties
    np.testing.assert_allclose(
        metrics.modularity_lib.roc_auc(target, score),
        sk_metrics.roc_auc_score(target, score), rtol=1e-12)

  def test_macro_average_matches_sklearn_multiclass(self):
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 4, 200)
    proba = rng.dirichlet(np.ones(4), 200)
    expected = sk_metrics.roc_auc_score(np.eye(4)[labels], proba)
    np.testing.assert_allclose(
        metrics.modularity_lib.macro_roc_auc(labels, proba, np.arange(4)),
        expected, rtol=1e-12)


class TestModularityExplicitness:

  def test_noisy_identity(self):
    scores = metrics.modularity_explicitness(*_split())
    assert scores['modularity'] > 0.95
    assert scores['explicitness_train'] > 0.95
    assert scores['explicitness_test'] > 0.95

  def test_rotation_lowers_modularity(self):
    c_tr, f_tr, c_te, f_te = _split(sizes=(4, 4))
    scores = metrics.modularity_explicitness(c_tr @ ROTATION.T, f_tr,
                                             c_te @ ROTATION.T, f_te)
    assert scores['modularity'] < 0.3

  def test_permutation_and_affine_invariance(self):
    c_tr, f_tr, c_te, f_te = _split(noise=0.6)
    base = metrics.modularity_explicitness(c_tr, f_tr, c_te, f_te)
    scale, shift = np.array([5., 0.1]), np.array([-2., 3.])
    variants = [
        (c_tr[:, ::-1], c_te[:, ::-1]),
        (c_tr * scale + shift, c_te * scale + shift),
    ]
    for tr, te in variants:
      other = metrics.modularity_explicitness(tr, f_tr, te, f_te)
      for key, value in base.items():
        np.testing.assert_allclose(other[key], value, atol=1e-4)

  def test_constant_code_is_finite_and_not_modular(self):
    c_tr, f_tr, c_te, f_te = _split()
    add = lambda c: np.concatenate([c, np.full((len(c), 1), 7.)], axis=1)
    scores = metrics.modularity_explicitness(add(c_tr), f_tr, add(c_te), f_te)
    base = metrics.modularity_explicitness(c_tr, f_tr, c_te, f_te)
    # The constant code scores 0 and is averaged in: 2/3 of the base score.
    np.testing.assert_allclose(scores['modularity'],
                               base['modularity'] * 2 / 3)
    assert np.isfinite(scores['explicitness_test'])

  def test_numpy_and_jax_agree(self):
    c_tr, f_tr, c_te, f_te = _split(noise=0.6)
    a = metrics.modularity_explicitness(
        c_tr.astype(np.float32), f_tr, c_te.astype(np.float32), f_te)
    b = metrics.modularity_explicitness(
        jnp.asarray(c_tr, jnp.float32), jnp.asarray(f_tr),
        jnp.asarray(c_te, jnp.float32), jnp.asarray(f_te))
    assert a == b

  def test_bad_inputs(self):
    _, f_tr, c_te, f_te = split = _split()
    rejects = functools.partial(assert_rejects,
                                metrics.modularity_explicitness, split)
    rejects(ValueError, r'\(400, 2\) and \(399, 2\)', factors_train=f_tr[:-1])
    rejects(ValueError, 'NaN', codes_test=c_te * np.nan)
    rejects(TypeError, factors_train=f_tr > 1)
    rejects(ValueError, 'at least 2 factors', factors_train=f_tr[:, :1],
            factors_test=f_te[:, :1])
