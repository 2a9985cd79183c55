"""Tests of config checking and resolution (``disent_bias.training.configuration``)
and of the registries that check their own config sections."""

import json

import pytest

from disent_bias import data
from disent_bias import metrics
from disent_bias.configs import default
from disent_bias.models import hparams
from disent_bias.training import configuration
from disent_bias.utils import workdir as workdir_lib
from tiny_run import tiny_config


def test_each_registry_checks_its_own_section():
  config = default.get_config()
  config.data.variant = 'blurred'
  with pytest.raises(ValueError, match="unknown data.variant 'blurred'"):
    data.validate_config(config.data)
  config.model.hparams.gamma = 3.0
  with pytest.raises(ValueError, match=r'beta_vae takes \(beta\)'):
    hparams.validate_config(config.model)
  config.metrics.names = ('foo',)
  with pytest.raises(ValueError, match=r"unknown metrics \['foo'\]"):
    metrics.validate_config(config.metrics)


def test_a_stored_config_of_an_older_version_reads_as_resolved(tmp_path):
  raw = default.get_config('model=factor_vae').to_dict()
  raw['model']['hparams'] = {name: None for name in raw['model']['hparams']}
  raw['model']['hparams']['gamma'] = 35.0
  raw['model'].update(num_latents=3, architecture='mlp')
  for name in ('recon_weight', 'disc_hidden', 'disc_layers', 'conv_impl',
               'compute_dtype'):
    del raw['model'][name]
  (tmp_path / 'config.json').write_text(json.dumps(raw))
  config = configuration.stored_config(str(tmp_path))
  assert dict(config.model.hparams) == {'gamma': 35.0}
  assert (config.model.recon_weight, config.model.disc_hidden,
          config.model.disc_layers, config.model.conv_impl,
          config.model.compute_dtype) == (1.0, 1000, 6, 'matmul', 'float32')
  assert configuration.is_resolved(config)
  resolved = default.get_config('model=factor_vae').to_dict()
  resolved['model']['hparams'] = {'gamma': 35.0}
  resolved['model'].update(num_latents=3, architecture='mlp')
  assert not workdir_lib.config_differences(raw, resolved)


def test_hyperparameters_resolve_from_presets():
  config = tiny_config('factor_vae')
  config.data.name = 'shapes3d'
  assert configuration.resolve_hparams(config) == {'gamma': 7.0}
  config.data.name = 'dsprites'
  assert configuration.resolve_hparams(config) == {'gamma': 35.0}
  config.model.hparams.gamma = 3.0
  assert configuration.resolve_hparams(config) == {'gamma': 3.0}
  config.model.name = 'slow_vae'
  config.model.hparams.gamma = None
  assert configuration.resolve_hparams(config) == {'beta': 1.0, 'gamma': 10.0,
                                                   'rate': 6.0}
