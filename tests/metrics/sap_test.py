"""Tests for disent_bias.metrics.sap (discrete factors)."""

import functools

import jax.numpy as jnp
import numpy as np

from disent_bias import metrics
from checks import assert_rejects
from factor_codes import ROTATION
from factor_codes import noisy_split

_split = functools.partial(noisy_split, n_train=400, n_test=400, sizes=(2, 2))


class TestSap:

  def test_noisy_identity_binary_factors(self):
    # The matching code classifies its factor perfectly; the other code is
    # independent of it, so its balanced classifier is right about half the
    # time (binomial std sqrt(.25/400) = 0.025). The discrete SAP of a
    # perfect code is therefore about 1 - 0.5, not 1.
    split = _split()
    scores = metrics.sap_lib.sap_matrix(*split)
    np.testing.assert_array_equal(np.diag(scores), 1.0)
    assert np.all(np.abs(scores[[0, 1], [1, 0]] - 0.5) < 0.1)
    np.testing.assert_allclose(
        metrics.sap(*split), np.mean(1. - scores[[1, 0], [0, 1]]))

  def test_rotation_scores_clearly_lower(self):
    c_tr, f_tr, c_te, f_te = _split()
    assert metrics.sap(c_tr, f_tr, c_te, f_te) > 0.4
    assert metrics.sap(c_tr @ ROTATION.T, f_tr, c_te @ ROTATION.T, f_te) < 0.1

  def test_permutation_invariant(self):
    c_tr, f_tr, c_te, f_te = _split(sizes=(3, 2, 2), noise=0.5)
    perm = [2, 0, 1]
    assert metrics.sap(c_tr, f_tr, c_te, f_te) == metrics.sap(
        c_tr[:, perm], f_tr, c_te[:, perm], f_te)

  def test_constant_code_is_uninformative(self):
    c_tr, f_tr, c_te, f_te = _split()
    add = lambda c: np.concatenate([c, np.zeros((len(c), 1))], axis=1)
    scores = metrics.sap_lib.sap_matrix(add(c_tr), f_tr, add(c_te), f_te)
    assert np.all(scores[2] < 0.6)

  def test_deterministic_and_numpy_jax_agree(self):
    c_tr, f_tr, c_te, f_te = _split(noise=0.5)
    a = metrics.sap(c_tr.astype(np.float32), f_tr, c_te.astype(np.float32),
                    f_te)
    b = metrics.sap(jnp.asarray(c_tr, jnp.float32), jnp.asarray(f_tr),
                    jnp.asarray(c_te, jnp.float32), jnp.asarray(f_te))
    assert a == b

  def test_bad_inputs(self):
    c_tr, _, c_te, f_te = split = _split()
    rejects = functools.partial(assert_rejects, metrics.sap, split)
    rejects(ValueError, r'\(399, 2\) and \(400, 2\)', codes_test=c_te[:-1])
    rejects(ValueError, 'NaN', codes_train=c_tr * np.nan)
    rejects(TypeError, factors_test=f_te.astype(np.float32))
    rejects(ValueError, 'at least 2 codes', codes_train=c_tr[:, :1],
            codes_test=c_te[:, :1])
