"""Tests of evaluation and final scoring (disent_bias.training.scoring)."""

import json
import os

import jax
import numpy as np
import pytest

from disent_bias.training import configuration
from disent_bias.training import scoring
from disent_bias.training import setup
from disent_bias.training import train
from score_records import legacy_results
from score_records import real_records
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
  scored = [scoring.read_scores(r) for r in records]
  assert {s.counts['num_train'] for s in scored} == {config.metrics.num_train}
  assert all(s.timings['mig']['wall_s'] >= 0 for s in scored)
  migs = [s.scores['mig'] for s in scored]
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
  # Scores only: no counts, timings or seeds among the summaries.
  assert sorted(results['metrics']) == ['mig', 'mig_sd']


def test_summary_is_the_mean_and_sample_sd_of_the_scores():
  records = real_records()
  out = scoring.score_summary(records)
  # Counts and timings are not scores.
  names = list(records[0].scores)
  assert sorted(out) == sorted(names + [n + '_sd' for n in names])
  for name in names:
    values = [r.scores[name] for r in records]
    assert out[name] == np.mean(np.asarray(values, np.float64))
    np.testing.assert_allclose(out[name + '_sd'], np.std(values, ddof=1))
  assert all(type(v) is float for v in out.values())


def test_summary_of_an_older_runs_flat_records_holds_scores_only():
  per_seed = legacy_results()['per_seed']
  out = scoring.score_summary(scoring.read_scores(r) for r in per_seed)
  names = ['mig', 'dci.disentanglement', 'dci.completeness',
           'dci.informativeness_train', 'dci.informativeness_test']
  assert sorted(out) == sorted(names + [n + '_sd' for n in names])
  np.testing.assert_allclose(
      out['mig'], np.mean([r['metrics']['mig'] for r in per_seed]))


def test_summary_of_one_seed_has_no_sd_and_of_none_is_empty():
  record = real_records()[0]
  assert scoring.score_summary([record]) == dict(record.scores)
  assert scoring.score_summary(iter([record])) == dict(record.scores)
  assert not scoring.score_summary([])
