"""The settings of the reproduction presets: grids, labels, measured tiers.

``disent_bias/configs/reproduce.py`` builds its presets from these: the
models in table order and their labels, the paper's length and the job
figures measured on an H200, and each CPU tier's measured training settings
and hyperparameters (every value with where it was measured).

quick design. Measured here: a 64x64 conv beta-VAE does not disentangle in
CPU-minutes (6,000 steps, 13 min, MIG about 0.09), so every model runs on the
toy tier (``toy_bumps``: three bumps moving on a 128-value strip,
``disent_bias/data/toy.py``; its ``perturbed`` variant hides the
factor-aligned local variance structure by the same construction as the image
datasets) with the settings measured in ``disent_bias/configs/toy.py``: MLP
(64, 64), L2 reconstruction with weight 40 for every model (below), Adam
1e-3, batch 64, 12,000 steps, 3 seeds vmapped per cell, MIG and DCI for
every cell. Measured cost of the whole protocol, run time per cell and the
results: README.md ("Results") and ``results/quick/``. Earlier
measurements on this machine:
- DCI on the toy data costs 24-30 CPU-seconds per seed at 2,000 points
  (gradient boosted trees, 24 classes per factor; the per-factor fits run
  in parallel).
- FactorVAE's paper discriminator (6 x Dense 1000) trains at under 5
  steps/s for 3 seeds, hence the toy tier's 4 x 128.
- 64x64 dSprites cells with the MLP (256, 256) trained at 2.9 steps/s for 3
  seeds (rendering inside the step; load ~12), about 9 minutes per
  1,500-step cell, and did not disentangle at that length; the ``images``
  preset uses the 32x32 image tier instead.
"""

# The models in the row order of the paper's results table.
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
    'annealed_vae': 'AnnealedVAE',
    'dip_vae_i': 'DIP-VAE-I',
    'dip_vae_ii': 'DIP-VAE-II',
    'dsprites': 'dSprites',
    'shapes3d': 'Shapes3D',
    'toy_bumps': 'toy bumps',
    'dsprites32': 'dSprites 32x32',
    'shapes3d32': 'Shapes3D 32x32',
    'mechanism_decoder_dto': 'decoder DtO (active latents)',
    'mechanism_active_latents': 'active latents',
    'mechanism_polarized': 'polarized fraction',
    'mig': 'MIG',
    'dci_disentanglement': 'DCI disentanglement',  # '.' written as '_'.
}
VARIANTS = ('original', 'perturbed', 'noise')

# The paper's length (disentanglement_lib's 300k steps): the only earlier
# accelerator run (results/gpu/) reached MIG 0.11 on the original dSprites at
# 40k steps, half the paper's 0.23, with the reconstruction still falling, so
# nothing supports a shorter run.
PAPER_STEPS = 300_000
PAPER_CORE_MODELS = ('beta_vae', 'pcl')
PAPER_CORE_NUM_SEEDS = 5
# Seed-steps per second by number of vmapped seeds: the train loop's chunk of
# beta-VAE on dSprites, batch 64, 500 steps per call, matmul convolutions,
# float32, on one H200 with jax 0.11.2 (2026-12-04, results/gpu/README.md):
# experiments.throughput for 1, 10 and 30 seeds, the first paper_core unit's
# training for 2.
H200_SEED_STEPS_PER_SECOND = {'1': 1869.0, '2': 2610.0, '10': 4866.0,
                              '30': 5969.0}
# Cost of a step relative to beta-VAE's: PCL measured (10 seeds: 5,962
# against 4,866 seed-steps/s; its pairs are encoded, never decoded); the
# other pair models and FactorVAE (a discriminator beside the VAE) are
# estimates until measured.
MODEL_STEP_COST = {'pcl': 0.82, 'slow_vae': 2.0, 'ada_gvae': 2.0,
                   'factor_vae': 2.0}
# Start-up, compilation, the final eval point and scoring of a unit: the
# first paper_core unit took 273 s, 230 of them training.
UNIT_OVERHEAD_SECONDS = 45.0
# A unit's estimated seconds at most: a 10-minute batch command less its
# set-up (wheels, imports) and packing, with about 90 s of margin. At the
# rates above a whole 5-seed cell of beta-VAE (about 480 s) or PCL (about
# 400 s) is one unit.
PAPER_UNIT_SECONDS = 500.0

# The toy tier's dataset (registered in disent_bias/data/toy.py).
TOY_DATASET = 'toy_bumps'

QUICK_NUM_SEEDS = 3
# quick, toy tier: disent_bias/configs/toy.py's measured settings (MLP (64, 64),
# L2 reconstruction, Adam 1e-3, batch 64, 12,000 steps; docs/perturbations.md
# "Toy tier"). The bumps carry only a few nats each, so with the plain sum of
# squares (a Gaussian decoder of variance 1/2) a KL weight of 1 collapses the
# posterior. The tier therefore sets the likelihood once for every model:
# reconstruction weight 40 (model.recon_weight; a Gaussian decoder of
# variance 1/80, sd 0.11), and the KL weights keep their usual meaning: the
# beta-VAE family beta 4 (the earlier beta 0.1 on the plain sum of squares,
# the same optimum), SlowVAE the authors' gamma / beta = 10, beta-TCVAE,
# FactorVAE and DIP-VAE their KL weight 1 with TC / DIP weights in the
# paper's and disentanglement_lib's ranges. PCL and SlowVAE see Laplace
# transitions of rate 1 (about one grid step). Measured (3 seeds, original,
# docs/perturbations.md "Every model on the toy tier"): every setting below.
QUICK_TOY = dict(steps=12_000, batch=64, lr=1e-3, hidden=(64, 64),
                 num_train=2_000, num_test=1_000, metrics=('mig', 'dci'),
                 recon='l2', recon_weight=40.0, disc_hidden=128,
                 disc_layers=4)
# The zoo's extra rows (3 seeds, original, recon weight 40): DIP-VAE-I
# lambda_od 1 / 2 / 10 / 20 / 50 / 100 / 200 and DIP-VAE-II 1 / 2 / 5 / 10 /
# 50 / 200 (its KL weight 1 barely shapes the code, the DIP term decides;
# larger lambda_od entangles), AnnealedVAE capacity c_max in nats (the
# beta-VAE's code holds about 4.5 nats) with gamma 30 / 100 / 1000.
DIP_I_LAMBDA = 1.0
DIP_II_LAMBDA = 1.0
ANNEALED_GAMMA = 30.0
ANNEALED_C_MAX = 7.0
QUICK_TOY_HPARAMS = {
    'beta_vae': dict(beta=4.0),
    'factor_vae': dict(gamma=30.0),
    'beta_tcvae': dict(beta=6.0),
    'slow_vae': dict(beta=4.0, gamma=40.0, rate=1.0),
    'pcl': dict(rate=1.0),
    'ada_gvae': dict(beta=4.0),
    'annealed_vae': dict(gamma=ANNEALED_GAMMA, c_max=ANNEALED_C_MAX,
                         iteration_threshold=10_000),
    'dip_vae_i': dict(lambda_od=DIP_I_LAMBDA),
    'dip_vae_ii': dict(lambda_od=DIP_II_LAMBDA),
}
# The rest of disentanglement_lib's zoo, as extra rows of the quick table.
ZOO_EXTRA = ('annealed_vae', 'dip_vae_i', 'dip_vae_ii')
# FactorVAE's discriminator on the toy tier: 4 x Dense 128 (model.disc_hidden,
# disc_layers) instead of the paper's 6 x 1000 (disentanglement_lib's, kept by every other
# preset), which trained under 5 steps/s for 3 seeds here: the toy's 10
# latents need far less, and FactorVAE now trains the full 12,000 steps.
# images: the 32x32 image tier (disent_bias/data/tiers.py), shapes3d32 first
# (the tier measured to disentangle; docs/datasets.md, "The image tier").
# The models of the paper's table that train in the budget: FactorVAE's
# 6 x 1000 discriminator costs more than the tier's VAE, so beta-TCVAE
# stands for the total-correlation penalties.
IMAGES_DATASETS = ('shapes3d32',)
IMAGES_MODELS = ('ae', 'beta_vae', 'beta_tcvae', 'slow_vae', 'pcl',
                 'ada_gvae')
IMAGES_NUM_SEEDS = 5
# MLP (64, 64), L2 reconstruction (sum of squares), Adam 1e-3, batch 64,
# 16,000 steps: measured on shapes3d32 (3 seeds, beta-VAE beta 4): MIG 0.92
# (0.02) original, 0.31 (0.09) perturbed, 0.93 (0.01) noise; beta 2: 0.91 /
# 0.15 / 0.87. 8,000 steps of larger MLPs with the Bernoulli likelihood left
# the hues entangled (docs/datasets.md).
IMAGES = dict(steps=16_000, batch=64, lr=1e-3, hidden=(64, 64),
              num_train=2_000, num_test=1_000, metrics=('mig', 'dci'),
              recon='l2')


def _images_hparams(beta, slow_gamma):
  """The image tier's KL weights: ``beta`` for the beta-VAE family and
  beta-TCVAE's TC weight, SlowVAE's ``slow_gamma``, Laplace rate 1."""
  return {
      'beta_vae': dict(beta=beta),
      'beta_tcvae': dict(beta=beta),
      'slow_vae': dict(beta=beta, gamma=slow_gamma, rate=1.0),
      'pcl': dict(rate=1.0),
      'ada_gvae': dict(beta=beta),
  }


# KL weights of the tier (reconstruction weight 1: the plain sum of squares,
# a Gaussian decoder of variance 1/2, the scale at which beta 4 was
# measured): beta 4 for the beta-VAE family, beta-TCVAE's TC weight 4 (its
# KL weight is 1 by definition), PCL and SlowVAE on Laplace transitions of
# rate 1 (about one grid step). SlowVAE with gamma = beta = 4: with the
# authors' gamma / beta = 10 (gamma 40) the transition prior closed all but
# one or two latents (5 seeds: MIG 0.38 (0.06) original); measured on the
# original (3 seeds): gamma 10 0.73 (0.26), gamma 4 0.94 (0.01).
IMAGES_HPARAMS = _images_hparams(beta=4.0, slow_gamma=4.0)
# dsprites32: with the L2 likelihood and beta 4 every latent of the
# beta-VAE collapses to the prior (measured, KL 0); the best setting found
# for the binary sprites (none disentangles them well in CPU-minutes,
# docs/datasets.md) is the Bernoulli likelihood, MLP (256, 256), beta 16,
# 8,000 steps: MIG 0.27 (0.16) over 2 seeds on the original.
IMAGES_DSPRITES = dict(steps=8_000, batch=64, lr=1e-3, hidden=(256, 256),
                       num_train=2_000, num_test=1_000,
                       metrics=('mig', 'dci'), recon='bernoulli')
IMAGES_DSPRITES_HPARAMS = _images_hparams(beta=16.0, slow_gamma=160.0)

# images_conv: the disentanglement_lib conv network (scaled to 32x32,
# docs/datasets.md) on shapes3d32, beta-VAE and PCL, the tier's
# hyperparameters, Adam 1e-3 (1e-4, the paper's, is for 300k steps).
# Measured on this 2-core CPU (Intel Xeon, idle): 5 vmapped seeds train at
# about 10 steps/s (0.09-0.11 s per step, 1 s for the MLP tier's 10 steps);
# 2 seeds of beta-VAE, 3,000 steps: MIG 0.92 / 0.93 original, 0.23 / 0.26
# perturbed; 3,000 steps: about 5 minutes of training per cell.
IMAGES_CONV_MODELS = ('beta_vae', 'pcl')
IMAGES_CONV = dict(steps=3_000, batch=64, lr=1e-3, hidden=None,
                   num_train=2_000, num_test=1_000, metrics=('mig', 'dci'),
                   recon='l2', architecture='conv')

# sprites_conv: the dSprites column on the tier, dsprites32 with the conv
# network, Bernoulli likelihood, the sprites' KL weights (beta 16).
# Measured (2 seeds, beta-VAE, 3,000 steps, Adam 1e-3): MIG 0.48 / 0.43
# original, 0.02 / 0.08 perturbed, where the MLP (256, 256) reached at most
# 0.27 in 8,000 steps (docs/datasets.md).
SPRITES_CONV_MODELS = ('beta_vae', 'pcl', 'beta_tcvae')
SPRITES_CONV = dict(IMAGES_CONV, recon='bernoulli')


# eps_dose: perturbation amplitudes of the toy tier's perturbed and noise
# variants (its default is 0.1, disent_bias/data/variants.py); the original
# variant is the curve's eps 0.
DOSE_EPSILONS = (0.025, 0.05, 0.1, 0.15, 0.2)
DOSE_MODELS = ('beta_vae', 'pcl')
