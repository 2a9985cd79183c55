"""Tests of the experiment configs and of config validation."""

import importlib
import itertools

import ml_collections
import pytest

from disent_bias.configs import common
from disent_bias.configs import default
from disent_bias.models import objectives
from disent_bias.training import configuration

# Configs of experiments/train.py (other binaries have their own configs
# and tests).
CONFIG_MODULES = ('default',)
DATASETS = ('dsprites', 'shapes3d', 'synthetic_linear')
FLAGS = ('', ',quick', ',runlocal')


def _presets():
  for module, model, dataset, flag in itertools.product(
      CONFIG_MODULES, sorted(default.PRESETS), DATASETS, FLAGS):
    yield module, f'model={model},dataset={dataset}{flag}'


@pytest.mark.parametrize('module,arg', list(_presets()))
def test_every_config_and_preset_is_valid(module, arg):
  config = importlib.import_module(f"disent_bias.configs.{module}").get_config(
      arg)
  configuration.validate_config(config)
  hparams = configuration.resolve_hparams(config)
  assert set(hparams) == set(objectives.OBJECTIVES[config.model.name].hparam_names)
  assert all(v is None or v > 0 for v in hparams.values()), hparams


def test_presets_cover_every_objective():
  assert set(default.PRESETS) == set(objectives.OBJECTIVES)
  for model, table in default.PRESETS.items():
    for values in table.values():
      assert set(values) <= set(objectives.OBJECTIVES[model].hparam_names), model
      assert set(values) <= set(default.HPARAM_TYPES), model


@pytest.mark.parametrize('model,dataset,expected', [
    ('beta_vae', 'dsprites', {'beta': 8.0}),
    ('beta_vae', 'shapes3d', {'beta': 32.0}),
    ('beta_tcvae', 'dsprites', {'beta': 6.0}),
    ('beta_tcvae', 'shapes3d', {'beta': 32.0}),
    ('factor_vae', 'dsprites', {'gamma': 35.0}),
    ('factor_vae', 'shapes3d', {'gamma': 7.0}),
    ('slow_vae', 'dsprites', {'beta': 1.0, 'gamma': 10.0, 'rate': 6.0}),
])
def test_model_name_alone_selects_spec_hyperparameters(model, dataset,
                                                       expected):
  config = default.get_config()
  config.model.name = model  # As --config.model.name=... does.
  config.data.name = dataset
  assert configuration.resolve_hparams(config) == expected


def test_defaults_follow_the_spec():
  config = default.get_config()
  assert config.optimizer.lr == 1e-4
  assert (config.optimizer.b1, config.optimizer.b2) == (0.9, 0.999)
  assert config.train.batch_size == 64
  assert config.train.num_steps == 300_000
  assert default.get_config('quick').train.num_steps == default.QUICK_NUM_STEPS


def test_locked_config_rejects_typos():
  config = default.get_config()
  config.lock()
  with pytest.raises(AttributeError):
    config.train.num_stepz = 3


def test_parse_arg_types_and_unknown_keys():
  arg = common.parse_arg('n=3,x=0.5,name=abc,flag', n=1, x=1.0, name='',
                         flag=False)
  assert (arg.n, arg.x, arg.name, arg.flag) == (3, 0.5, 'abc', True)
  with pytest.raises(ValueError, match='unknown config argument .*valid: '
                     'flag, n'):
    common.parse_arg('m=3', n=1, flag=False)
  with pytest.raises(ValueError, match='expected an int'):
    common.parse_arg('n=three', n=1)
  with pytest.raises(ValueError, match='needs a value'):
    common.parse_arg('n', n=1)


def _invalid(**changes):
  config = default.get_config()
  config.update_from_flattened_dict(
      {path.replace('__', '.'): value for path, value in changes.items()})
  return config


@pytest.mark.parametrize('changes,error,message', [
    (dict(model__name='vae'), ValueError, r"unknown model 'vae'; valid: ada_gvae, ae"),
    (dict(data__name='mnist'), ValueError, r"unknown dataset 'mnist'; valid: .*dsprites"),
    (dict(data__variant='blurred'), ValueError, r"unknown data.variant 'blurred'"),
    (dict(data__epsilon=2.0), ValueError, r'epsilon must be in \(0, 1\]'),
    (dict(train__batch_size=0), ValueError, r'train.batch_size must be >= 1, got 0'),
    (dict(train__num_steps=-1), ValueError, r'train.num_steps must be >= 1, got -1'),
    (dict(train__num_steps=0), ValueError, r'train.num_steps must be >= 1, got 0'),
    (dict(train__num_seeds=0), ValueError, r'train.num_seeds must be >= 1'),
    (dict(model__architecture='resnet'), ValueError, r"unknown model.architecture"),
    (dict(model__recon='gauss'), ValueError, r"unknown model.recon 'gauss'"),
    (dict(model__conv_impl='fft'), ValueError, r"unknown model.conv_impl 'fft'; valid: matmul, native"),
    (dict(model__compute_dtype='float16'), ValueError, r"unknown model.compute_dtype 'float16'; valid: float32, bfloat16$"),
    (dict(model__recon_weight=0.0), ValueError, r'model.recon_weight must be > 0, got 0.0'),
    (dict(model__disc_layers=0), ValueError, r'model.disc_layers must be a positive int, got 0'),
    (dict(model__hparams__gamma=3.0), ValueError, r'gamma=3.0 is set but beta_vae takes \(beta\)'),
    (dict(metrics__names=('mig', 'foo')), ValueError, r"unknown metrics \['foo'\]"),
    (dict(optimizer__lr=0.0), ValueError, r'optimizer.lr'),
    (dict(log_every_steps=0), ValueError, r'log_every_steps must be >= 1'),
])
def test_invalid_configs_fail_with_clear_messages(changes, error, message):
  with pytest.raises(error, match=message):
    configuration.validate_config(_invalid(**changes))


@pytest.mark.parametrize('path,value,message', [
    ('train.batch_size', '64', 'train.batch_size must be an int'),
    ('train.num_steps', 2.5, 'train.num_steps must be an int'),
    ('seed', True, 'seed must be an int'),
    ('model.num_latents', 'ten', 'model.num_latents must be an int'),
])
def test_wrong_types_fail(path, value, message):
  # A config rebuilt from a dict (e.g. config.json) has no type safety.
  config = ml_collections.ConfigDict(default.get_config().to_dict(),
                                     type_safe=False)
  config.update_from_flattened_dict({path: value})
  with pytest.raises(TypeError, match=message):
    configuration.validate_config(config)


@pytest.mark.parametrize('changes,message', [
    (dict(model__hparams__beta=float('nan')),
     r'model.hparams.beta must be finite, got nan'),
    (dict(model__hparams__beta=-1.0),
     r'model.hparams.beta must be >= 0, got -1.0'),
    (dict(data__epsilon=0.1),
     r"data.epsilon=0.1 is set but data.variant='original' is not perturbed"),
    (dict(optimizer__lr=float('inf')), r'optimizer.lr must be finite, got inf'),
    (dict(model__recon_weight=float('inf')),
     r'model.recon_weight must be finite, got inf'),
])
def test_values_that_trained_silently_are_rejected(changes, message):
  with pytest.raises(ValueError, match=message):
    configuration.validate_config(_invalid(**changes))
