"""Tests of the training loop on tiny vector data with the MLP architecture."""

import json
import os
import subprocess
import sys
import textwrap

import chex
import jax
import numpy as np
import pytest

from disent_bias import configuration
from disent_bias import data
from disent_bias import runner
from disent_bias import scoring
from disent_bias import setup
from disent_bias import step
from disent_bias import train
from disent_bias.models import objectives
from experiments.configs import default

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Small synthetic task: 3 factors x 4 values -> R^6 (values in [0, 1]).
DATA_OPTIONS = dict(num_factors=3, factor_size=4, dim=6)


# Tiny programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def tiny_dataset(is_pure=True):
  dataset = data.load('synthetic_linear', **DATA_OPTIONS)
  if is_pure:
    return dataset
  render = jax.jit(dataset.render)
  # The same images looked up on the host, like a file-backed dataset.
  return dataset.replace(render_fn=lambda f: np.asarray(render(f)),
                         is_pure=False)


def tiny_config(model='beta_vae', num_steps=4, **train_overrides):
  config = default.get_config(f'model={model},dataset=synthetic_linear,'
                              'runlocal')
  config.model.hidden = (16,)
  config.train.num_steps = num_steps
  config.train.batch_size = 8
  config.train.steps_per_call = 2
  config.log_every_steps = 2
  config.eval_every_steps = 100
  config.checkpoint_every_steps = 2
  config.eval.num_summary_images = 16
  config.eval.model_summary = False
  for key, value in train_overrides.items():
    config.train[key] = value
  return config


def restored_params(workdir):
  _, _, params, _ = train.restore(workdir, dataset=tiny_dataset())
  return params


def assert_trees_close(a, b, rtol=1e-5, atol=1e-6):
  jax.tree.map(lambda x, y: np.testing.assert_allclose(
      np.asarray(x), np.asarray(y), rtol=rtol, atol=atol), a, b)


@pytest.mark.parametrize('name', sorted(objectives.OBJECTIVES))
def test_every_objective_trains(name, tmp_path):
  config = tiny_config(name)
  results = train.train_and_evaluate(config, str(tmp_path),
                                     dataset=tiny_dataset())
  assert {'model', 'dataset', 'num_steps', 'final', 'eval', 'metrics',
          'timings', 'config'} <= set(results)
  assert results['num_steps'] == 4
  assert results['model'] == name
  for key in ('train/loss', 'train/recon', 'train/kl'):
    assert np.isfinite(results['final'][key]), (key, results['final'])
  assert os.path.isdir(tmp_path / 'checkpoints' / '4')
  with open(tmp_path / 'results.json') as f:
    assert json.load(f)['model'] == name
  records = [json.loads(line) for line in open(tmp_path / 'metrics.jsonl')]
  assert [r['step'] for r in records if 'train/loss' in r] == [2, 4]
  saved = json.load(open(tmp_path / 'config.json'))
  assert set(saved['model']['hparams']) == set(
      objectives.OBJECTIVES[name].hparams)
  assert [r['seed'] for r in results['per_seed']] == [0]
  if objectives.OBJECTIVES[name].disc_init is not None:
    assert np.isfinite(results['final']['train/disc'])


def test_discriminator_size_and_recon_weight_from_the_config():
  config = tiny_config('factor_vae')
  config.model.disc_hidden, config.model.disc_layers = 8, 2
  config = configuration.resolve_config(config, tiny_dataset())
  state = setup.build(config, tiny_dataset()).init_state(jax.random.key(0))
  assert sorted(state.disc_params) == ['Dense_0', 'Dense_1', 'Dense_2']
  assert state.disc_params['Dense_1']['kernel'].shape == (8, 8)
  config.model.recon_weight = 40.0
  built = setup.build(config, tiny_dataset())
  assert built.train_step.keywords['recon_weight'] == 40.0
  assert built.hparams == configuration.resolve_hparams(config)
  assert built.disc_optimizer is not None


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


def test_train_step_is_traced_once(tmp_path, monkeypatch):
  monkeypatch.setattr(step, 'train_step',
                      chex.assert_max_traces(step.train_step, n=1))
  config = tiny_config(num_steps=6)
  train.train_and_evaluate(config, str(tmp_path), dataset=tiny_dataset())


def test_batch_is_a_function_of_key_and_pairs_follow_the_objective():
  dataset = tiny_dataset()
  key = jax.random.key(3)
  a = jax.jit(lambda k: step.make_batch(dataset, k, 8))(key)
  b = step.make_batch(dataset, key, 8)
  np.testing.assert_allclose(a['image'], b['image'], rtol=1e-6)
  assert set(a) == {'image'} and a['image'].shape == (8, 6)
  pair = step.make_batch(dataset, key, 8, 'shared', k=1)
  w0, w1 = step.sample_batch_factors(key, dataset.factor_sizes, 8, 'shared',
                                     k=1)
  # Shared pairs differ in at most k = 1 factor.
  assert int((np.asarray(w0) != np.asarray(w1)).sum(-1).max()) <= 1
  np.testing.assert_allclose(pair['image2'], dataset.render(w1), rtol=1e-6)


def test_multi_seed_run_equals_seeds_trained_alone(tmp_path):
  config = tiny_config(num_seeds=2)
  config.seed = 5
  train.train_and_evaluate(config, str(tmp_path / 'both'),
                           dataset=tiny_dataset())
  both = restored_params(str(tmp_path / 'both'))
  for index in (1,):
    alone = tiny_config()
    alone.seed = 5 + index
    workdir = str(tmp_path / f'alone{index}')
    train.train_and_evaluate(alone, workdir, dataset=tiny_dataset())
    assert_trees_close(runner.select_seed(both, index),
                       runner.select_seed(restored_params(workdir), 0))
  # The two seeds really differ.
  first, second = (jax.tree.leaves(runner.select_seed(both, i))[0]
                   for i in range(2))
  assert not np.allclose(first, second)


@pytest.mark.slow
def test_file_backed_data_feed_the_same_step(tmp_path):
  pure, host = str(tmp_path / 'pure'), str(tmp_path / 'host')
  train.train_and_evaluate(tiny_config('slow_vae'), pure,
                           dataset=tiny_dataset())
  train.train_and_evaluate(tiny_config('slow_vae'), host,
                           dataset=tiny_dataset(is_pure=False))
  assert_trees_close(restored_params(pure), restored_params(host))


def test_resumed_run_equals_uninterrupted_run(tmp_path):
  straight, resumed = str(tmp_path / 'straight'), str(tmp_path / 'resumed')
  train.train_and_evaluate(tiny_config(num_steps=8), straight,
                           dataset=tiny_dataset())
  train.train_and_evaluate(tiny_config(num_steps=4), resumed,
                           dataset=tiny_dataset())
  results = train.train_and_evaluate(tiny_config(num_steps=8), resumed,
                                     dataset=tiny_dataset())
  assert results['num_steps'] == 8
  np.testing.assert_equal(
      jax.tree.map(np.asarray, restored_params(resumed)),
      jax.tree.map(np.asarray, restored_params(straight)))
  steps = [json.loads(line)['step']
           for line in open(os.path.join(resumed, 'metrics.jsonl'))
           if 'train/loss' in line]
  assert steps == [2, 4, 6, 8]


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
  config = tiny_config(num_steps=10, inject_nan_at_step=7)
  config.checkpoint_every_steps = 4
  with pytest.raises(FloatingPointError, match=r'step 7 .*loss=nan'):
    train.train_and_evaluate(config, str(tmp_path), dataset=tiny_dataset())
  assert sorted(os.listdir(tmp_path / 'checkpoints')) == ['4']
  params = restored_params(str(tmp_path))
  assert all(np.isfinite(x).all() for x in jax.tree.leaves(params))


def test_representation_fn_is_the_batched_posterior_mean():
  dataset = tiny_dataset()
  built = setup.build(configuration.resolve_config(tiny_config(), dataset),
                      dataset)
  model = built.model
  state = built.init_state(jax.random.key(0))
  _, images = dataset.sample_observations(jax.random.key(1), 10)
  codes = scoring.representation_fn(model, state.params, batch_size=4)(
      np.asarray(images))
  mu, _ = model.apply({'params': state.params}, images, method='encode')
  assert codes.shape == (10, 3)
  np.testing.assert_allclose(codes, mu, rtol=1e-5, atol=1e-6)


_MULTI_DEVICE_SCRIPT = textwrap.dedent("""
    import sys
    import jax
    sys.path.insert(0, {tests!r})
    import train_test
    jax.config.update('jax_disable_most_optimizations', True)
    assert jax.device_count() == 4, jax.devices()
    config = train_test.tiny_config('factor_vae', num_seeds=2)
    train_test.train.train_and_evaluate(config, {workdir!r},
                                        dataset=train_test.tiny_dataset())
""")


@pytest.mark.slow
def test_four_devices_match_one_device(tmp_path):
  sharded = str(tmp_path / 'sharded')
  flags = os.environ.get('XLA_FLAGS', '')
  env = dict(os.environ, JAX_PLATFORMS='cpu',
             XLA_FLAGS=f'{flags} --xla_force_host_platform_device_count=4')
  script = _MULTI_DEVICE_SCRIPT.format(tests=os.path.join(REPO, 'tests'),
                                       workdir=sharded)
  subprocess.run([sys.executable, '-c', script], env=env, cwd=REPO,
                 check=True, capture_output=True, timeout=300)
  single = str(tmp_path / 'single')
  train.train_and_evaluate(tiny_config('factor_vae', num_seeds=2), single,
                           dataset=tiny_dataset())
  results = json.load(open(os.path.join(sharded, 'results.json')))
  assert results['timings']['num_devices'] == 4
  assert_trees_close(restored_params(sharded), restored_params(single),
                     rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_short_conv_run_on_dsprites(tmp_path):
  config = default.get_config('model=beta_vae,dataset=dsprites,runlocal')
  config.train.num_steps = 4
  config.train.steps_per_call = 2
  config.log_every_steps = 2
  config.eval_every_steps = 100
  config.checkpoint_every_steps = 4
  config.eval.num_images = 2
  config.eval.traversal_steps = 3
  config.eval.num_summary_images = 4
  results = train.train_and_evaluate(config, str(tmp_path))
  assert results['config']['model']['architecture'] == 'conv'
  assert results['config']['model']['num_latents'] == 5
  assert results['config']['model']['hparams']['beta'] == 8.0
  assert np.isfinite(results['final']['train/loss'])
  assert np.isfinite(results['eval']['eval/active_latents'])
  images = os.listdir(tmp_path / 'images' / 'step_00000004')
  assert sorted(images) == ['reconstructions_seed0.png', 'traversals_seed0.png']


def test_results_keep_per_seed_records_and_summaries(tmp_path):
  config = tiny_config(num_steps=2, num_seeds=2)
  config.seed = 3
  config.eval.model_summary = True
  config.metrics.names = ('mig',)
  results = train.train_and_evaluate(config, str(tmp_path),
                                     dataset=tiny_dataset())
  records = results['per_seed']
  assert [r['seed'] for r in records] == results['seeds'] == [3, 4]
  migs = [r['metrics']['mig'] for r in records]
  np.testing.assert_allclose(results['metrics']['mig'], np.mean(migs))
  np.testing.assert_allclose(results['metrics']['mig_sd'],
                             np.std(migs, ddof=1))
  active = [r['eval']['eval/active_latents'] for r in records]
  np.testing.assert_allclose(results['eval']['eval/active_latents'],
                             np.mean(active))
  losses = [r['final']['train/loss'] for r in records]
  np.testing.assert_allclose(results['final']['train/loss'], np.mean(losses))
  flat = json.dumps({k: results[k] for k in ('metrics', 'eval', 'final')})
  assert '_per_seed' not in flat and 'per_seed' not in results['metrics']
