"""Tests of the grid: its cells, their order and their train configs."""

import os

import pytest

from disent_bias import reproduce


def test_grid_is_dataset_major_in_config_order(smoke):
  config = smoke(datasets=('toy_bumps', 'synthetic_linear'),
                 models=('pcl', 'beta_vae'))
  cells = reproduce.expand_grid(config)
  assert [str(c) for c in cells[:3]] == [
      'pcl on toy_bumps/original', 'beta_vae on toy_bumps/original',
      'pcl on toy_bumps/perturbed']
  assert cells[-1].path == os.path.join('cells', 'synthetic_linear',
                                        'perturbed', 'beta_vae')


def test_dataset_models_restrict_a_dataset_to_some_models(smoke):
  config = smoke(datasets=('toy_bumps', 'synthetic_linear'),
                 variants=('original',))
  config.dataset_models = {'synthetic_linear': ('pcl',)}
  assert [str(c) for c in reproduce.expand_grid(config)] == [
      'beta_vae on toy_bumps/original', 'pcl on toy_bumps/original',
      'pcl on synthetic_linear/original']
  config.dataset_models = {'synthetic_linear': ('ae',)}
  with pytest.raises(ValueError, match='dataset_models'):
    reproduce.expand_grid(config)


def test_empty_or_duplicated_axis_raises(smoke):
  with pytest.raises(ValueError, match='models is empty'):
    reproduce.expand_grid(smoke(models=()))
  with pytest.raises(ValueError, match='duplicated variants'):
    reproduce.expand_grid(smoke(variants=('original', 'original')))


def test_overrides_apply_in_order_and_typos_fail(smoke):
  config = smoke()
  config.overrides = dict(train=dict(num_steps=7), optimizer=dict(lr=0.5))
  config.dataset_overrides = {'toy_bumps': dict(train=dict(num_steps=8))}
  config.model_overrides = {'pcl': dict(train=dict(num_steps=9))}
  config.pair_overrides = {'toy_bumps': {'pcl': dict(optimizer=dict(lr=0.25))}}
  pcl = reproduce.cell_config(config, reproduce.Cell('toy_bumps', 'noise',
                                                     'pcl'))
  beta = reproduce.cell_config(config, reproduce.Cell('toy_bumps', 'noise',
                                                      'beta_vae'))
  assert (pcl.train.num_steps, pcl.optimizer.lr) == (9, 0.25)
  assert (beta.train.num_steps, beta.optimizer.lr) == (8, 0.5)
  config.overrides = dict(train=dict(num_stepz=7))
  with pytest.raises(ValueError, match="'train.num_stepz'"):
    reproduce.cell_config(config, reproduce.Cell('toy_bumps', 'noise', 'pcl'))


def test_grid_coordinates_override_the_base_config(smoke):
  config = smoke()
  config.base_train.seed = 5
  config.seed = 3
  cfg = reproduce.cell_config(config, reproduce.Cell('toy_bumps', 'noise',
                                                     'pcl'))
  assert (cfg.seed, cfg.train.num_seeds) == (3, config.num_seeds)
  assert (cfg.data.name, cfg.data.variant, cfg.model.name) == (
      'toy_bumps', 'noise', 'pcl')
