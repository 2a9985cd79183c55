"""Tests of sweeps (a train-config field crossed with the grid) and shards."""

import os

import numpy as np
import pytest

from disent_bias import reproduce


def _mig_falls_with_eps(config, index):
  """MIG 0.5 - eps (+ 0.02 per seed)."""
  return 0.5 - (config.data.epsilon or 0.0) + 0.02 * index


def test_sweep_crosses_the_grid_with_its_own_workdir_per_value(eps_sweep):
  config = eps_sweep()
  cells = reproduce.expand_grid(config)
  assert [c.path for c in cells] == [
      os.path.join('cells', 'toy_bumps', 'original', 'beta_vae'),
      os.path.join('cells', 'toy_bumps', 'original', 'pcl'),
      os.path.join('cells', 'data.epsilon=0.05', 'toy_bumps', 'perturbed',
                   'beta_vae'),
      os.path.join('cells', 'data.epsilon=0.05', 'toy_bumps', 'perturbed',
                   'pcl'),
      os.path.join('cells', 'data.epsilon=0.2', 'toy_bumps', 'perturbed',
                   'beta_vae'),
      os.path.join('cells', 'data.epsilon=0.2', 'toy_bumps', 'perturbed',
                   'pcl')]
  epsilons = [reproduce.cell_config(config, c).data.epsilon for c in cells]
  assert epsilons == [None, None, 0.05, 0.05, 0.2, 0.2]
  config.sweep.field = 'data.epsilonn'
  with pytest.raises(ValueError, match="'data.epsilonn'"):
    reproduce.cell_config(config, reproduce.expand_grid(config)[-1])


def test_sweep_writes_a_table_and_plot_against_the_axis(tmp_path, eps_sweep,
                                                        fake_train):
  config = eps_sweep()
  results = reproduce.reproduce(config, str(tmp_path),
                                train_fn=fake_train(mig=_mig_falls_with_eps))
  assert os.path.getsize(tmp_path / 'sweep.png') > 0
  mig = {(s['model'], s['variant'], s['sweep_value']): s['mean']
         for s in results['summary'] if s['metric'] == 'mig'}
  np.testing.assert_allclose(mig['pcl', 'perturbed', 0.2], 0.31)
  np.testing.assert_allclose(mig['pcl', 'original', 0.0], 0.51)
  table = (tmp_path / 'table.md').read_text()
  assert '| toy bumps: model | variant | 0 | 0.05 | 0.2 |' in table
  assert ('| PCL | perturbed | 0.51 (0.01) | 0.46 (0.01) | 0.31 (0.01) |'
          in table)


def test_a_sweep_of_every_variant_needs_no_baseline(tmp_path, eps_sweep,
                                                    fake_train):
  config = eps_sweep(variants=('perturbed', 'noise'))
  config.sweep.unswept_variants = ()
  config.sweep.baseline = None
  assert len(reproduce.expand_grid(config)) == 2 * 2 * 2
  results = reproduce.reproduce(config, str(tmp_path),
                                train_fn=fake_train(mig=_mig_falls_with_eps))
  assert results['sweep']['baseline'] is None
  assert {s['sweep_value'] for s in results['summary']} == {0.05, 0.2}
  table = (tmp_path / 'table.md').read_text()
  assert '| toy bumps: model | variant | 0.05 | 0.2 |' in table
  assert '| PCL | noise | 0.46 (0.01) | 0.31 (0.01) |' in table
  assert os.path.getsize(tmp_path / 'sweep.png') > 0


def test_unswept_variants_without_a_baseline_are_refused(eps_sweep):
  config = eps_sweep()
  config.sweep.baseline = None
  with pytest.raises(ValueError, match=r"unswept_variants \('original',\) "
                     'need sweep.baseline'):
    reproduce.expand_grid(config)
  config.sweep.baseline = 0.2
  with pytest.raises(ValueError, match='is one of sweep.points'):
    reproduce.expand_grid(config)


def test_shards_cover_the_grid_once(eps_sweep):
  cells = reproduce.expand_grid(eps_sweep())
  parts = [reproduce.shard_cells(cells, reproduce.Shard(i, 4))
           for i in range(4)]
  assert sorted(map(str, sum(parts, []))) == sorted(map(str, cells))
  with pytest.raises(ValueError, match=r'\[0, 2\)'):
    reproduce.Shard(2, 2)


def test_two_shards_then_a_rerun_give_the_unsharded_table(tmp_path, eps_sweep,
                                                          fake_train):
  config = eps_sweep()
  whole = reproduce.reproduce(config, str(tmp_path / 'whole'),
                              train_fn=fake_train())
  sharded = str(tmp_path / 'sharded')
  calls = []
  for index in (1, 0):  # Any order.
    fake = fake_train()
    reproduce.reproduce(config, sharded, train_fn=fake,
                        shard=reproduce.Shard(index, 2))
    calls += fake.calls
    assert os.path.exists(os.path.join(sharded, 'shards', f'{index}_of_2.json'))
  assert len(calls) == len(reproduce.expand_grid(config))
  merge = fake_train()
  merged = reproduce.reproduce(config, sharded, train_fn=merge)
  assert merge.calls == []
  assert merged['summary'] == whole['summary']
  assert ((tmp_path / 'sharded' / 'table.md').read_text()
          == (tmp_path / 'whole' / 'table.md').read_text())
