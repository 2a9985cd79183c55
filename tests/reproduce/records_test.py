"""Tests of the per-seed records of a cell and their summaries."""

import numpy as np
import pytest

from disent_bias import reproduce
from score_records import legacy_results
from score_records import real_records

CELL = reproduce.Cell('d', 'original', 'm')


def _results(*records, seeds=None):
  """Cell results in the train loop's contract with these per-seed records."""
  return {'seeds': [r['seed'] for r in records] if seeds is None else seeds,
          'per_seed': list(records), 'metrics': {'mig': 0.5},
          'timings': {'train_seconds': 3.0}, 'num_steps': 7}


def _record(seed, index=0, **evals):
  """Seed ``seed``'s per-seed record holding the real ``real_records()[index]``."""
  return {'seed': seed, 'metrics': real_records()[index].to_json(),
          'eval': dict(evals)}


def test_seed_records_read_the_per_seed_records():
  results = _results(_record(3, 0), _record(4, 1))
  records = reproduce.seed_records(results, CELL, wall_seconds=2.0,
                                   cpu_seconds=1.0)
  # Scores only: the score run's counts and timings are not among them.
  assert [(r['seed'], r['scores']) for r in records] == [
      (3, dict(real_records()[0].scores)), (4, dict(real_records()[1].scores))]
  assert {(r['model'], r['dataset'], r['variant']) for r in records} == {
      ('m', 'd', 'original')}
  assert records[0]['timings'] == {
      'train_seconds': 3.0, 'cell_wall_seconds': 2.0,
      'cell_cpu_seconds': 1.0, 'num_steps': 7}


def test_an_older_runs_flat_records_give_the_same_scores():
  results = legacy_results()
  records = reproduce.seed_records(results, CELL)
  assert [r['seed'] for r in records] == results['seeds']
  for record, stored in zip(records, results['per_seed']):
    flat = stored['metrics']
    assert set(record['scores']) == {
        'mig', 'dci.disentanglement', 'dci.completeness',
        'dci.informativeness_train', 'dci.informativeness_test',
        *reproduce.MECHANISM_KEYS}
    assert all(record['scores'][k] == flat[k] for k in flat
               if k in record['scores'])
  metrics = {row['metric'] for row in reproduce.summarize(records)}
  assert not metrics & {'num_drawn', 'num_encoded', 'num_train', 'seed'}


def test_a_single_seed_is_a_list_of_one_record():
  (record,) = reproduce.seed_records(_results(_record(0)), CELL)
  assert (record['seed'], record['scores']['mig']) == (
      0, real_records()[0].scores['mig'])
  assert record['timings']['cell_wall_seconds'] is None


def test_mechanism_readouts_come_from_each_seeds_eval_record():
  results = _results(
      _record(0, 0, **{'eval/decoder_dto_median': 0.1,
                       'eval/active_latents': 3.0, 'eval/polarized': 1.0,
                       'eval/loss': 9.0}),
      _record(1, 1, **{'eval/decoder_dto_median': 0.2}))
  first, second = (r['scores'] for r in reproduce.seed_records(results, CELL))
  assert list(first) == [*real_records()[0].scores, *reproduce.MECHANISM_KEYS]
  assert [first[k] for k in reproduce.MECHANISM_KEYS] == [0.1, 3.0, 1.0]
  assert second == {**real_records()[1].scores, 'mechanism.decoder_dto': 0.2}


def test_results_without_per_seed_records_are_refused():
  legacy = {'seeds': [0, 1], 'metrics': {
      'mig': 0.5, 'mig_sd': 0.1, 'mig_per_seed': [0.4, 0.6]}}
  with pytest.raises(ValueError, match='no per-seed records'):
    reproduce.seed_records(legacy, CELL)


def test_records_out_of_seed_order_are_refused():
  results = _results(_record(4), _record(3), seeds=[3, 4])
  with pytest.raises(ValueError, match=r'seeds \[4, 3\], expected \[3, 4\]'):
    reproduce.seed_records(results, CELL)


def test_summarize_gives_mean_and_sample_sd():
  records = [{'model': 'm', 'dataset': 'd', 'variant': 'original', 'seed': s,
              'scores': {'mig': v}} for s, v in enumerate([0.1, 0.2, 0.6])]
  (row,) = reproduce.summarize(records)
  np.testing.assert_allclose(row['mean'], 0.3)
  # Sample sd: sqrt(((0.2)^2 + (0.1)^2 + (0.3)^2) / 2) = sqrt(0.07).
  np.testing.assert_allclose(row['sd'], np.sqrt(0.07))
  assert row['n'] == 3


def test_table_layout_matches_spec_table():
  summary = [dict(model='beta_vae', dataset='dsprites', variant=v,
                  metric='mig', mean=m, sd=0.01, n=3)
             for v, m in (('original', 0.23), ('perturbed', 0.07))]
  table = reproduce.format_table(
      summary, 'mig', models=('ae', 'beta_vae'), datasets=('dsprites',),
      variants=('original', 'perturbed', 'noise'),
      model_names={'beta_vae': 'beta-VAE'}, dataset_names={})
  assert table.splitlines() == [
      '| model | dsprites |',
      '|---|---|',
      '| ae | - / - / - |',
      '| beta-VAE | 0.23 (0.01) / 0.07 (0.01) / - |',
  ]
