"""The config of tests/distributed_test.py (``--config=`` of experiments.train).

beta-VAE (MLP, L2) on toy_bumps, 2 seeds, 4 steps of a batch of 8: two
chunks of 2 steps, a log record and a checkpoint after each, the final eval
(images and model summary) and MIG on a few points.
"""

from disent_bias.configs import default


def get_config():
  config = default.get_config('model=beta_vae,dataset=toy_bumps,runlocal')
  config.model.architecture = 'mlp'
  config.model.recon = 'l2'
  config.model.hidden = (16,)
  config.train.num_seeds = 2
  config.train.num_steps = 4
  config.train.batch_size = 8
  config.train.steps_per_call = 2
  config.log_every_steps = 2
  config.eval_every_steps = 100
  config.checkpoint_every_steps = 2
  config.eval.num_images = 2
  config.eval.traversal_steps = 3
  config.eval.num_summary_images = 16
  config.metrics.names = ('mig',)
  config.metrics.num_train = 64
  config.metrics.num_test = 32
  return config
