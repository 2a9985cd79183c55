"""Tests of the in-memory multi-seed training used by the analysis tests."""

import jax
import numpy as np
import pytest

from disent_bias import data
from disent_bias.analysis import experiment
from experiments.configs import toy as toy_config


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


def test_train_variants_rejects_different_grids():
  config = toy_config.get_config('model=beta_vae')
  with pytest.raises(ValueError, match='differ in grid or observations'):
    experiment.train_variants(
        config, [data.load('toy_bumps'), data.load('dsprites')],
        num_seeds=1, num_steps=1)
