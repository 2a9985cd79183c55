"""Tests of the pure train state and step (disent_bias.step)."""

import os

import jax
import numpy as np
import pytest

from disent_bias import step
from tiny_run import tiny_dataset

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Tiny programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def test_batch_is_a_function_of_key_and_pairs_follow_the_objective():
  dataset = tiny_dataset()
  key = jax.random.key(3)
  a = jax.jit(lambda k: step.make_batch(dataset, k, 8))(key)
  b = step.make_batch(dataset, key, 8)
  np.testing.assert_allclose(a['image'], b['image'], rtol=1e-6)
  assert set(a) == {'image'} and a['image'].shape == (8, 6)
  pair = step.make_batch(dataset, key, 8, 'shared', k=1)
  w0, w1 = step.sample_batch_factors(key, dataset.factor_sizes, 8, 'shared',
                                     k=1)
  # Shared pairs differ in at most k = 1 factor.
  assert int((np.asarray(w0) != np.asarray(w1)).sum(-1).max()) <= 1
  np.testing.assert_allclose(pair['image2'], dataset.render(w1), rtol=1e-6)
