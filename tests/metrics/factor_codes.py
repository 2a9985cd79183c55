"""A tiny vector dataset whose observations are its factor values, shared by
the FactorVAE and BetaVAE score tests."""

import jax.numpy as jnp
import numpy as np

from disent_bias.data import base

SIZES = (3, 4, 5)


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
