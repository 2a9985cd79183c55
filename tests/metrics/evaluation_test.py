"""Tests for disent_bias.metrics.evaluate_representation and sampling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias import metrics
from disent_bias.data import base


def _dataset(sizes=(2, 3, 3)):
  return base.GroundTruthData(
      'tiny', sizes, [f'f{i}' for i in range(len(sizes))], (len(sizes),),
      lambda f: jnp.asarray(f, jnp.float32))


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


class TestEvaluateRepresentation:

  @pytest.mark.slow
  def test_all_metrics(self):
    kwargs = dict(seed=0, num_train=300, num_test=100)
    out = metrics.evaluate_representation(_dataset(), _identity,
                                          list(metrics.ALL_METRICS), **kwargs)
    for key in ('mig', 'sap', 'dci.disentanglement', 'dci.completeness',
                'dci.informativeness_test', 'modularity_explicitness.modularity',
                'unsupervised.gaussian_total_correlation',
                'factor_vae.eval_accuracy', 'beta_vae.eval_accuracy',
                'time_s.sample', 'time_s.dci', 'sklearn_s.dci', 'cpu_s.dci'):
      assert np.isfinite(out[key]), key
    assert out['mig'] > 0.9
    assert out['dci.disentanglement'] > 0.9
    assert out['factor_vae.eval_accuracy'] == 1.0
    assert (out['num_train'], out['num_test'], out['seed']) == (300, 100, 0)
    assert 0 < out['sklearn_s.dci'] <= out['time_s.dci']

  def test_deterministic_and_single_valued_factor_dropped(self):
    kwargs = dict(seed=3, num_train=200, num_test=50)
    names = 'mig,modularity_explicitness'
    a = metrics.evaluate_representation(_dataset((3, 1, 4)), _identity,
                                        names, **kwargs)
    b = metrics.evaluate_representation(_dataset((3, 1, 4)), _identity,
                                        names, **kwargs)
    strip = lambda d: {k: v for k, v in d.items() if not k.startswith(
        ('time_s', 'sklearn_s', 'cpu_s'))}
    assert strip(a) == strip(b)
    assert a['metrics'] == ['mig', 'modularity_explicitness']
    # Code 1 is constant (MI 0) and factor 1 is dropped rather than making
    # the score undefined; the other two codes identify their factors.
    assert a['mig'] > 0.9

  def test_all_alias(self):
    assert metrics.evaluation.check_names('all') == metrics.ALL_METRICS
    assert metrics.evaluation.check_names(' mig, sap ') == ('mig', 'sap')

  def test_unknown_name_lists_valid_ones(self):
    with pytest.raises(ValueError, match="unknown metric.*'migg'.*valid: mig"):
      metrics.evaluate_representation(_dataset(), np.asarray, ['migg'], seed=0)
