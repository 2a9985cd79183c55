"""The config of tests/distributed_test.py (``--config=`` of experiments.train).

beta-VAE (MLP, L2) on toy_bumps, 2 seeds, 4 steps of a batch of 8: two
chunks of 2 steps, a log record and a checkpoint after each, the final eval
(images and model summary) and MIG on a few points.

The file is loaded by path, outside pytest, so it imports nothing from
tests/; the test helpers build on its ``toy_mlp_config`` and
``short_schedule`` instead (conftest.py, tiny_run.py, train_test.py).
"""

from disent_bias.configs import default


def toy_mlp_config():
  """beta-VAE on the toy tier: an MLP with one hidden layer of 16, L2."""
  config = default.get_config('model=beta_vae,dataset=toy_bumps,runlocal')
  config.model.architecture = 'mlp'
  config.model.recon = 'l2'
  config.model.hidden = (16,)
  return config


def short_schedule(config, num_steps=4, checkpoint_every_steps=2):
  """Sets ``num_steps`` in calls of 2, a log record every 2, no eval
  before the final one; returns ``config``."""
  config.train.num_steps = num_steps
  config.train.steps_per_call = 2
  config.log_every_steps = 2
  config.eval_every_steps = 100
  config.checkpoint_every_steps = checkpoint_every_steps
  return config


def get_config():
  config = short_schedule(toy_mlp_config())
  config.train.num_seeds = 2
  config.train.batch_size = 8
  config.eval.num_images = 2
  config.eval.traversal_steps = 3
  config.eval.num_summary_images = 16
  config.metrics.names = ('mig',)
  config.metrics.num_train = 64
  config.metrics.num_test = 32
  return config
