r"""Toy tier of the 2021 experiment: MLP models on ``toy_bumps`` (CPU minutes).

Run (beta-VAE, 5 seeds vmapped, on the perturbed strip):

  python -m experiments.train --config=disent_bias/configs/toy.py:variant=perturbed \
    --workdir=/tmp/toy_beta_vae_perturbed

Presets after the colon: ``model`` (``beta_vae`` | ``pcl`` | any objective),
``variant`` (original | perturbed | noise), ``smoke`` (a few steps, to check a
setup). Everything else is ``disent_bias/configs/default.py`` with the
overrides below.

Design (measured, ``docs/perturbations.md`` "Toy tier"): ``toy_bumps`` is
three Gaussian bumps (heights 0.8 / 0.6 / 0.45, width 3, 24 positions half a
value apart) on a 128-value strip; the L2 likelihood (sum of squares) with
beta 0.1 puts the beta-VAE in the polarized regime with all three latents
active (beta 0.2 already loses the weakest bump in some seeds; beta >= 1
collapses); an MLP (64, 64) with Adam 1e-3, batch 64, needs about 12,000
steps to disentangle the original strip reliably (MIG 0.8; at 4,000-5,000
steps MIG is 0.4 +- 0.15). PCL uses the same network (encoder means) on
Laplace-transition pairs.
"""

from disent_bias.configs import common
from disent_bias.configs import default

DATASET = 'toy_bumps'
NUM_STEPS = 12_000
NUM_SEEDS = 5
HIDDEN = (64, 64)
LEARNING_RATE = 1e-3
BATCH_SIZE = 64
RECON = 'l2'
# Per-model hyperparameters on the toy tier (see the module docstring).
HPARAMS = {
    'beta_vae': {'beta': 0.1},
    'pcl': {'rate': 1.0},
}


def get_config(arg=None):
  """Returns the toy-tier config; ``arg`` selects presets (module docstring)."""
  arg = common.parse_arg(arg, model='beta_vae', variant='original',
                         smoke=False)
  config = default.get_config(f'model={arg.model},dataset={DATASET},'
                              f'variant={arg.variant}')
  config.model.architecture = 'mlp'
  config.model.hidden = HIDDEN
  config.model.recon = RECON
  for name, value in HPARAMS.get(arg.model, {}).items():
    config.model.hparams[name] = value
  config.optimizer.lr = LEARNING_RATE
  config.train.batch_size = BATCH_SIZE
  config.train.num_steps = NUM_STEPS
  config.train.num_seeds = NUM_SEEDS
  config.train.steps_per_call = 100
  config.log_every_steps = 1_000
  config.eval_every_steps = NUM_STEPS
  config.checkpoint_every_steps = NUM_STEPS
  config.metrics.names = ('mig',)
  config.metrics.num_train = 3_000
  config.metrics.num_test = 1_000
  if arg.smoke:
    default.smoke(config, steps_per_call=10, eval_every_steps=20)
    config.train.num_seeds = 2
  return config
