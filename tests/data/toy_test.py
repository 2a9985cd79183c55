"""The toy_bumps dataset: registry, shapes, factor-aligned local structure."""

import numpy as np
import pytest

from disent_bias import analysis
from disent_bias import data
from disent_bias.data import toy


def test_registered_and_shaped():
  d = data.load('toy_bumps')
  assert 'toy_bumps' in data.names()
  assert d.factor_sizes == (10, 10, 10) and d.observation_shape == (128,)
  x = np.asarray(d.render(d.all_factors()))
  assert x.shape == (1000, 128) and x.min() >= 0.0 and x.max() <= 1.0


def test_jacobian_columns_are_orthogonal_with_distinct_norms():
  d = data.load('toy_bumps')
  jac = analysis.generator_jacobians(d, d.all_factors()[::10])
  norms = np.median(np.linalg.norm(jac, axis=1), 0)
  assert norms[0] > 1.2 * norms[1] > 1.44 * norms[2] > 0  # distinct variances
  cos = np.stack([np.asarray(analysis.alignment.cosine_matrix(j)) for j in jac])
  np.testing.assert_allclose(cos - np.eye(3), 0.0, atol=1e-6)  # disjoint windows


def test_bad_arguments_raise():
  with pytest.raises(ValueError, match='factor_size'):
    toy.make_toy_bumps(factor_size=1)
  with pytest.raises(ValueError, match='heights'):
    toy.make_toy_bumps(heights=(0.9, 0.5, 0.3))
