"""Tests of the training loop on tiny vector data with the MLP architecture."""

import json
import os

import chex
import jax
import numpy as np
import pytest

from disent_bias.configs import default
from disent_bias.models import objectives
from disent_bias.training import step
from disent_bias.training import train
from disent_bias.utils import logging_utils
from distributed_config import short_schedule
from tiny_run import restored_params
from tiny_run import tiny_config
from tiny_run import tiny_dataset

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Tiny programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


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
      objectives.OBJECTIVES[name].hparam_names)
  assert [r['seed'] for r in results['per_seed']] == [0]
  if objectives.OBJECTIVES[name].update is not None:
    assert np.isfinite(results['final']['train/disc'])


def test_train_step_is_traced_once(tmp_path, monkeypatch):
  monkeypatch.setattr(step, 'train_step',
                      chex.assert_max_traces(step.train_step, n=1))
  config = tiny_config(num_steps=6)
  train.train_and_evaluate(config, str(tmp_path), dataset=tiny_dataset())


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


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(
    tmp_path, monkeypatch):
  config = tiny_config(num_steps=10, inject_nan_at_step=7)
  config.checkpoint_every_steps = 4
  closed = []
  close = logging_utils.MetricWriter.close
  monkeypatch.setattr(logging_utils.MetricWriter, 'close',
                      lambda self: closed.append(self) or close(self))
  with pytest.raises(FloatingPointError, match=r'step 7 .*loss=nan'):
    train.train_and_evaluate(config, str(tmp_path), dataset=tiny_dataset())
  assert closed, 'the metric writer stays open after a failed run'
  assert sorted(os.listdir(tmp_path / 'checkpoints')) == ['4']
  params = restored_params(str(tmp_path))
  assert all(np.isfinite(x).all() for x in jax.tree.leaves(params))


@pytest.mark.slow
def test_short_conv_run_on_dsprites(tmp_path):
  config = short_schedule(
      default.get_config('model=beta_vae,dataset=dsprites,runlocal'),
      checkpoint_every_steps=4)
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

