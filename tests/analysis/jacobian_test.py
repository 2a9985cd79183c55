"""Finite-difference generator Jacobians: known answers."""

import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias.analysis import jacobian
from disent_bias.data import base

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')

SIZES = (4, 5, 3)


def _linear_dataset(matrix):
  matrix = jnp.asarray(matrix, jnp.float32)  # (P, K), per grid step
  render = lambda f: jnp.asarray(f, jnp.float32) @ matrix.T
  return base.GroundTruthData('lin', SIZES, ['a', 'b', 'c'],
                              (matrix.shape[0],), render)


@pytest.mark.parametrize('radius', [1, 2])
def test_linear_generator_jacobian_is_its_matrix_everywhere(radius):
  matrix = np.random.default_rng(0).normal(size=(7, 3))
  data = _linear_dataset(matrix)
  factors = data.all_factors()  # includes every border point
  jac = jacobian.generator_jacobians(data, factors, radius=radius, chunk=16)
  assert jac.shape == (len(factors), 7, 3)
  np.testing.assert_allclose(jac, np.broadcast_to(matrix, jac.shape),
                             rtol=1e-4, atol=1e-5)


def test_quadratic_central_and_one_sided_differences():
  # x(w) = w0^2 along one pixel: central difference 2 w0 inside the grid,
  # one-sided (1 at w0 = 0, 2 * 3 - 1 = 5 at w0 = 3) at the border.
  render = lambda f: (jnp.asarray(f[:, :1], jnp.float32)) ** 2
  factors = jnp.array([[0, 0, 0], [1, 0, 0], [2, 4, 2], [3, 2, 1]])
  jac = jacobian.generator_jacobian(render, SIZES, factors)
  np.testing.assert_allclose(jac[:, 0, 0], [1.0, 2.0, 4.0, 5.0])
  np.testing.assert_allclose(jac[:, 0, 1:], 0.0)


def test_single_value_factor_has_zero_column():
  render = lambda f: jnp.asarray(f, jnp.float32)
  jac = jacobian.generator_jacobian(render, (3, 1), jnp.array([[1, 0]]))
  np.testing.assert_allclose(jac[0], [[1.0, 0.0], [0.0, 0.0]])


def test_wider_stencil_suppresses_parity_pattern():
  # x = (-1)^w0 flips with the parity of the index. At the border the
  # one-sided difference sees a full flip (-2); the least-squares slope over
  # offsets 0, 1, 2 (values 1, -1, 1) is 0.
  render = lambda f: jnp.where(f[:, :1] % 2 == 0, 1.0, -1.0)
  border = jnp.array([[0, 0]])
  narrow = jacobian.generator_jacobian(render, (8, 2), border, radius=1)
  wide = jacobian.generator_jacobian(render, (8, 2), border, radius=2)
  np.testing.assert_allclose(narrow[0, 0, 0], -2.0)
  np.testing.assert_allclose(wide[0, 0, 0], 0.0, atol=1e-6)


def test_bad_shapes_raise():
  with pytest.raises(ValueError, match='shape'):
    jacobian.generator_jacobian(lambda f: f, SIZES, jnp.zeros((2, 2), jnp.int32))
  with pytest.raises(ValueError, match='radius'):
    jacobian.generator_jacobian(lambda f: f, SIZES, jnp.zeros((2, 3), jnp.int32),
                                radius=0)


def test_gaussian_blur_keeps_mass_and_constants():
  img = np.zeros((1, 9, 9, 2), np.float32)
  img[0, 4, 4, 0] = 1.0
  out = np.asarray(jacobian.gaussian_blur(jnp.asarray(img), 1.0))
  np.testing.assert_allclose(out.sum((1, 2)), [[1.0, 0.0]], atol=1e-5)
  assert out[0, 4, 4, 0] == out[..., 0].max() and out[0, 3, 4, 0] > 0
  const = np.full((2, 5, 6, 3), 0.3, np.float32)
  np.testing.assert_allclose(jacobian.gaussian_blur(const, 1.5), const,
                             rtol=1e-5)
  np.testing.assert_array_equal(jacobian.gaussian_blur(img, 0.0), img)

