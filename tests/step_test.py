"""Tests of the pure train state and step (disent_bias.training.step)."""

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias import data
from disent_bias.configs import default
from disent_bias.models import objective_base as base
from disent_bias.models import objectives
from disent_bias.training import configuration
from disent_bias.training import runner
from disent_bias.training import setup
from disent_bias.training import step
from tiny_run import tiny_config
from tiny_run import tiny_dataset

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Tiny programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def test_batch_is_a_function_of_key_and_pairs_follow_the_objective():
  dataset = tiny_dataset()
  key = jax.random.key(3)
  single = functools.partial(base.single_images, hparams=None)
  a = jax.jit(lambda k: step.make_batch(dataset, k, 8, single))(key)
  b = step.make_batch(dataset, key, 8, single)
  np.testing.assert_allclose(a['image'], b['image'], rtol=1e-6)
  assert set(a) == {'image'} and a['image'].shape == (8, 6)
  shared = functools.partial(base.shared_pairs,
                             hparams=objectives.AdaGVAEHparams(k=1))
  pair = step.make_batch(dataset, key, 8, shared)
  w0, w1 = shared(key, dataset.factor_sizes, 8)
  # Shared pairs differ in at most k = 1 factor.
  assert int((np.asarray(w0) != np.asarray(w1)).sum(-1).max()) <= 1
  np.testing.assert_allclose(pair['image2'], dataset.render(w1), rtol=1e-6)


# model.compute_dtype = 'bfloat16': bfloat16 activations and matrix products,
# float32 parameters, optimiser state and loss. Tolerances (docs/
# performance.md): one step's loss within 1e-3 relative of float32's on the
# same state and batch (measured 2e-6 for the 32x32 conv beta-VAE), and the
# losses of a 40-step run within 1e-2 (measured 1.8e-3 for the tiny MLP).


def _conv_setup(compute_dtype):
  config = default.get_config('model=beta_vae,dataset=dsprites32')
  config.model.compute_dtype = compute_dtype
  dataset = data.load_config(config.data)
  config = configuration.resolve_config(config, dataset)
  return setup.build(config, dataset), dataset


def _dtypes(tree):
  return {str(x.dtype) for x in jax.tree.leaves(tree)}


def test_bfloat16_step_keeps_float32_state_and_loss():
  (f32, dataset), (bf16, _) = _conv_setup('float32'), _conv_setup('bfloat16')
  assert bf16.model.dtype == jnp.bfloat16 and f32.model.dtype is None
  state = jax.jit(f32.init_state)(jax.random.key(0))
  assert _dtypes(jax.jit(bf16.init_state)(jax.random.key(0))) == _dtypes(
      state)
  batch = jax.jit(lambda k: f32.make_batch(dataset, k, 16))(jax.random.key(1))
  key = jax.random.key(2)
  step_bf16 = jax.jit(bf16.train_step)
  assert 'bf16' in step_bf16.lower(state, batch, key).as_text()
  new_f32, m_f32 = jax.jit(f32.train_step)(state, batch, key)
  new_bf16, m_bf16 = step_bf16(state, batch, key)
  assert _dtypes((new_bf16.params, new_bf16.opt_state)) == {'float32',
                                                            'int32'}
  assert all(v.dtype == jnp.float32 for v in m_bf16.values())
  np.testing.assert_allclose(m_bf16['loss'], m_f32['loss'], rtol=1e-3)
  np.testing.assert_allclose(m_bf16['grad_norm'], m_f32['grad_norm'],
                             rtol=1e-2)


def test_bfloat16_short_run_stays_finite_and_close():
  losses = {}
  for dtype in ('float32', 'bfloat16'):
    config = tiny_config()
    config.model.compute_dtype = dtype
    dataset = tiny_dataset()
    built = setup.build(configuration.resolve_config(config, dataset),
                        dataset)
    run = runner.Run(built, dataset, runner.make_mesh())
    keys = run.seed_keys(0)
    state = run.init_state(keys)
    state, metrics = run.compiled(40, state, keys, None)(state, keys, None)
    assert _dtypes((state.params, state.opt_state)) == {'float32', 'int32'}
    losses[dtype] = np.asarray(metrics['loss'][0])
  assert np.isfinite(losses['bfloat16']).all()
  np.testing.assert_allclose(losses['bfloat16'], losses['float32'], rtol=1e-2)


def _tiny_state(name):
  dataset = tiny_dataset()
  built = setup.build(configuration.resolve_config(tiny_config(name),
                                                   dataset), dataset)
  return built, dataset, built.init_state(jax.random.key(0))


def _equal(a, b):
  assert jax.tree.structure(a) == jax.tree.structure(b)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize('name,stored', [
    ('beta_vae', ['opt_state', 'params', 'step']),
    ('pcl', ['extra', 'opt_state', 'params', 'step']),
    ('factor_vae', ['disc_opt_state', 'disc_params', 'opt_state', 'params',
                    'step']),
])
def test_checkpoint_tree_keeps_the_stored_names_and_round_trips(name,
                                                                stored):
  # The names every version has written: old checkpoints restore.
  _, _, state = _tiny_state(name)
  tree = step.to_tree(state)
  assert sorted(tree) == stored
  _equal(step.from_tree(tree), state)


def test_main_optimiser_trains_pcl_psi_with_the_params():
  built, dataset, state = _tiny_state('pcl')
  psi = state.objective_state.trainable
  assert sorted(psi) == ['a_raw', 'b', 'c']
  # The main optimiser's state is of (params, psi), in that order.
  _equal(state.opt_state, built.optimizer.init((state.params, psi)))
  batch = built.make_batch(dataset, jax.random.key(1), 8)
  new, metrics = jax.jit(built.train_step)(state, batch, jax.random.key(2))
  assert not np.array_equal(new.objective_state.trainable['b'], psi['b'])
  assert {'grad_norm', 'param_norm', 'pcl_accuracy'} <= set(metrics)


def test_factor_vae_discriminator_updates_after_the_main_step():
  built, dataset, state = _tiny_state('factor_vae')
  batch = built.make_batch(dataset, jax.random.key(1), 8)
  new, metrics = jax.jit(built.train_step)(state, batch, jax.random.key(2))
  assert {'disc', 'disc_accuracy', 'tc'} <= set(metrics)
  old_disc = state.objective_state.own['disc_params']
  new_disc = new.objective_state.own['disc_params']
  assert not np.array_equal(new_disc['Dense_0']['kernel'],
                            old_disc['Dense_0']['kernel'])
  # The discriminator's Adam is its own: the main optimiser's state holds
  # the VAE's params (and PCL's psi) only.
  assert (jax.tree.structure(state.opt_state) ==
          jax.tree.structure(built.optimizer.init((state.params, {}))))
