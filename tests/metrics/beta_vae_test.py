"""Tests for the BetaVAE score (``metrics.beta_vae``) on a tiny vector
dataset."""

import numpy as np
import pytest

from disent_bias import metrics
from disent_bias.metrics import beta_vae
import factor_codes

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')

SIZES = factor_codes.SIZES
_dataset = factor_codes.factor_dataset
identity = factor_codes.identity


class TestBetaVae:

  def test_identity_scores_near_one(self):
    scores = metrics.beta_vae_score(_dataset(), identity, seed=0,
                                    num_train=150, num_eval=60)
    assert scores['train_accuracy'] > 0.95
    assert scores['eval_accuracy'] > 0.95

  def test_constant_codes_score_chance(self):
    # Features are all zero: the classifier predicts one class; with three
    # factors drawn uniformly its accuracy is ~1/3 (std 0.06 at 60 points).
    scores = metrics.beta_vae_score(_dataset(), lambda x: np.zeros((len(x), 3)),
                                    seed=0, num_train=150, num_eval=60)
    assert scores['eval_accuracy'] < 0.55

  def test_deterministic(self):
    rep = lambda x: np.asarray(x) @ np.ones((3, 2))
    kwargs = dict(seed=4, num_train=80, num_eval=40)
    assert metrics.beta_vae_score(_dataset(), rep, **kwargs) == (
        metrics.beta_vae_score(_dataset(False), rep, **kwargs))


class TestDraw:

  def test_pairs_agree_on_the_shared_factor_only(self):
    draws = beta_vae.draw(_dataset(), seed=3, batch_size=8, num_train=20,
                          num_eval=10)
    assert int(draws['batch_size']) == 8
    for name, num in (('train', 20), ('eval', 10)):
      index, first, second = (draws[f'{name}_index'], draws[f'{name}1'],
                              draws[f'{name}2'])
      assert index.shape == (num,) and first.shape == (num * 8, 3)
      assert second.shape == first.shape
      assert set(index.tolist()) <= {0, 1, 2}
      assert np.all((0 <= first) & (first < np.array(SIZES)))
      same = (first == second).reshape(num, 8, 3)
      assert same[np.arange(num), :, index].all()
      # The other factors are drawn independently: they differ somewhere.
      other = np.ones((num, 3), bool)
      other[np.arange(num), index] = False
      assert not same.all(axis=1)[other].all()

  def test_draws_are_a_function_of_the_seed(self):
    kwargs = dict(batch_size=4, num_train=6, num_eval=5)
    a = beta_vae.draw(_dataset(), seed=1, **kwargs)
    b = beta_vae.draw(_dataset(), seed=1, **kwargs)
    c = beta_vae.draw(_dataset(), seed=2, **kwargs)
    assert sorted(a) == sorted(b)
    for key in a:
      np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a['train1'], c['train1'])

  def test_single_valued_factors_are_never_shared(self):
    draws = beta_vae.draw(_dataset(sizes=(3, 1, 5)), seed=0, batch_size=4,
                          num_train=40, num_eval=10)
    assert set(draws['train_index'].tolist()) == {0, 2}

  def test_a_dataset_without_varying_factors_is_refused(self):
    with pytest.raises(ValueError, match='tiny: every factor has a single '
                       'value'):
      beta_vae.draw(_dataset(sizes=(1, 1)), seed=0)


def test_factor_codes_score_one_and_constant_codes_score_chance():
  # Only the shared factor's code agrees within a pair: with the factors as
  # codes the smallest feature names it. Three factors: chance is 1/3.
  kwargs = dict(seed=5, batch_size=16, num_train=90, num_eval=60)
  exact = metrics.beta_vae_score(_dataset(), identity, **kwargs)
  assert exact == {'train_accuracy': 1.0, 'eval_accuracy': 1.0}
  constant = metrics.beta_vae_score(
      _dataset(), lambda x: np.ones((len(x), 2)), **kwargs)
  draws = beta_vae.draw(_dataset(), seed=5, batch_size=16, num_train=90,
                        num_eval=60)
  # One class for every point: the accuracy is that class's frequency.
  frequency = np.bincount(draws['eval_index'], minlength=3) / 60
  assert constant['eval_accuracy'] in set(frequency.tolist())
  assert constant['eval_accuracy'] < 0.5
