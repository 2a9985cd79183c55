"""Tests of the check of ``config.model`` (``models.hparams``)."""

import math

import ml_collections
import pytest

from disent_bias.configs import default
from disent_bias.models import hparams
from disent_bias.models import objectives


def model_config(name='beta_vae', **values):
  """``config.model`` of the default config for ``name``, hparams set.

  Rebuilt from a dict: the default config's typed placeholders would cast
  or refuse the wrong types these tests set.
  """
  model = ml_collections.ConfigDict(
      default.get_config(f'model={name}').model.to_dict())
  model.hparams.update(values)
  return model


def test_unknown_objectives_are_refused():
  with pytest.raises(ValueError, match='valid: ada_gvae'):
    objectives.get('vae')


@pytest.mark.parametrize('name', ['beta_vae', 'ada_gvae', 'slow_vae', 'ae'])
def test_default_model_configs_pass(name):
  hparams.validate_config(model_config(name))


def test_k_may_be_negative_but_beta_may_not():
  assert hparams.SIGNED_HPARAMS == ('k',)
  hparams.validate_config(model_config('ada_gvae', k=-1, beta=0.0))
  with pytest.raises(ValueError) as info:
    hparams.validate_config(model_config('ada_gvae', k=-1, beta=-0.5))
  assert str(info.value) == ('invalid config: model.hparams.beta must be '
                             '>= 0, got -0.5')


def test_an_hparam_the_objective_does_not_take_is_refused():
  with pytest.raises(ValueError) as info:
    hparams.validate_config(model_config('slow_vae', k=2))
  assert str(info.value) == ('invalid config: model.hparams.k=2 is set but '
                             'slow_vae takes (beta, gamma, rate)')
  with pytest.raises(ValueError,
                     match=r'ae takes \(no hyperparameters\)'):
    hparams.validate_config(model_config('ae', beta=1.0))


@pytest.mark.parametrize('value,error,match', [
    ('4', TypeError, r"model\.hparams\.beta must be a number, got '4' \(str\)"),
    (True, TypeError, r'model\.hparams\.beta must be a number, got True'),
    (math.nan, ValueError, r'model\.hparams\.beta must be finite, got nan'),
    (math.inf, ValueError, r'model\.hparams\.beta must be finite, got inf'),
])
def test_hparam_values_must_be_finite_numbers(value, error, match):
  model = model_config('beta_vae', beta=value)
  with pytest.raises(error, match=match):
    hparams.validate_config(model)


@pytest.mark.parametrize('field,value,error,match', [
    ('name', 'vae', ValueError, "unknown model 'vae'; valid: ada_gvae, ae"),
    ('name', 3, TypeError, r'model\.name must be a str, got 3 \(int\)'),
    ('recon', 'l1', ValueError, "unknown model.recon 'l1'; valid: "),
    ('recon_weight', 0.0, ValueError, r'recon_weight must be > 0, got 0\.0'),
    ('recon_weight', '1', TypeError, r"recon_weight must be a float, got '1'"),
    ('disc_hidden', 0, ValueError, 'disc_hidden must be a positive int, got 0'),
    ('disc_layers', 2.0, ValueError, 'disc_layers must be a positive int'),
])
def test_bad_model_fields_are_refused(field, value, error, match):
  model = model_config()
  with model.ignore_type():
    model[field] = value
  with pytest.raises(error, match=match):
    hparams.validate_config(model)
