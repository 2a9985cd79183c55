"""Tests of the grid: its cells, their order and their train configs."""

import os

import pytest

from disent_bias import reproduce
from disent_bias.reproduce import grid
from disent_bias.utils import errors


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


@pytest.mark.parametrize('change,message', [
    (dict(models=('beta_vae', 'nope')),
     r"cell nope on toy_bumps/original: invalid config: unknown model 'nope'"),
    (dict(model_overrides={'pcl': {'model': {'hparams': {'beta': 4.0}}}}),
     r'cell pcl on toy_bumps/original: .*beta=4.0 is set but pcl takes'),
    (dict(overrides={'optimizer': {'lr': -1.0}}),
     r'cell beta_vae on toy_bumps/original: .*optimizer.lr'),
])
def test_every_cell_config_is_validated(smoke, change, message):
  config = smoke(**change)
  with pytest.raises(errors.InvalidInputError, match=message):
    reproduce.parse(config)


def test_a_bad_sweep_point_is_refused(eps_sweep):
  config = eps_sweep()
  config.sweep.points = (0.05, 2.0)
  with pytest.raises(errors.InvalidInputError,
                     match=r'at data.epsilon=2: .*epsilon must be in \(0, 1\]'):
    reproduce.parse(config)


def test_grid_changes_name_what_was_dropped_added_or_changed():
  old = {'datasets': ['toy_bumps'], 'variants': ['original', 'perturbed'],
         'models': ['beta_vae', 'pcl'], 'num_seeds': 2,
         'sweep': {'field': 'data.epsilon', 'points': [0.05, 0.2]}}
  assert grid.grid_changes(old, old) == []
  new = dict(old, models=['beta_vae', 'ae'], variants=['original'],
             sweep={'field': 'data.epsilon', 'points': [0.05]})
  assert grid.grid_changes(old, new) == [
      'variants: dropped perturbed', 'models: dropped pcl',
      'models: added ae', 'sweep.points: [0.05, 0.2] -> [0.05]']
