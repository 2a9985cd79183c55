"""Tests of ``disent_bias.encode``: workdirs, (model, params) pairs, seeds."""

import jax
import numpy as np
import pytest

import disent_bias
from disent_bias import data
from disent_bias.tools import encoding
from disent_bias.training import configuration
from disent_bias.training import runner
from disent_bias.training import scoring
from disent_bias.training import setup
from disent_bias.training import stored_run
from tiny_run import tiny_config
from tiny_run import tiny_dataset

pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def _built():
  dataset = tiny_dataset()
  return setup.build(configuration.resolve_config(tiny_config(), dataset),
                     dataset), dataset


def test_pair_and_state_give_the_posterior_of_the_chosen_seed():
  built, dataset = _built()
  states = jax.vmap(built.init_state)(jax.random.split(jax.random.key(0), 2))
  _, images = dataset.sample_observations(jax.random.key(1), 7)
  images = np.asarray(images)
  for s in range(2):
    params = runner.select_seed(states.params, s)
    mu, logvar = built.model.apply({'params': params}, images,
                                   method='encode')
    got_mu, got_logvar = disent_bias.encode(
        (built.model, states), images, seed=s, batch_size=3,
        log_variance=True)
    assert got_mu.shape == (7, 3) and got_mu.dtype == np.float32
    np.testing.assert_allclose(got_mu, mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_logvar, logvar, rtol=1e-5, atol=1e-6)
  one = runner.select_seed(states.params, 1)
  np.testing.assert_array_equal(
      disent_bias.encode((built.model, one), images),
      scoring.representation_fn(built.model, one)(images))


def test_bad_seed_shapes_and_sources_are_refused():
  built, dataset = _built()
  state = built.init_state(jax.random.key(0))
  images = np.zeros((2, *dataset.observation_shape), np.float32)
  with pytest.raises(ValueError, match='1 seed'):
    disent_bias.encode((built.model, state), images, seed=1)
  with pytest.raises(ValueError, match='must have shape'):
    disent_bias.encode((built.model, state), images[:, :3])
  with pytest.raises(ValueError, match='workdir'):
    disent_bias.encode((built.model, state), images, step=3)
  with pytest.raises(TypeError, match='workdir'):
    disent_bias.encode(42, images)


def test_workdir_is_restored_like_evaluate(toy_run):
  restored = stored_run.restore_run(toy_run)
  dataset = data.load_config(restored.config.data)
  _, images = dataset.sample_observations(jax.random.key(2), 5)
  codes = disent_bias.encode(toy_run, np.asarray(images))
  expected = scoring.representation_fn(
      restored.model, runner.select_seed(restored.params, 0))(images)
  np.testing.assert_array_equal(codes, expected)
  assert encoding.model_and_params(toy_run, step=restored.step)[0] == (
      restored.model)
