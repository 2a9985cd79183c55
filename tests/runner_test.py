"""Tests of the runner: seeds vmapped, data sharded, host-fed batches."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from disent_bias.training import runner
from disent_bias.training import train
from tiny_run import assert_trees_close
from tiny_run import restored_params
from tiny_run import tiny_config
from tiny_run import tiny_dataset

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Tiny programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


_MULTI_DEVICE_SCRIPT = textwrap.dedent("""
    import sys
    import jax
    sys.path.insert(0, {tests!r})
    import tiny_run
    from disent_bias.training import train
    jax.config.update('jax_disable_most_optimizations', True)
    assert jax.device_count() == 4, jax.devices()
    config = tiny_run.tiny_config('factor_vae', num_seeds=2)
    config.model.disc_hidden = 32  # A small discriminator: a third faster.
    train.train_and_evaluate(config, {workdir!r},
                             dataset=tiny_run.tiny_dataset())
""")


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
  config = tiny_config('factor_vae', num_seeds=2)
  config.model.disc_hidden = 32
  train.train_and_evaluate(config, single, dataset=tiny_dataset())
  results = json.load(open(os.path.join(sharded, 'results.json')))
  assert results['timings']['num_devices'] == 4
  assert_trees_close(restored_params(sharded), restored_params(single),
                     rtol=1e-4, atol=1e-5)
