"""Tests of the reproduction presets and the config object they build."""

import pathlib

import ml_collections
import pytest

from disent_bias import reproduce
from disent_bias.configs import default
from disent_bias.configs import reproduce as reproduce_configs
from disent_bias.configs import reproduce_settings
from disent_bias.models import objectives
from disent_bias.training import configuration


@pytest.mark.parametrize('preset', sorted(reproduce_configs.PRESETS) + [
    'quick,dci', 'smoke,dci'])
def test_every_preset_gives_valid_train_configs(preset):
  config = reproduce_configs.get_config(preset)
  cells = reproduce.expand_grid(config)
  subsets = config.dataset_models.to_dict()
  axis = reproduce.sweep_axis(config)
  unswept = len(axis.unswept_variants) if axis else len(config.variants)
  swept = (len(config.variants) - unswept) * len(axis.values if axis
                                                  else ())
  assert len(cells) == (unswept + swept) * sum(
      len(subsets.get(d, config.models)) for d in config.datasets)
  for cell in cells:
    cfg = reproduce.cell_config(config, cell)
    configuration.validate_config(cfg)
    assert (cfg.data.name, cfg.data.variant, cfg.model.name) == (
        cell.dataset, cell.variant, cell.model)
    assert cfg.train.num_seeds == config.num_seeds
    assert set(configuration.resolve_hparams(cfg)) <= set(cfg.model.hparams)


def test_dci_option_and_images_protocol():
  config = reproduce_configs.get_config('quick,dci')
  assert 'dci.disentanglement' in config.table_metrics
  for cell in reproduce.expand_grid(config):
    assert 'dci' in reproduce.cell_config(config, cell).metrics.names
  images = reproduce_configs.get_config('images')
  cells = reproduce.expand_grid(images)
  assert len(cells) == 3 * 6 and images.num_seeds >= 5
  assert {c.dataset for c in cells} == {'shapes3d32'}
  sprites = reproduce_configs.get_config('images,sprites')
  assert len(reproduce.expand_grid(sprites)) == 2 * 3 * 6
  assert reproduce.cell_config(
      sprites, reproduce.Cell('dsprites32', 'original', 'beta_vae')
  ).model.recon == 'bernoulli'
  with pytest.raises(ValueError, match='use images,sprites'):
    reproduce_configs.get_config('quick,sprites')
  assert {'ae', 'beta_vae', 'slow_vae', 'pcl', 'ada_gvae'} <= {
      c.model for c in cells}
  cfg = reproduce.cell_config(
      images, reproduce.Cell('shapes3d32', 'perturbed', 'beta_vae'))
  assert cfg.model.architecture == 'mlp'
  assert tuple(cfg.metrics.names) == ('mig', 'dci')
  assert cfg.model.hparams.beta == (
      reproduce_settings.IMAGES_HPARAMS['beta_vae']['beta'])
  slow = reproduce.cell_config(
      sprites, reproduce.Cell('dsprites32', 'original', 'slow_vae'))
  assert (slow.model.hparams.beta, slow.model.hparams.gamma) == (16.0, 160.0)
  # Plain quick: every model of the zoo, DCI in every cell, one likelihood
  # scale for all, every model at the full length.
  plain = reproduce_configs.get_config('quick')
  cells = reproduce.expand_grid(plain)
  assert {c.model for c in cells} == set(objectives.OBJECTIVES)
  for cell in cells:
    cfg = reproduce.cell_config(plain, cell)
    assert 'dci' in cfg.metrics.names, cell
    assert cfg.model.recon_weight == 40.0, cell
    assert cfg.train.num_steps == 12_000, cell
    assert cell.model in plain.display, cell  # A table label for each row.


def test_unknown_preset_lists_valid_ones():
  with pytest.raises(ValueError,
                     match='dci, eps_dose, images, images_conv, job_smoke, paper, '
                     'paper_core, quick, smoke, sprites, sprites_conv'):
    reproduce_configs.get_config('fast')
  with pytest.raises(ValueError, match='choose one'):
    reproduce_configs.get_config('quick,paper')


def test_paper_protocol_is_the_spec_protocol():
  config = reproduce_configs.get_config('paper')
  assert config.num_seeds == 10
  assert tuple(config.datasets) == ('dsprites', 'shapes3d')
  assert tuple(config.variants) == ('original', 'perturbed', 'noise')
  assert tuple(config.models) == ('ae', 'beta_vae', 'factor_vae', 'beta_tcvae',
                                  'slow_vae', 'pcl', 'ada_gvae')
  cfg = reproduce.cell_config(
      config, reproduce.Cell('shapes3d', 'perturbed', 'beta_vae'))
  assert cfg.train.num_steps == 300_000
  assert cfg.train.batch_size == 64
  assert cfg.model.architecture == 'conv'
  assert cfg.optimizer.lr == 1e-4
  assert configuration.resolve_hparams(cfg) == {'beta': 32.0}  # The paper's value.


def test_quick_protocol_has_all_models_on_the_toy_tier_and_three_seeds():
  config = reproduce_configs.get_config('quick')
  assert config.num_seeds >= 3
  assert tuple(config.variants) == ('original', 'perturbed', 'noise')
  toy = [c for c in reproduce.expand_grid(config)
         if c.dataset == reproduce_settings.TOY_DATASET]
  models = set(reproduce_settings.MODELS) | set(reproduce_settings.ZOO_EXTRA)
  assert {c.model for c in toy} == models
  assert len(toy) == 3 * len(models)
  for cell in toy:
    assert reproduce.cell_config(config, cell).model.architecture == 'mlp'


def test_config_carries_the_base_train_config():
  config = reproduce_configs.get_config('smoke')
  assert isinstance(config.base_train, ml_collections.ConfigDict)
  assert config.base_train.to_json() == default.get_config().to_json()
  assert 'train_config' not in config


def test_cells_start_from_a_copy_of_the_base_train_config():
  config = reproduce_configs.get_config('smoke')
  before = config.to_json_best_effort()
  config.lock()  # As the --config flag gives it.
  cell = reproduce.expand_grid(config)[-1]
  cfg = reproduce.cell_config(config, cell)
  cfg.train.num_steps = 1_234  # Reaches neither the config nor other cells.
  assert config.to_json_best_effort() == before
  assert reproduce.cell_config(config, cell).train.num_steps == 10


def test_a_change_of_the_base_train_config_reaches_every_cell():
  config = reproduce_configs.get_config('smoke')
  config.base_train.optimizer.b2 = 0.99  # --config.base_train.optimizer.b2
  for cell in reproduce.expand_grid(config):
    assert reproduce.cell_config(config, cell).optimizer.b2 == 0.99


def test_a_config_without_a_base_train_config_is_refused():
  config = reproduce_configs.get_config('smoke')
  del config['base_train']
  config.train_config = 'experiments.configs.default'  # The old module path.
  with pytest.raises(ValueError, match='base_train must be the base train'):
    reproduce.cell_config(config, reproduce.expand_grid(config)[0])


def test_the_library_does_not_import_the_binaries():
  package = pathlib.Path(reproduce.__file__).parents[1]
  for path in package.rglob('*.py'):
    text = path.read_text(encoding='utf-8')
    assert 'from experiments' not in text, path
    assert 'import experiments' not in text, path
