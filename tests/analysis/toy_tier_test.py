"""The 2021 experiment on the toy tier, end to end (SPEC sections 1, 5, 7).

The beta-VAE (original, perturbed, noise) and PCL (original, perturbed; the
noise cell is left out for time) are trained with the project's train step
(5 seeds per variant, all variants of a model vmapped in one program,
``analysis.experiment.train_variants``; each run equals
``train_seeds`` on its variant alone) with the settings of
``experiments/configs/toy.py`` (PCL: 6,000 steps) and scored by MIG on
posterior means. About 3.5 CPU-minutes.
"""

import numpy as np
import pytest

from disent_bias import data
from disent_bias import train
from disent_bias.analysis import experiment
from experiments.configs import toy as toy_config

NUM_SEEDS = 5
# PCL (no decoder) reaches its plateau earlier than the beta-VAE.
NUM_STEPS = {'beta_vae': toy_config.NUM_STEPS, 'pcl': 6_000}


@pytest.mark.parametrize('arg', ['', 'model=pcl,variant=perturbed',
                                 'model=beta_vae,variant=noise,smoke',
                                 'model=factor_vae'])
def test_toy_config_is_valid(arg):
  config = toy_config.get_config(arg)
  train.validate_config(config)
  hparams = train.resolve_hparams(config)
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


# The two models are separate tests so that two xdist workers share them.
@pytest.mark.slow
def test_beta_vae_loses_mig_on_perturbed_but_not_on_noise():
  mig = _mig('beta_vae', ('original', 'perturbed', 'noise'))
  mean = {k: float(v.mean()) for k, v in mig.items()}
  spread = max(float(v.std()) for v in mig.values())
  # Measured with these settings (5 seeds, this code path), MIG mean +- sd:
  # beta-VAE original 0.795 +- 0.056, perturbed 0.387 +- 0.049, noise
  # 0.628 +- 0.087. The margins are about half the measured effects.
  assert mean[('beta_vae', 'original')] > 0.6, mig
  # The drop exceeds the seed spread (the acceptance criterion), and every
  # perturbed seed is below every original one.
  drop = mean[('beta_vae', 'original')] - mean[('beta_vae', 'perturbed')]
  assert drop > max(spread, 0.2), mig
  assert mig[('beta_vae', 'perturbed')].max() < mig[(
      'beta_vae', 'original')].min(), mig
  # The noise control: at 12,000 steps it has not converged (0.17 below the
  # original; 0.708 +- 0.007 after 24,000 steps), so only its distance from
  # the perturbed variant is asserted here (measured 0.24).
  assert mean[('beta_vae', 'noise')] > mean[('beta_vae', 'perturbed')] + 0.1, mig


@pytest.mark.slow
def test_pcl_does_not_lose_mig_on_perturbed():
  mig = _mig('pcl', ('original', 'perturbed'))
  mean = {k: float(v.mean()) for k, v in mig.items()}
  # Measured with these settings (5 seeds): PCL original 0.649 +- 0.031.
  assert mean[('pcl', 'perturbed')] > mean[('pcl', 'original')] - 0.1, mig
