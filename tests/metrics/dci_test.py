"""Tests for disent_bias.metrics.dci against known answers."""

import functools
import sys

import jax.numpy as jnp
import joblib
import numpy as np
import pytest

from disent_bias import metrics
from checks import assert_rejects
from factor_codes import ROTATION
from factor_codes import noisy_split

_split = functools.partial(noisy_split, n_train=300, n_test=150, sizes=(2, 3))


class TestImportanceScores:
  """Disentanglement / completeness of hand-made importance matrices."""

  def test_identity_is_one(self):
    np.testing.assert_allclose(metrics.dci_lib.disentanglement(np.eye(3)),
                               1., atol=1e-9)
    np.testing.assert_allclose(metrics.dci_lib.completeness(np.eye(3)),
                               1., atol=1e-9)

  def test_uniform_is_zero(self):
    uniform = np.ones((3, 3))
    np.testing.assert_allclose(metrics.dci_lib.disentanglement(uniform), 0.,
                               atol=1e-12)
    np.testing.assert_allclose(metrics.dci_lib.completeness(uniform), 0.,
                               atol=1e-12)

  def test_two_codes_for_one_factor(self):
    # Each code is used by factor 0 only (disentanglement 1); factor 0 is
    # spread evenly over both codes and factor 1 has no weight
    # (completeness 0).
    importance = np.array([[1., 0.], [1., 0.]])
    np.testing.assert_allclose(metrics.dci_lib.disentanglement(importance),
                               1., atol=1e-9)
    np.testing.assert_allclose(metrics.dci_lib.completeness(importance), 0.,
                               atol=1e-9)

  def test_all_zero_importance_is_zero(self):
    np.testing.assert_allclose(
        metrics.dci_lib.disentanglement(np.zeros((2, 3))), 0., atol=1e-12)


class TestDci:

  def test_noisy_identity(self):
    scores = metrics.dci(*_split())
    assert scores['disentanglement'] > 0.95
    assert scores['completeness'] > 0.95
    assert scores['informativeness_train'] == 1.0
    assert scores['informativeness_test'] == 1.0

  def test_rotation_scores_clearly_lower(self):
    c_tr, f_tr, c_te, f_te = _split()
    scores = metrics.dci(c_tr @ ROTATION.T, f_tr, c_te @ ROTATION.T, f_te)
    assert scores['disentanglement'] < 0.6
    assert scores['completeness'] < 0.6

  def test_constant_code_gets_no_importance(self):
    c_tr, f_tr, c_te, f_te = _split()
    add = lambda c: np.concatenate([c, np.ones((len(c), 1))], axis=1)
    importance, _, _ = metrics.dci_lib.importance_gbt(
        add(c_tr), f_tr, add(c_te), f_te)
    np.testing.assert_array_equal(importance[2], 0.)

  def test_permutation_and_rescaling_invariance(self):
    c_tr, f_tr, c_te, f_te = _split()
    base = metrics.dci(c_tr, f_tr, c_te, f_te)
    perm = metrics.dci(c_tr[:, ::-1], f_tr, c_te[:, ::-1], f_te)
    scale = np.array([3., 0.2])
    rescaled = metrics.dci(c_tr * scale - 1., f_tr, c_te * scale - 1., f_te)
    for other in (perm, rescaled):
      for key, value in base.items():
        np.testing.assert_allclose(other[key], value, atol=1e-6)

  def test_deterministic_and_numpy_jax_agree(self):
    # Noisy codes, so the trees have ties and randomness to resolve.
    c_tr, f_tr, c_te, f_te = _split(n_train=100, n_test=50, sizes=(2, 2), noise=0.8)
    a = metrics.dci(c_tr.astype(np.float32), f_tr, c_te.astype(np.float32),
                    f_te, seed=3)
    b = metrics.dci(jnp.asarray(c_tr, jnp.float32),
                    jnp.asarray(f_tr, jnp.int32),
                    jnp.asarray(c_te, jnp.float32),
                    jnp.asarray(f_te, jnp.int32), seed=3)
    c = metrics.dci(c_tr.astype(np.float32), f_tr, c_te.astype(np.float32),
                    f_te, seed=3)
    assert a == b == c

  def test_parallel_fits_equal_serial_ones_in_a_jax_process(self):
    jnp.ones(2).block_until_ready()  # JAX is running in this process.
    c_tr, f_tr, c_te, f_te = _split(n_train=120, n_test=60, sizes=(2, 3, 2),
                                    noise=0.5)
    c_tr, c_te = (np.concatenate([c, c[:, :1] * c[:, 1:2]], axis=1)
                  for c in (c_tr, c_te))
    serial = metrics.dci_lib.importance_gbt(c_tr, f_tr, c_te, f_te, seed=1,
                                            n_jobs=1)
    threads = metrics.dci_lib.importance_gbt(c_tr, f_tr, c_te, f_te, seed=1,
                                             n_jobs=2)
    with joblib.parallel_config(backend='loky'):
      processes = metrics.dci_lib.importance_gbt(c_tr, f_tr, c_te, f_te,
                                                 seed=1, n_jobs=2)
    for parallel in (threads, processes):
      np.testing.assert_array_equal(parallel[0], serial[0])
      assert parallel[1:] == serial[1:]
    assert (serial[0] > 0).sum() > 3  # several codes matter: not vacuous
    assert metrics.dci(c_tr, f_tr, c_te, f_te, seed=1, n_jobs=2) == (
        metrics.dci(c_tr, f_tr, c_te, f_te, seed=1, n_jobs=1))

  def test_bad_inputs(self):
    _, f_tr, c_te, f_te = split = _split()
    rejects = functools.partial(assert_rejects, metrics.dci, split)
    rejects(ValueError, r'\(300, 2\) and \(299, 2\)', factors_train=f_tr[:-1])
    rejects(ValueError, 'inf', codes_test=c_te * np.inf)
    rejects(TypeError, 'integer', factors_train=f_tr * 1.0)
    rejects(ValueError, 'at least 2 factors', factors_train=f_tr[:, :1],
            factors_test=f_te[:, :1])
    rejects(ValueError, 'constant', factors_train=f_tr * 0)


class TestDciSample:
  """One sample, split at random: the same trees as ``dci``."""

  def test_equals_dci_on_the_split(self):
    codes, factors, _, _ = _split(n_train=240)
    train, test = metrics.dci_lib.split_sample(240, seed=3)
    assert len(train) == 160 and len(test) == 80
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(240))
    expected = metrics.dci(codes[train], factors[train], codes[test],
                           factors[test], seed=3)
    assert metrics.dci_sample(codes, factors, seed=3) == expected

  def test_num_train_overrides_the_fraction(self):
    train, test = metrics.dci_lib.split_sample(10, num_train=7,
                                               train_fraction=0.1)
    assert len(train) == 7 and len(test) == 3
    np.testing.assert_array_equal(
        train, metrics.dci_lib.split_sample(10, num_train=7)[0])

  @pytest.mark.parametrize('options', [dict(num_train=0), dict(num_train=10),
                                       dict(train_fraction=1.0)])
  def test_empty_side_is_refused(self, options):
    with pytest.raises(ValueError, match='num_train|train_fraction'):
      metrics.dci_lib.split_sample(10, **options)

  def test_rows_must_match(self):
    codes, factors, _, _ = _split(n_train=30)
    with pytest.raises(ValueError, match='same N'):
      metrics.dci_sample(codes, factors[:20])


class TestBackends:
  """The LightGBM backend against the exact trees on known answers."""

  def test_lightgbm_agrees_with_exact_on_known_answers(self):
    # A disentangled code scores near 1 and a rotated one near 0 with both
    # backends; LightGBM's gain keeps crediting the other code a little
    # after a factor is separated (docs/metrics.md): 0.94 here, exact 1.0.
    pytest.importorskip('lightgbm')
    c_tr, f_tr, c_te, f_te = _split()
    rotate = lambda c: c @ ROTATION.T
    runs = {b: (metrics.dci(c_tr, f_tr, c_te, f_te, backend=b),
                metrics.dci(rotate(c_tr), f_tr, rotate(c_te), f_te,
                            backend=b))
            for b in metrics.dci_lib.BACKENDS}
    for backend, (plain, rotated) in runs.items():
      assert plain['disentanglement'] > 0.9, backend
      assert plain['completeness'] > 0.9, backend
      assert plain['informativeness_test'] > 0.98, backend
      assert rotated['disentanglement'] < 0.2, backend
      assert rotated['completeness'] < 0.2, backend
    for exact, fast in zip(runs['exact'], runs['lightgbm']):
      for key, value in exact.items():
        np.testing.assert_allclose(fast[key], value, atol=0.1, err_msg=key)

  def test_lightgbm_importance_normalised_and_constant_code_zero(self):
    pytest.importorskip('lightgbm')
    c_tr, f_tr, c_te, f_te = _split()
    add = lambda c: np.concatenate([c, np.ones((len(c), 1))], axis=1)
    importance, _, _ = metrics.dci_lib.importance_gbt(
        add(c_tr), f_tr, add(c_te), f_te, backend='lightgbm', n_jobs=1)
    np.testing.assert_array_equal(importance[2], 0.)
    np.testing.assert_allclose(importance.sum(axis=0), 1.)
    again = metrics.dci_lib.importance_gbt(
        add(c_tr), f_tr, add(c_te), f_te, backend='lightgbm', n_jobs=2)
    np.testing.assert_array_equal(again[0], importance)

  def test_unknown_backend_and_missing_extra(self, monkeypatch):
    c_tr, f_tr, c_te, f_te = _split(n_train=20, n_test=10)
    with pytest.raises(ValueError, match="unknown DCI backend 'xgb'"):
      metrics.dci(c_tr, f_tr, c_te, f_te, backend='xgb')
    monkeypatch.setitem(sys.modules, 'lightgbm', None)
    with pytest.raises(ImportError, match=r"disent_bias\[fast\]"):
      metrics.dci(c_tr, f_tr, c_te, f_te, backend='lightgbm')

  def test_samples_in_processes_equal_dci_of_each(self):
    jnp.ones(2).block_until_ready()  # JAX is running in this process.
    samples = [_split(n_train=80, n_test=40, noise=0.5, seed=s)
               for s in (0, 1)]
    scores, seconds = metrics.dci_lib.dci_samples(samples, [4, 7], n_jobs=2)
    assert scores == [metrics.dci(*samples[0], seed=4, n_jobs=1),
                      metrics.dci(*samples[1], seed=7, n_jobs=1)]
    assert len(seconds) == 2 and min(seconds) > 0
