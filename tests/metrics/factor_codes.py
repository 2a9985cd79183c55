"""Codes made of factor values, shared by the metric tests: a tiny vector
dataset whose observations are its factor values (FactorVAE, BetaVAE and
evaluation tests) and noisy samples of such codes (DCI, MIG, modularity and
SAP tests)."""

import jax.numpy as jnp
import numpy as np

from disent_bias.data import base

SIZES = (3, 4, 5)

# 45-degree rotation mixing two factors into two codes.
ROTATION = np.array([[1., 1.], [-1., 1.]]) / np.sqrt(2.)


def factor_dataset(pure: bool = True, sizes=SIZES) -> base.GroundTruthData:
  """Observations are the factor values themselves, as floats."""
  if pure:
    render = lambda f: jnp.asarray(f, jnp.float32)
  else:
    render = lambda f: np.asarray(f, np.float32)
  names = [f'f{i}' for i in range(len(sizes))]
  return base.GroundTruthData('tiny', sizes, names, (len(sizes),), render,
                              is_pure=pure)


def identity(x):
  """The representation that returns the observation (= the factors)."""
  return np.asarray(x)


def noisy_codes(rng, n, sizes, noise=0.05):
  """``n`` random factor rows and codes equal to them plus Gaussian noise."""
  factors = np.stack([rng.integers(0, s, n) for s in sizes], axis=1)
  return factors + noise * rng.normal(size=factors.shape), factors


def noisy_split(n_train, n_test, sizes, noise=0.05, seed=0):
  """``noisy_codes`` for a train and a test set: codes, factors of each."""
  rng = np.random.default_rng(seed)
  return (*noisy_codes(rng, n_train, sizes, noise),
          *noisy_codes(rng, n_test, sizes, noise))
