"""A tiny training setup shared by the train, step, runner and scoring tests:
vector data with the MLP architecture, compile-time dominated."""

import os

import jax
import numpy as np

from disent_bias import data
from disent_bias.configs import default
from disent_bias.training import stored_run
from distributed_config import short_schedule

# Small synthetic task: 3 factors x 4 values -> R^6 (values in [0, 1]).
DATA_OPTIONS = dict(num_factors=3, factor_size=4, dim=6)


def tiny_dataset(is_pure=True):
  dataset = data.load('synthetic_linear', **DATA_OPTIONS)
  if is_pure:
    return dataset
  render = jax.jit(dataset.render)
  # The same images looked up on the host, like a file-backed dataset.
  return dataset.replace(render_fn=lambda f: np.asarray(render(f)),
                         is_pure=False)


def tiny_config(model='beta_vae', num_steps=4, **train_overrides):
  config = short_schedule(default.get_config(
      f'model={model},dataset=synthetic_linear,runlocal'), num_steps)
  config.model.hidden = (16,)
  config.train.batch_size = 8
  config.eval.num_summary_images = 16
  config.eval.model_summary = False
  for key, value in train_overrides.items():
    config.train[key] = value
  return config


def restored_params(workdir):
  _, _, params, _ = stored_run.restore(workdir, dataset=tiny_dataset())
  return params


def assert_trees_close(a, b, rtol=1e-5, atol=1e-6):
  jax.tree.map(lambda x, y: np.testing.assert_allclose(
      np.asarray(x), np.asarray(y), rtol=rtol, atol=atol), a, b)


def files_under(directory):
  """Every file under ``directory`` (relative path) with its bytes."""
  out = {}
  for parent, _, names in os.walk(directory):
    for name in names:
      path = os.path.join(parent, name)
      with open(path, 'rb') as f:
        out[os.path.relpath(path, directory)] = f.read()
  return out
