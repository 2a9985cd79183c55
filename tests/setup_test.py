"""Tests of the setup boundary: every objective trains through each public
path (``setup.build`` + ``runner.Run``, ``studies.experiment``)."""

import dataclasses

import jax
import numpy as np
import pytest

from disent_bias.models import objectives
from disent_bias.studies import experiment
from disent_bias.training import configuration
from disent_bias.training import runner
from disent_bias.training import setup
from tiny_run import tiny_config
from tiny_run import tiny_dataset

# Tiny programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def _built(name, **overrides):
  dataset = tiny_dataset()
  config = configuration.resolve_config(tiny_config(name, **overrides),
                                        dataset)
  return setup.build(config, dataset), dataset


@pytest.mark.parametrize('name', sorted(objectives.OBJECTIVES))
def test_every_objective_trains_through_setup_and_runner(name):
  built, dataset = _built(name)
  run = runner.Run(built, dataset, runner.make_mesh())
  keys = run.seed_keys(0)
  state = run.init_state(keys)
  chunk = run.compiled(2, state, keys, None)
  state, metrics = chunk(state, keys, None)
  assert int(state.step[0]) == 2
  assert metrics['loss'].shape == (1, 2)
  assert np.isfinite(np.asarray(metrics['loss'])).all()
  assert isinstance(built.hparams, objectives.get(name).hparams)


@pytest.mark.parametrize('name', sorted(objectives.OBJECTIVES))
def test_every_objective_trains_through_train_variants(name):
  model, runs = experiment.train_variants(tiny_config(name), [tiny_dataset()],
                                          num_seeds=1, num_steps=2)
  ((params, losses),) = runs
  assert losses.shape == (1, 2) and np.isfinite(losses).all()
  assert jax.tree.leaves(params)[0].shape[0] == 1
  assert model.num_latents == tiny_dataset().num_factors


def test_the_objective_gets_its_typed_hparams_and_draws_its_batches():
  pcl, dataset = _built('pcl')
  assert pcl.hparams == objectives.PCLHparams(rate=6.0)
  assert set(pcl.make_batch(dataset, jax.random.key(0), 4)) == {'image',
                                                                 'image2'}
  ada, _ = _built('ada_gvae')
  assert ada.hparams == objectives.AdaGVAEHparams(beta=1.0, k=1)
  beta, _ = _built('beta_vae')
  assert set(beta.make_batch(dataset, jax.random.key(0), 4)) == {'image'}


def test_build_refuses_an_unresolved_config():
  with pytest.raises(ValueError, match='resolved config'):
    setup.build(tiny_config(), tiny_dataset())


def test_resolved_config_holds_only_the_objectives_hparams():
  config = configuration.resolve_config(tiny_config('factor_vae'),
                                        tiny_dataset())
  assert dict(config.model.hparams) == {'gamma': 35.0}
  assert configuration.is_resolved(config)


def test_discriminator_size_and_recon_weight_from_the_config():
  config = tiny_config('factor_vae')
  config.model.disc_hidden, config.model.disc_layers = 8, 2
  config = configuration.resolve_config(config, tiny_dataset())
  state = setup.build(config, tiny_dataset()).init_state(jax.random.key(0))
  disc = state.objective_state.own['disc_params']
  assert sorted(disc) == ['Dense_0', 'Dense_1', 'Dense_2']
  assert disc['Dense_1']['kernel'].shape == (8, 8)
  config.model.recon_weight = 40.0
  built = setup.build(config, tiny_dataset())
  assert built.train_step.keywords['ctx'].recon_weight == 40.0
  assert dataclasses.asdict(built.hparams) == configuration.resolve_hparams(
      config)
