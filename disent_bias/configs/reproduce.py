r"""Reproduction protocols: the paper's table as a grid of training runs.

Run (``quick``, on this 2-core CPU):

  python -m experiments.reproduce --config=disent_bias/configs/reproduce.py:quick \
    --workdir=/tmp/reproduce_quick

Presets (the text after the colon; options are appended with commas):
  paper   the paper's protocol and table: seven models x dSprites, Shapes3D x
          original / perturbed / noise (42 cells) x 10 vmapped seeds, 300k
          steps, batch 64, Adam 1e-4, the disentanglement_lib conv network,
          the paper's hyperparameters (``default.py``'s ``PRESETS``), MIG and DCI at
          disentanglement_lib's sample sizes, 500 steps per call. For a GPU
          / TPU, in bounded jobs (``experiments/job.py``, docs/gpu.md).
  paper_core  ``paper`` for beta-VAE and PCL (the two models that carry the
          claim), 5 seeds: 12 cells, a unit each at the H200 rate, one unit
          per 10-minute job (``results/paper_core/``).
  quick   The toy tier for the paper's seven models and the rest of
          disentanglement_lib's zoo (AnnealedVAE, DIP-VAE-I / II): 30 cells x
          3 seeds, MIG and DCI. For this 2-core CPU (design and cost:
          ``reproduce_settings.py``). The paper's claim: beta-VAE's MIG
          lower on ``perturbed`` than on ``original`` and ``noise``, PCL's
          about unchanged.
  eps_dose  The eps dose-response on the toy tier: beta-VAE and PCL, the
          quick toy settings, MIG, 3 seeds, data.epsilon swept over
          ``reproduce_settings.DOSE_EPSILONS`` for the perturbed and noise
          variants (the original variant is eps 0). 22 cells; ``table.md``
          and ``sweep.png``.
  smoke   10 steps, 2 seeds, beta-VAE and PCL, the toy data, original and
          perturbed, tiny metric samples: checks the driver end to end
          (``tests/reproduce/``, ``colab/04_reproduce_table.ipynb``).
  job_smoke  ``smoke`` with DCI (LightGBM backend, the ``fast`` extra) and a
          job section sized for a CPU: the bounded-job cycle end to end
          (``tests/reproduce/job_test.py``).
  images  The image tier (``disent_bias/data/tiers.py``): the 32x32
          look-alike ``shapes3d32`` on a reduced grid, six of the paper's
          models x original / perturbed / noise (18 cells) x 5 vmapped
          seeds, MLP (64, 64), L2, 16,000 steps, MIG and DCI. For this
          2-core CPU, resumable: finished cells are skipped and started ones
          resume on a rerun with the same --workdir (design, cost:
          docs/datasets.md, "The image tier").
  images_conv  ``images`` with the conv network (disentanglement_lib's
          pattern at 32x32), beta-VAE and PCL, 3,000 steps: 6 cells.
  sprites_conv  The dSprites column: ``dsprites32`` with the conv network,
          Bernoulli, beta-VAE / PCL / beta-TCVAE, 3,000 steps: 9 cells.
  ,sprites  Option of ``images``: the binary sprites ``dsprites32`` as well
          (36 cells; no VAE setting measured here disentangles its original
          in CPU-minutes, docs/datasets.md).
  ,dci    Option: also score DCI (gradient boosted trees, disentanglement_lib
          defaults) in a preset that does not.

Every cell is ``train.train_and_evaluate`` on ``default.py``'s config (the
reproduction config carries it as ``base_train``, so
``--config.base_train.<field>=...`` changes it for every cell) with the
overrides below (``overrides`` for every cell, then ``dataset_overrides[d]``,
``model_overrides[m]``, ``pair_overrides[d][m]``); the grid sets
``data.name``, ``data.variant``, ``model.name``, ``train.num_seeds`` and
``seed``. Hyperparameters not overridden come from ``default.py``'s
``PRESETS`` (per model and dataset, with sources).

The grids, labels and measured settings the presets use (the toy, image and
conv tiers, the job figures; ``MODELS``, ``QUICK_TOY``, ...) are defined in
``disent_bias/configs/reproduce_settings.py``.
"""

import ml_collections

from disent_bias.configs import common
from disent_bias.configs import default
from disent_bias.configs import reproduce_settings as settings


def _common(config, *, name, description, num_seeds, datasets, models,
            variants=settings.VARIANTS):
  """Fields shared by every preset; the grid is datasets x variants x models."""
  config.name = name
  config.description = description
  # The base train config of every cell (disent_bias.reproduce.grid applies
  # the overrides below to a copy of it).
  config.base_train = default.get_config()
  config.seed = 0  # Seed s of a cell is seed + s (train.seed_keys).
  config.num_seeds = num_seeds  # Vmapped in one train_and_evaluate per cell.
  # Grid axes, in table order; dataset names are disent_bias.data names.
  config.datasets = tuple(datasets)
  config.variants = tuple(variants)
  config.models = tuple(models)
  config.display = dict(settings.DISPLAY)  # Table / plot labels.
  # Train-config overrides (nested dicts; only existing fields): for every
  # cell, per dataset, per model, and per (dataset, model) pair.
  config.overrides = {}
  config.dataset_models = {}  # Optional: dataset -> subset of models.
  config.dataset_overrides = {}
  config.model_overrides = {}
  config.pair_overrides = {}
  config.table_metrics = ('mig', 'dci.disentanglement')
  config.analysis = ml_collections.ConfigDict()
  config.analysis.enabled = True
  config.analysis.num_points = 256  # Grid points for the local PCA scores.
  config.analysis.seed = 0
  config.analysis.radius = 1
  # The criterion's options (experiments/analyze.py): renders blurred by this
  # many pixels, and only the ordinal factors' Jacobian columns.
  config.analysis.blur = 0.0
  config.analysis.ordinal_factors = False
  # Optional sweep (disent_bias.reproduce, "Sweeps"): a dotted train-config
  # field crossed with the grid at these values; '' for none. Variants in
  # unswept_variants train once and are drawn at the baseline value (which
  # they need, and which is not one of the points).
  config.sweep = ml_collections.ConfigDict()
  config.sweep.field = ''
  config.sweep.points = ()
  config.sweep.unswept_variants = ()
  config.sweep.baseline = 0.0
  # Bounded jobs (experiments/job.py, disent_bias/reproduce/units.py): units
  # of seeds sized so that each trains to full length within unit_seconds
  # at the measured seed-steps per second (by number of vmapped seeds; one
  # H200, beta-VAE on dSprites, batch 64, results/gpu/) times the model's
  # relative cost per step, plus overhead_seconds of compile and scoring.
  config.job = ml_collections.ConfigDict()
  config.job.unit_seconds = settings.PAPER_UNIT_SECONDS
  config.job.overhead_seconds = settings.UNIT_OVERHEAD_SECONDS
  config.job.reserve_seconds = 15.0  # Kept for packing at the budget's end.
  config.job.seed_steps_per_second = dict(settings.H200_SEED_STEPS_PER_SECOND)
  config.job.model_cost = dict(settings.MODEL_STEP_COST)
  # Scored in the job; the cell's other metrics (DCI's trees) are scored from
  # the saved samples when the job's folder is ingested on a CPU.
  config.job.accelerator_metrics = ('mig',)


def _paper(config):
  _common(config, name='paper', num_seeds=10,
          description=('Paper protocol (Zietlow et al. 2021, Table 1): '
                       '300k steps, 10 seeds'),
          datasets=('dsprites', 'shapes3d'), models=settings.MODELS)
  config.overrides = dict(
      model=dict(architecture='conv'),
      train=dict(num_steps=settings.PAPER_STEPS, batch_size=64,
                 steps_per_call=500),
      optimizer=dict(lr=1e-4),
      metrics=dict(names=('mig', 'dci'), num_train=10_000, num_test=5_000),
      log_every_steps=10_000,
      eval_every_steps=settings.PAPER_STEPS,  # The final eval point only.
      checkpoint_every_steps=50_000,
  )
  # The documented criterion for the 64x64 images (docs/analysis.md): the
  # binary sprites' Jacobians are edge-dominated, and a step between
  # categorical shapes is no local direction.
  config.analysis.blur = 1.0
  config.analysis.ordinal_factors = True


def _paper_core(config):
  """beta-VAE and PCL, the two models that carry the claim, at the paper's
  settings: 2 datasets x 3 variants x 2 models x 5 seeds, 300k steps."""
  _paper(config)
  config.name = 'paper_core'
  config.description = ('Paper protocol, core (Zietlow et al. 2021, '
                        'Table 1): beta-VAE and PCL, 300k steps, 5 seeds')
  config.models = settings.PAPER_CORE_MODELS
  config.num_seeds = settings.PAPER_CORE_NUM_SEEDS


def _tier_overrides(steps, batch, lr, hidden, num_train, num_test,
                    metrics=('mig',), recon='bernoulli', architecture='mlp',
                    **model):
  """Train-config overrides of a CPU-tier run (``hidden``: the MLP's widths,
  None for the conv network; ``model``: more model fields)."""
  widths = {} if hidden is None else dict(hidden=hidden)
  return dict(
      model=dict(architecture=architecture, **widths, recon=recon, **model),
      train=dict(num_steps=steps, batch_size=batch, steps_per_call=50),
      optimizer=dict(lr=lr),
      metrics=dict(names=metrics, num_train=num_train, num_test=num_test),
      log_every_steps=max(1, steps // 10),
      eval_every_steps=steps,
      checkpoint_every_steps=max(1, steps // 5),
  )


def _quick(config):
  _common(config, name='quick', num_seeds=settings.QUICK_NUM_SEEDS,
          description='Quick protocol (2-core CPU): the toy tier, all models',
          datasets=(settings.TOY_DATASET,),
          models=settings.MODELS + settings.ZOO_EXTRA)
  config.dataset_overrides = {
      settings.TOY_DATASET: _tier_overrides(**settings.QUICK_TOY)}
  config.pair_overrides = {
      settings.TOY_DATASET: {
          model: dict(model=dict(hparams=hparams))
          for model, hparams in settings.QUICK_TOY_HPARAMS.items()},
  }
  config.table_metrics = ('mig', 'dci.disentanglement')


def _images(config):
  _common(config, name='images', num_seeds=settings.IMAGES_NUM_SEEDS,
          description='Image tier (2-core CPU): 32x32 look-alikes',
          datasets=settings.IMAGES_DATASETS, models=settings.IMAGES_MODELS)
  overrides = _tier_overrides(**settings.IMAGES)
  # Mechanism readouts on 256 images at the final eval point only.
  overrides['eval_every_steps'] = settings.IMAGES['steps']
  config.overrides = overrides
  config.model_overrides = {
      model: dict(model=dict(hparams=hparams))
      for model, hparams in settings.IMAGES_HPARAMS.items()}
  config.table_metrics = ('mig', 'dci.disentanglement')


def _images_conv(config):
  """``images`` with the conv network: beta-VAE and PCL on shapes3d32."""
  _common(config, name='images_conv', num_seeds=settings.IMAGES_NUM_SEEDS,
          description=('Image tier, conv network (2-core CPU): shapes3d32, '
                       'beta-VAE and PCL'),
          datasets=settings.IMAGES_DATASETS, models=settings.IMAGES_CONV_MODELS)
  config.overrides = _tier_overrides(**settings.IMAGES_CONV)
  config.model_overrides = {
      model: dict(model=dict(hparams=settings.IMAGES_HPARAMS[model]))
      for model in settings.IMAGES_CONV_MODELS}


def _sprites_conv(config):
  """The dSprites column: dsprites32, conv network, three models."""
  _common(config, name='sprites_conv', num_seeds=settings.IMAGES_NUM_SEEDS,
          description=('Image tier, conv network (2-core CPU): dsprites32, '
                       'beta-VAE, PCL and beta-TCVAE'),
          datasets=('dsprites32',), models=settings.SPRITES_CONV_MODELS)
  config.overrides = _tier_overrides(**settings.SPRITES_CONV)
  config.model_overrides = {
      model: dict(model=dict(hparams=settings.IMAGES_DSPRITES_HPARAMS[model]))
      for model in settings.SPRITES_CONV_MODELS}
  # The documented criterion for binary sprites (docs/analysis.md).
  config.analysis.blur = 1.0
  config.analysis.ordinal_factors = True


def _add_sprites(config):
  """images option: the binary sprites tier ``dsprites32`` as well."""
  config.datasets = tuple(config.datasets) + ('dsprites32',)
  sprites = _tier_overrides(**settings.IMAGES_DSPRITES)
  sprites['eval_every_steps'] = settings.IMAGES_DSPRITES['steps']
  config.dataset_overrides = {'dsprites32': sprites}
  config.pair_overrides = {'dsprites32': {
      model: dict(model=dict(hparams=hparams))
      for model, hparams in settings.IMAGES_DSPRITES_HPARAMS.items()}}


def _add_dci(config):
  """Scores DCI (disentanglement_lib's gradient boosted trees) as well."""
  groups = [config.overrides] + list(config.dataset_overrides.values())
  for overrides in groups:
    if 'metrics' in overrides and 'dci' not in overrides.metrics.names:
      overrides.metrics.names = tuple(overrides.metrics.names) + ('dci',)
  if 'dci.disentanglement' not in config.table_metrics:
    config.table_metrics = tuple(config.table_metrics) + (
        'dci.disentanglement',)


def _smoke(config):
  _common(config, name='smoke', num_seeds=2,
          description='Smoke test of the reproduction driver',
          datasets=(settings.TOY_DATASET,), models=('beta_vae', 'pcl'),
          variants=('original', 'perturbed'))
  overrides = _tier_overrides(10, 8, 1e-3, (16,), num_train=100, num_test=50)
  overrides.update(log_every_steps=5, checkpoint_every_steps=5)
  overrides['train']['steps_per_call'] = 5
  config.overrides = overrides
  config.table_metrics = ('mig',)
  config.analysis.num_points = 16


def _job_smoke(config):
  """``smoke`` with DCI, for the bounded-job cycle on a CPU (tests, CI)."""
  _smoke(config)
  config.name = 'job_smoke'
  config.description = 'Smoke test of bounded jobs'
  config.overrides['metrics']['names'] = ('mig', 'dci')
  # LightGBM's trees (the ``fast`` extra): the exact backend's classifiers
  # took 3.5 s of a cell's 6 s here (24 classes per factor).
  config.overrides['metrics']['dci_backend'] = 'lightgbm'
  config.table_metrics = ('mig', 'dci.disentanglement')
  # A CPU: one unit per cell (both seeds), a few seconds each.
  config.job.unit_seconds = 60.0
  config.job.overhead_seconds = 10.0
  config.job.reserve_seconds = 2.0
  config.job.seed_steps_per_second = {'1': 50.0, '2': 80.0}


def _eps_dose(config):
  """The quick toy cells of beta-VAE and PCL, MIG only, data.epsilon swept."""
  _quick(config)
  config.name = 'eps_dose'
  config.description = ('eps dose-response (toy tier): MIG against the '
                        'perturbation amplitude')
  config.models = settings.DOSE_MODELS
  # MIG only: DCI would triple the cost.
  config.dataset_overrides[settings.TOY_DATASET]['metrics']['names'] = ('mig',)
  config.table_metrics = ('mig',)
  config.analysis.enabled = False
  config.sweep.field = 'data.epsilon'
  config.sweep.points = settings.DOSE_EPSILONS
  config.sweep.unswept_variants = ('original',)
  config.sweep.baseline = 0.0


PRESETS = {'paper': _paper, 'paper_core': _paper_core, 'quick': _quick,
           'images': _images, 'images_conv': _images_conv,
           'sprites_conv': _sprites_conv, 'smoke': _smoke,
           'job_smoke': _job_smoke, 'eps_dose': _eps_dose}


def get_config(arg=None):
  """The reproduction config of a preset (see the module docstring).

  Args:
    arg: a preset of ``PRESETS`` (default ``'quick'``), optionally with
      ``,dci`` (score DCI too), or ``images,sprites``.
  """
  arg = common.parse_arg(arg, dci=False, sprites=False,
                         **{name: False for name in PRESETS})
  chosen = [name for name in PRESETS if arg[name]] or ['quick']
  if len(chosen) != 1:
    raise ValueError(f'choose one reproduction preset of '
                     f'{", ".join(PRESETS)}, got {", ".join(chosen)}')
  config = ml_collections.ConfigDict()
  PRESETS[chosen[0]](config)
  if arg.sprites:
    if not arg.images:
      raise ValueError('the sprites option extends the images preset: '
                       'use images,sprites')
    _add_sprites(config)
  if arg.dci:
    _add_dci(config)
  return config
