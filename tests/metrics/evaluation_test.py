"""Tests for disent_bias.metrics.evaluate_representation and sampling."""

import sys

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from disent_bias import metrics
import factor_codes

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def _dataset(sizes=(2, 3, 3)):
  return factor_codes.factor_dataset(sizes=sizes)


def _identity(x):
  return np.asarray(x, np.float64)


class TestSampling:

  def test_sample_codes_batches_and_is_deterministic(self):
    calls = []

    def rep(x):
      calls.append(len(x))
      return np.asarray(x)

    key = jax.random.key(0)
    codes, factors = metrics.sample_codes(_dataset(), rep, 250, key,
                                          batch_size=100)
    assert calls == [100, 100, 50]
    np.testing.assert_array_equal(codes, factors)
    again, _ = metrics.sample_codes(_dataset(), np.asarray, 250, key)
    np.testing.assert_array_equal(codes, again)

  def test_bad_representation_shape(self):
    with pytest.raises(ValueError, match='representation_fn'):
      metrics.sample_codes(_dataset(), lambda x: np.zeros(len(x)), 10,
                           jax.random.key(0))


class _Counting:
  """An affine representation that counts the images it encodes; with
  ``fused`` it also exposes the pure jnp function (``jax_fn``/``params``)."""

  def __init__(self, fused=False):
    self.seen = 0
    if fused:
      self.params = jnp.asarray([[1., 2., 0.], [0., 1., -1.], [3., 0., 1.]])
      self.jax_fn = lambda p, x: jnp.sin(x @ p)

  def __call__(self, x):
    self.seen += len(x)
    return np.sin(np.asarray(x, np.float32) @ np.asarray(
        [[1., 2., 0.], [0., 1., -1.], [3., 0., 1.]], np.float32))


class TestEncodeDraws:

  def test_each_grid_point_encoded_once_and_codes_match(self):
    dataset = _dataset()  # 18 grid points
    factors = np.asarray(dataset.sample_factors(jax.random.key(1), 500))
    draws = [{'a': factors[:300], 'label': np.arange(300)},
             {'b': factors[300:]}]
    rep, stats = _Counting(), {}
    codes = metrics.sampling.encode_draws(dataset, rep, draws, stats=stats)
    assert stats == {'num_drawn': 500, 'num_encoded': 18}
    assert rep.seen == 18
    assert set(codes[0]) == {'a'} and set(codes[1]) == {'b'}
    direct = _Counting()(np.asarray(factors, np.float32)).astype(np.float64)
    np.testing.assert_array_equal(
        np.concatenate([codes[0]['a'], codes[1]['b']]), direct)

  def test_fused_path_matches_host_path(self):
    dataset = _dataset()
    factors = np.asarray(dataset.sample_factors(jax.random.key(2), 700))
    fused = metrics.sampling.FactorEncoder(dataset, _Counting(fused=True))
    host = metrics.sampling.FactorEncoder(dataset, _Counting())
    assert fused.fused and not host.fused
    np.testing.assert_allclose(fused(factors), host(factors), rtol=1e-6,
                               atol=1e-6)
    assert fused(factors[:0]).shape == (0, 3)


class TestEvaluateRepresentation:

  @pytest.mark.slow
  def test_all_metrics(self):
    kwargs = dict(seed=0, num_train=300, num_test=100)
    out = metrics.evaluate_representation(_dataset(), _identity,
                                          list(metrics.ALL_METRICS), **kwargs)
    for key in ('mig', 'sap', 'dci.disentanglement', 'dci.completeness',
                'dci.informativeness_test', 'modularity_explicitness.modularity',
                'unsupervised.gaussian_total_correlation',
                'factor_vae.eval_accuracy', 'beta_vae.eval_accuracy'):
      assert np.isfinite(out.scores[key]), key
    assert out.scores['mig'] > 0.9
    assert out.scores['dci.disentanglement'] > 0.9
    assert out.scores['factor_vae.eval_accuracy'] == 1.0
    assert out.seed == 0 and out.names == metrics.ALL_METRICS
    assert (out.counts['num_train'], out.counts['num_test']) == (300, 100)
    assert out.counts['num_encoded'] <= out.counts['num_drawn']
    assert set(out.timings) == {'encode', *metrics.ALL_METRICS}
    assert set(out.timings['dci']) == {'wall_s', 'cpu_s', 'sklearn_s'}
    assert 0 < out.timings['dci']['sklearn_s'] <= out.timings['dci']['wall_s']
    assert metrics.ScoreRecord.from_json(out.to_json()) == out

  def test_deterministic_and_single_valued_factor_dropped(self):
    kwargs = dict(seed=3, num_train=200, num_test=50)
    names = 'mig,modularity_explicitness'
    a = metrics.evaluate_representation(_dataset((3, 1, 4)), _identity,
                                        names, **kwargs)
    b = metrics.evaluate_representation(_dataset((3, 1, 4)), _identity,
                                        names, **kwargs)
    assert (a.scores, a.counts) == (b.scores, b.counts)
    assert a.names == ('mig', 'modularity_explicitness')
    # Code 1 is constant (MI 0) and factor 1 is dropped rather than making
    # the score undefined; the other two codes identify their factors.
    assert a.scores['mig'] > 0.9

  def test_all_alias(self):
    assert metrics.evaluation.check_names('all') == metrics.ALL_METRICS
    assert metrics.evaluation.check_names(' mig, sap ') == ('mig', 'sap')

  def test_unknown_name_lists_valid_ones(self):
    with pytest.raises(ValueError, match="unknown metric.*'migg'.*valid: mig"):
      metrics.evaluate_representation(_dataset(), np.asarray, ['migg'], seed=0)


class TestEvaluateRepresentations:

  def test_equal_to_one_at_a_time_and_sample_rescored(self):
    dataset = _dataset()
    fns = [_identity, lambda x: np.sin(np.asarray(x, np.float32) * 0.7)]
    kwargs = dict(num_train=120, num_test=40)
    together = metrics.evaluate_representations(
        dataset, fns, 'mig,dci', seeds=[2, 5], n_jobs=2, **kwargs)
    for fn, seed, (scores, sample) in zip(fns, (2, 5), together):
      alone = metrics.evaluate_representation(dataset, fn, 'mig,dci',
                                              seed=seed, **kwargs)
      assert (scores.scores, scores.counts) == (alone.scores, alone.counts)
      assert scores.timings['dci']['wall_s'] > 0
      assert 'cpu_s' not in scores.timings['dci']
      packed = metrics.pack_sample(sample, seed)
      assert packed[f'seed{seed}/codes_train'].dtype == np.float32
      assert packed[f'seed{seed}/factors_test'].dtype == np.int16
      again = metrics.score_sample(metrics.unpack_sample(packed, seed),
                                   'mig,dci', seed=seed)
      assert again.scores == scores.scores
      assert again.counts == {'num_train': 120, 'num_test': 40}

  def test_without_array_metrics_no_sample(self):
    (scores, sample), = metrics.evaluate_representations(
        _dataset(), [_identity], 'factor_vae', seeds=[0], num_train=50,
        num_test=20)
    assert sample is None and 'factor_vae.eval_accuracy' in scores.scores

  def test_pack_refuses_codes_float32_cannot_hold(self):
    sample = {'codes_train': np.full((2, 2), 0.1), 'factors_train':
              np.zeros((2, 2), int), 'codes_test': np.zeros((1, 2)),
              'factors_test': np.zeros((1, 2), int)}
    with pytest.raises(ValueError, match='codes_train of seed 3'):
      metrics.pack_sample(sample, 3)

  def test_unknown_dci_backend_in_config(self):
    section = ml_collections.ConfigDict({'names': ('dci',), 'num_train': 10,
                                         'num_test': 5, 'dci_backend': 'gpu'})
    with pytest.raises(ValueError, match="dci_backend='gpu'"):
      metrics.validate_config(section)

  def test_missing_lightgbm_refused_by_the_config_check(self, monkeypatch):
    section = ml_collections.ConfigDict({'names': ('dci',), 'num_train': 10,
                                         'num_test': 5,
                                         'dci_backend': 'lightgbm'})
    monkeypatch.setitem(sys.modules, 'lightgbm', None)
    with pytest.raises(ImportError, match=r'disent_bias\[fast\]'):
      metrics.validate_config(section)
    section.names = ('mig',)
    metrics.validate_config(section)  # DCI not scored: no LightGBM needed.
