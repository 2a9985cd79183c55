"""The 2021 experiment on the toy tier, end to end (the paper's table in small).

The beta-VAE (original, perturbed, noise) and PCL (original, perturbed; the
noise cell is left out for time) are trained with the project's train step
(5 seeds per variant, all variants of a model vmapped in one program,
``studies.experiment.train_variants``; each run equals
``train_seeds`` on its variant alone) with the settings of
``disent_bias/configs/toy.py`` (PCL: 4,000 steps) and scored by MIG on
posterior means. The beta-VAE's scores are also read against the MIG
ceiling of each variant (``experiment.train_supervised``: the same encoder
trained to regress the factors; 2 seeds). About 2-2.5 CPU-minutes (101-129
+ 23-30 s in whole-suite runs on two workers, 2026-11-29).
"""

import numpy as np
import pytest

from disent_bias import data
from disent_bias.configs import toy as toy_config
from disent_bias.studies import experiment
from disent_bias.training import configuration
from disent_bias.utils import stats

NUM_SEEDS = 5
# The MIG ceiling hardly varies over seeds (sd 0.002 over 5 seeds on both
# the original and the noise strip, measured), so 2 seeds give its mean.
NUM_CEILING_SEEDS = 2
# PCL (no decoder) reaches its plateau earlier than the beta-VAE. Measured
# (5 seeds, MIG original / perturbed): 2,000 steps 0.662 / 0.555, 3,000
# 0.669 / 0.606, 4,000 0.632 / 0.621, 6,000 0.641 / 0.609.
NUM_STEPS = {'beta_vae': toy_config.NUM_STEPS, 'pcl': 4_000}


@pytest.mark.parametrize('arg', ['', 'model=pcl,variant=perturbed',
                                 'model=beta_vae,variant=noise,smoke',
                                 'model=factor_vae'])
def test_toy_config_is_valid(arg):
  config = toy_config.get_config(arg)
  configuration.validate_config(config)
  hparams = configuration.resolve_hparams(config)
  assert config.data.name == 'toy_bumps'
  assert config.model.architecture == 'mlp' and config.model.recon == 'l2'
  if config.model.name == 'beta_vae':
    assert hparams == {'beta': 0.1}
  if config.model.name == 'pcl':
    assert hparams == {'rate': 1.0}


def _mig(model_name, variants):
  """MIG per seed of each variant's models, trained in one program."""
  config = toy_config.get_config(f'model={model_name}')
  datasets = [data.load(toy_config.DATASET, variant=v) for v in variants]
  model, runs = experiment.train_variants(
      config, datasets, num_seeds=NUM_SEEDS, num_steps=NUM_STEPS[model_name])
  mig = {}
  for variant, dataset, (params, losses) in zip(variants, datasets, runs):
    assert losses.shape == (NUM_SEEDS, NUM_STEPS[model_name])
    assert np.isfinite(losses).all()
    mig[model_name, variant] = experiment.seed_mig(model, params, dataset)
  return mig


def _supervised_mig(variants):
  """MIG per seed of the same encoder trained to regress the factors."""
  config = toy_config.get_config('model=beta_vae')
  datasets = [data.load(toy_config.DATASET, variant=v) for v in variants]
  model, runs = experiment.train_supervised(
      config, datasets, num_seeds=NUM_CEILING_SEEDS,
      num_steps=toy_config.NUM_STEPS)
  return {v: experiment.seed_mig(model, params, dataset)
          for v, dataset, (params, _) in zip(variants, datasets, runs)}


# The two models are separate tests so that two xdist workers share them.
@pytest.mark.slow
def test_beta_vae_loses_mig_on_perturbed_but_not_on_noise():
  variants = ('original', 'perturbed', 'noise')
  mig = _mig('beta_vae', variants)
  mean = {k: float(v.mean()) for k, v in mig.items()}
  spread = max(stats.seed_sd(v) for v in mig.values())
  # Measured with these settings (5 seeds, this code path), MIG mean +- sd
  # (these sds, here and below, are ddof=0, as measured; seed_sd is 1.12
  # times larger for 5 seeds, still below the margins):
  # beta-VAE original 0.826 +- 0.010, perturbed 0.322 +- 0.082, noise
  # 0.689 +- 0.006 (earlier runs of this test: 0.795 +- 0.056, 0.387 +-
  # 0.049, 0.628 +- 0.087). The margins are about half the measured effects.
  assert mean[('beta_vae', 'original')] > 0.6, mig
  # The drop exceeds the seed spread (the acceptance criterion), and every
  # perturbed seed is below every original one.
  drop = mean[('beta_vae', 'original')] - mean[('beta_vae', 'perturbed')]
  assert drop > max(spread, 0.2), mig
  assert mig[('beta_vae', 'perturbed')].max() < mig[(
      'beta_vae', 'original')].min(), mig
  assert mean[('beta_vae', 'noise')] > mean[('beta_vae', 'perturbed')] + 0.1, mig
  # The noise control's raw MIG is 0.1-0.17 below the original's because the
  # noise removes information from the strip, not disentanglement: the same
  # encoder trained to regress the factors (the MIG ceiling) loses as much
  # on it (measured 0.903 / 0.744 for original / noise, 5 seeds; 0.900 on the
  # perturbed strip, whose texture removes nothing, left out here for time).
  # Relative to that ceiling the noise control stays close to the original
  # (measured: original 0.914 +- 0.011, noise 0.925 +- 0.008; the perturbed
  # variant 0.358 +- 0.091); docs/perturbations.md, "The noise control".
  ceiling = _supervised_mig(('original', 'noise'))
  top = {v: float(c.mean()) for v, c in ceiling.items()}
  assert top['noise'] < top['original'] - 0.05, ceiling
  ratio = {v: mig[('beta_vae', v)] / top[v] for v in top}
  ratio_spread = max(stats.seed_sd(r) for r in ratio.values())
  assert abs(ratio['noise'].mean() - ratio['original'].mean()) < max(
      ratio_spread, 0.1), (ratio, ceiling)


@pytest.mark.slow
def test_pcl_does_not_lose_mig_on_perturbed():
  mig = _mig('pcl', ('original', 'perturbed'))
  mean = {k: float(v.mean()) for k, v in mig.items()}
  # Measured with these settings (5 seeds): PCL original 0.632 +- 0.014,
  # perturbed 0.621 +- 0.031.
  assert mean[('pcl', 'perturbed')] > mean[('pcl', 'original')] - 0.1, mig
