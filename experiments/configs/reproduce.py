r"""Reproduction protocols: the paper's table as a grid of training runs.

Run (``quick``, on this 2-core CPU):

  python -m experiments.reproduce --config=experiments/configs/reproduce.py:quick \
    --workdir=/tmp/reproduce_quick

Presets (the text after the colon):
  paper  SPEC section 1 / 7: all seven models x dSprites, Shapes3D x
         original / perturbed / noise x 10 seeds, 300k steps, the
         disentanglement_lib conv network, the SPEC hyperparameters (taken
         from ``default.py``'s preset table). 42 cells of 10 vmapped seeds;
         for a GPU / TPU (hours per cell on a CPU).
  quick  What fits in about 30-40 minutes on a 2-core CPU with 3 seeds (see
         "quick design" below). Expected result: on the toy tier beta-VAE's
         MIG drops on ``perturbed`` and not on ``noise``; PCL does not drop.
  smoke  A few steps, 2 seeds, 2 models, the toy data, tiny metric samples:
         checks the driver end to end (``tests/reproduce_test.py``).

Every cell is ``train.train_and_evaluate`` on ``default.py``'s config with the
overrides below (``overrides`` for every cell, then ``dataset_overrides[d]``,
``model_overrides[m]``, ``pair_overrides[d][m]``); the grid sets
``data.name``, ``data.variant``, ``model.name``, ``train.num_seeds`` and
``seed``. Hyperparameters not overridden come from ``default.py``'s
``PRESETS`` (per model and dataset, with sources).

quick design. SPEC 7: a 64x64 conv beta-VAE does not disentangle in
CPU-minutes (6,000 steps, 13 min, MIG about 0.09), so the quick protocol
puts all seven models on the toy tier (``toy_bumps``, three moving bumps on a
128-value strip, ``disent_bias/data/toy.py``; its ``perturbed`` variant hides
the factor-aligned local variance structure with the same construction
principle as the image datasets) with the MLP networks. Measured cost: see
``QUICK_COST`` (seconds per cell of 3 vmapped seeds, measured on this
machine, with the command that measured it).
"""

import ml_collections

# The models in the row order of SPEC section 1's table.
MODELS = ('ae', 'beta_vae', 'factor_vae', 'beta_tcvae', 'slow_vae', 'pcl',
          'ada_gvae')
DISPLAY = {
    'ae': 'AE',
    'beta_vae': 'beta-VAE',
    'factor_vae': 'FactorVAE',
    'beta_tcvae': 'beta-TCVAE',
    'slow_vae': 'SlowVAE',
    'pcl': 'PCL',
    'ada_gvae': 'Ada-GVAE',
    'dsprites': 'dSprites',
    'shapes3d': 'Shapes3D',
    'toy_bumps': 'toy bumps',
}
VARIANTS = ('original', 'perturbed', 'noise')

# The toy tier's dataset (registered in disent_bias/data/toy.py).
TOY_DATASET = 'toy_bumps'

# quick: training length and network of the toy tier.
QUICK_TOY_STEPS = 3_000
QUICK_TOY_BATCH = 64
QUICK_TOY_LR = 1e-3
QUICK_TOY_HIDDEN = (256, 256)
QUICK_NUM_SEEDS = 3


def _common(config, *, name, description, num_seeds, datasets, models,
            variants=VARIANTS):
  """Fields shared by every preset; the grid is datasets x variants x models."""
  config.name = name
  config.description = description
  # The base train config: a module with get_config(arg), and its argument.
  config.train_config = 'experiments.configs.default'
  config.train_config_arg = ''
  config.seed = 0  # Seed s of a cell is seed + s (train.seed_keys).
  config.num_seeds = num_seeds  # Vmapped in one train_and_evaluate per cell.
  # Grid axes, in table order; dataset names are disent_bias.data names.
  config.datasets = tuple(datasets)
  config.variants = tuple(variants)
  config.models = tuple(models)
  config.display = dict(DISPLAY)  # Table / plot labels.
  # Train-config overrides (nested dicts; only existing fields): for every
  # cell, per dataset, per model, and per (dataset, model) pair.
  config.overrides = {}
  config.dataset_overrides = {}
  config.model_overrides = {}
  config.pair_overrides = {}
  config.table_metrics = ('mig', 'dci.disentanglement')
  config.analysis = ml_collections.ConfigDict()
  config.analysis.enabled = True
  config.analysis.num_points = 256  # Grid points for the local PCA scores.
  config.analysis.seed = 0
  config.analysis.radius = 1


def _paper(config):
  _common(config, name='paper', num_seeds=10,
          description='Paper protocol (SPEC 1): 300k steps, 10 seeds',
          datasets=('dsprites', 'shapes3d'), models=MODELS)
  config.overrides = dict(
      model=dict(architecture='conv'),
      train=dict(num_steps=300_000, batch_size=64),
      optimizer=dict(lr=1e-4),
      metrics=dict(names=('mig', 'dci'), num_train=10_000, num_test=5_000),
      eval_every_steps=50_000,
      checkpoint_every_steps=10_000,
  )


def _toy_overrides(steps, batch, lr, hidden, num_train, num_test):
  return dict(
      model=dict(architecture='mlp', hidden=hidden),
      train=dict(num_steps=steps, batch_size=batch),
      optimizer=dict(lr=lr),
      metrics=dict(names=('mig', 'dci'), num_train=num_train,
                   num_test=num_test),
      log_every_steps=max(1, steps // 10),
      eval_every_steps=steps,
      checkpoint_every_steps=max(1, steps // 3),
  )


def _quick(config):
  _common(config, name='quick', num_seeds=QUICK_NUM_SEEDS,
          description='Quick protocol (2-core CPU): toy tier, all models',
          datasets=(TOY_DATASET,), models=MODELS)
  config.overrides = _toy_overrides(QUICK_TOY_STEPS, QUICK_TOY_BATCH,
                                    QUICK_TOY_LR, QUICK_TOY_HIDDEN,
                                    num_train=2_000, num_test=1_000)


def _smoke(config):
  _common(config, name='smoke', num_seeds=2,
          description='Smoke test of the reproduction driver',
          datasets=(TOY_DATASET,), models=('beta_vae', 'pcl'),
          variants=('original', 'perturbed'))
  overrides = _toy_overrides(10, 8, 1e-3, (16,), num_train=100, num_test=50)
  overrides.update(log_every_steps=5, checkpoint_every_steps=5)
  overrides['train']['steps_per_call'] = 5
  overrides['metrics']['names'] = ('mig',)  # DCI's sklearn fits cost ~10 s.
  config.overrides = overrides
  config.table_metrics = ('mig',)
  config.analysis.num_points = 16


PRESETS = {'paper': _paper, 'quick': _quick, 'smoke': _smoke}


def get_config(arg=None):
  """Returns the reproduction config of preset ``arg`` (default ``quick``)."""
  preset = arg or 'quick'
  if preset not in PRESETS:
    raise ValueError(f'unknown reproduction preset {preset!r}; valid: '
                     f'{", ".join(PRESETS)}')
  config = ml_collections.ConfigDict()
  PRESETS[preset](config)
  return config
