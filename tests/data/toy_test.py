"""The toy_bumps dataset: registry, shapes, factor-aligned local structure."""

import numpy as np
import pytest

from disent_bias import analysis
from disent_bias import data
from disent_bias.data import toy

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def test_registered_and_shaped():
  d = data.load('toy_bumps')
  assert 'toy_bumps' in data.names()
  assert d.factor_sizes == (24, 24, 24) and d.observation_shape == (128,)
  x = np.asarray(d.render(d.all_factors()[::7]))
  assert x.shape == (1975, 128)
  # Background 0.1 and peaks <= 0.9 leave room for a +-0.1 texture.
  assert x.min() >= 0.1 - 1e-6 and x.max() <= 0.9 + 1e-6
  np.testing.assert_allclose(x.max(1).max(), 0.9, atol=5e-3)  # off-pixel centres


def test_jacobian_columns_are_orthogonal_with_distinct_norms():
  d = data.load('toy_bumps')
  jac = analysis.generator_jacobians(d, d.all_factors()[::97])
  norms = np.median(np.linalg.norm(jac, axis=1), 0)
  # Column norms in the ratio of the bump heights 0.8 : 0.6 : 0.45, so the
  # local PCA basis is unique (eigenvalue ratios about 1.8).
  np.testing.assert_allclose(norms / norms[0], [1.0, 0.75, 0.5625], rtol=0.02)
  cos = np.stack([np.asarray(analysis.alignment.cosine_matrix(j)) for j in jac])
  np.testing.assert_allclose(cos - np.eye(3), 0.0, atol=1e-3)  # disjoint windows
  scores = analysis.alignment.batch_alignment_scores(jac)
  assert np.median(scores['dto']) < 1e-2


def test_options_and_bad_arguments():
  d = toy.make_toy_bumps(factor_size=10, step=1.0, sigma=2.0)
  assert d.factor_sizes == (10, 10, 10)
  with pytest.raises(ValueError, match='factor_size'):
    toy.make_toy_bumps(factor_size=1)
  with pytest.raises(ValueError, match='heights'):
    toy.make_toy_bumps(heights=(0.9, 0.5, 0.3))
  with pytest.raises(ValueError, match='sigma'):
    toy.make_toy_bumps(sigma=10.0)
  with pytest.raises(ValueError, match='step'):
    toy.make_toy_bumps(factor_size=24, step=2.0)
