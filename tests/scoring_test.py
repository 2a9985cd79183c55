"""Tests of evaluation and final scoring (disent_bias.scoring)."""

import json
import os

import jax
import numpy as np
import pytest

from disent_bias import configuration
from disent_bias import scoring
from disent_bias import setup
from disent_bias import train
from tiny_run import tiny_config
from tiny_run import tiny_dataset

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Tiny programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def test_representation_fn_is_the_batched_posterior_mean():
  dataset = tiny_dataset()
  built = setup.build(configuration.resolve_config(tiny_config(), dataset),
                      dataset)
  model = built.model
  state = built.init_state(jax.random.key(0))
  _, images = dataset.sample_observations(jax.random.key(1), 10)
  codes = scoring.representation_fn(model, state.params, batch_size=4)(
      np.asarray(images))
  mu, _ = model.apply({'params': state.params}, images, method='encode')
  assert codes.shape == (10, 3)
  np.testing.assert_allclose(codes, mu, rtol=1e-5, atol=1e-6)


def test_results_keep_per_seed_records_and_summaries(tmp_path):
  config = tiny_config(num_steps=2, num_seeds=2)
  config.seed = 3
  config.eval.model_summary = True
  config.metrics.names = ('mig',)
  results = train.train_and_evaluate(config, str(tmp_path),
                                     dataset=tiny_dataset())
  records = results['per_seed']
  assert [r['seed'] for r in records] == results['seeds'] == [3, 4]
  migs = [r['metrics']['mig'] for r in records]
  np.testing.assert_allclose(results['metrics']['mig'], np.mean(migs))
  np.testing.assert_allclose(results['metrics']['mig_sd'],
                             np.std(migs, ddof=1))
  active = [r['eval']['eval/active_latents'] for r in records]
  np.testing.assert_allclose(results['eval']['eval/active_latents'],
                             np.mean(active))
  losses = [r['final']['train/loss'] for r in records]
  np.testing.assert_allclose(results['final']['train/loss'], np.mean(losses))
  flat = json.dumps({k: results[k] for k in ('metrics', 'eval', 'final')})
  assert '_per_seed' not in flat and 'per_seed' not in results['metrics']


def test_summary_is_the_mean_and_sample_sd_of_the_scores():
  per_seed = [
      {'mig': 0.2, 'dci.disentanglement': 1.0, 'seed': 0, 'num_train': 100,
       'num_test': 50, 'num_drawn': 7, 'num_encoded': 9, 'dataset': 'toy',
       'ok': True, 'per_latent': [1.0, 2.0]},
      {'mig': 0.4, 'dci.disentanglement': 1.0, 'seed': 1, 'num_train': 100,
       'num_test': 50, 'num_drawn': 7, 'num_encoded': 9, 'dataset': 'toy',
       'ok': True, 'per_latent': [1.0, 2.0]},
      {'mig': 0.9, 'dci.disentanglement': 1.0, 'seed': 2, 'num_train': 100,
       'num_test': 50, 'num_drawn': 7, 'num_encoded': 9, 'dataset': 'toy',
       'ok': False, 'per_latent': [1.0, 2.0]},
  ]
  out = scoring.score_summary(per_seed)
  # Bookkeeping, strings, bools and lists are not scores.
  assert sorted(out) == ['dci.disentanglement', 'dci.disentanglement_sd',
                         'mig', 'mig_sd']
  np.testing.assert_allclose(out['mig'], 0.5)
  # ddof=1: sqrt((0.09 + 0.01 + 0.16) / 2).
  np.testing.assert_allclose(out['mig_sd'], np.sqrt(0.13))
  assert out['dci.disentanglement'] == 1.0
  assert out['dci.disentanglement_sd'] == 0.0
  assert all(type(v) is float for v in out.values())


def test_summary_of_one_seed_has_no_sd_and_of_none_is_empty():
  assert scoring.score_summary([{'mig': 0.25, 'seed': 3}]) == {'mig': 0.25}
  assert scoring.score_summary(iter([{'mig': 0.25}])) == {'mig': 0.25}
  assert not scoring.score_summary([])
