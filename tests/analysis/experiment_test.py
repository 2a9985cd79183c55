"""Tests of the in-memory multi-seed training used by the analysis tests."""

import jax
import numpy as np
import pytest

from disent_bias import data
from disent_bias import metrics
from disent_bias.configs import toy as toy_config
from disent_bias.models import objectives
from disent_bias.studies import experiment


# Tiny programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def test_train_variants_equals_train_seeds_on_each_variant_alone():
  config = toy_config.get_config('model=beta_vae')
  config.model.hidden = (8,)
  config.train.batch_size = 8
  datasets = [data.load('toy_bumps', variant=v)
              for v in ('original', 'perturbed')]
  model, runs = experiment.train_variants(config, datasets, num_seeds=2,
                                          num_steps=5, seed=3)
  assert model.num_latents == 3
  assert [losses.shape for _, losses in runs] == [(2, 5), (2, 5)]
  # The variants' runs differ (same keys, different data) ...
  assert not np.allclose(runs[0][1], runs[1][1])
  # ... and the second variant's is the one it gets alone (one compilation
  # fewer than checking both; a mixed-up variant or seed would show here).
  params, losses = runs[1]
  _, alone, alone_losses = experiment.train_seeds(
      config, datasets[1], num_seeds=2, num_steps=5, seed=3)
  np.testing.assert_allclose(losses, alone_losses, rtol=1e-5)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(
      np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6), params, alone)


@pytest.mark.parametrize('name', sorted(objectives.OBJECTIVES))
def test_train_variants_trains_every_objective(name):
  config = toy_config.get_config(f'model={name}')
  config.model.hidden = (8,)
  config.train.batch_size = 8
  dataset = data.load('toy_bumps')
  _, runs = experiment.train_variants(config, [dataset], num_seeds=1,
                                      num_steps=2)
  params, losses = runs[0]
  assert losses.shape == (1, 2)
  assert np.isfinite(losses).all(), losses
  assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(params))


def test_train_variants_rejects_different_grids():
  config = toy_config.get_config('model=beta_vae')
  with pytest.raises(ValueError, match='differ in grid or observations'):
    experiment.train_variants(
        config, [data.load('toy_bumps'), data.load('dsprites')],
        num_seeds=1, num_steps=1)


def _tiny_supervised_config():
  config = toy_config.get_config('model=beta_vae')
  config.model.hidden = (32,)
  config.train.batch_size = 32
  return config


def test_train_supervised_learns_the_factors():
  dataset = data.load('toy_bumps')
  model, runs = experiment.train_supervised(
      _tiny_supervised_config(), [dataset], num_seeds=2, num_steps=800)
  params, losses = runs[0]
  assert losses.shape == (2, 800)
  # The regression target (k + 0.5) / 24 - 0.5 has variance about 1/12 per
  # factor. Measured: first 10 steps 0.064 / 0.098, last 100 steps 3e-5;
  # MIG 0.87 / 0.88.
  assert (losses[:, :10].mean(1) > 0.03).all(), losses[:, :10]
  assert (losses[:, -100:].mean(1) < 1e-3).all(), losses[:, -100:]
  mig = experiment.seed_mig(model, params, dataset, num_points=2000)
  assert (mig > 0.8).all(), mig
  # Each latent regresses its own factor, so the codes come in factor order.
  factors = data.load('toy_bumps').sample_factors(jax.random.key(5), 500)
  mu, _ = model.apply({'params': jax.tree.map(lambda a: a[0], params)},
                      dataset.render(factors), method='encode')
  corr = np.corrcoef(np.asarray(mu).T, np.asarray(factors).T)[:3, 3:]
  assert (np.diag(corr) > 0.9).all(), corr


def test_train_supervised_needs_a_latent_per_factor():
  config = _tiny_supervised_config()
  config.model.num_latents = 2
  with pytest.raises(ValueError, match='one latent per factor'):
    experiment.train_supervised(config, [data.load('toy_bumps')],
                                num_seeds=1, num_steps=1)


def test_readout_mig_undoes_a_rotation():
  rng = np.random.default_rng(0)
  factors = rng.integers(0, 10, size=(4000, 2))
  angle = np.pi / 4
  rotation = np.array([[np.cos(angle), -np.sin(angle)],
                       [np.sin(angle), np.cos(angle)]])
  mixed = factors @ rotation
  exact = metrics.mig(factors.astype(float), factors)
  # The rotated codes share every factor between two codes ...
  assert metrics.mig(mixed, factors) < exact - 0.3
  # ... and a linear readout recovers the factors from them exactly.
  train, test = slice(0, 3000), slice(3000, None)
  for degree in (1, 3):
    got = experiment.readout_mig(mixed[train], factors[train], mixed[test],
                                 factors[test], degree=degree)
    np.testing.assert_allclose(
        got, metrics.mig(factors[test].astype(float), factors[test]),
        atol=1e-6)
  # Features that carry nothing about the factors read out to nothing.
  noise = rng.normal(size=(4000, 2))
  assert experiment.readout_mig(noise[train], factors[train], noise[test],
                                factors[test]) < 0.05


def test_polynomial_features_count():
  x = np.arange(6.0).reshape(2, 3)
  assert experiment.polynomial_features(x, 1).shape == (2, 4)
  assert experiment.polynomial_features(x, 3).shape == (2, 20)
