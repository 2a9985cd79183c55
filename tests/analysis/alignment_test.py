"""Known-answer tests for the local PCA alignment scores."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias import analysis
from disent_bias import data
from disent_bias.analysis import alignment

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def _rotation(angle):
  c, s = np.cos(angle), np.sin(angle)
  return np.array([[c, -s], [s, c]])


@pytest.mark.parametrize('perm', list(itertools.permutations(range(3))))
def test_dto_is_zero_for_signed_permutation_columns(perm):
  # J = diag(3, 2, 1) with permuted, sign-flipped columns: orthogonal columns.
  jac = np.diag([3.0, 2.0, 1.0])[:, perm] * np.array([1.0, -1.0, 1.0])
  jac = np.concatenate([jac, np.zeros((5, 3))])  # P = 8 > K
  dto = jax.jit(alignment.distance_to_orthogonality)(jac)
  np.testing.assert_allclose(dto, 0.0, atol=1e-5)


@pytest.mark.parametrize('angle', [np.pi / 4, np.pi / 8, np.pi / 12])
def test_dto_of_rotated_distinct_columns_matches_closed_form(angle):
  # Columns with distinct norms, mixed by a rotation R: J = diag(2, 1) R^T has
  # right singular vectors R, whose distance to the nearest signed
  # permutation (the identity, for angles < 45 deg) is 2 sqrt(1 - cos a).
  jac = np.diag([2.0, 1.0]) @ _rotation(angle).T
  dto = jax.jit(alignment.distance_to_orthogonality)(jac)
  np.testing.assert_allclose(dto, 2 * np.sqrt(1 - np.cos(angle)), rtol=1e-4)


def test_dto_at_45_degrees_is_1_082():
  jac = np.diag([2.0, 1.0]) @ _rotation(np.pi / 4).T
  np.testing.assert_allclose(alignment.distance_to_orthogonality(jac),
                             2 * np.sqrt(1 - np.sqrt(0.5)), rtol=1e-4)
  np.testing.assert_allclose(2 * np.sqrt(1 - np.sqrt(0.5)), 1.0824, atol=1e-4)


def test_jnp_and_scipy_dto_agree():
  jacs = np.random.default_rng(0).normal(size=(20, 12, 4))
  got = alignment.batch_alignment_scores(jacs)['dto']
  want = alignment.distance_to_orthogonality_host(jacs)
  np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


def test_nearest_signed_permutation_of_signed_permutation_is_itself():
  p = np.array([[0, -1, 0], [0, 0, 1], [1, 0, 0]], np.float32)
  np.testing.assert_array_equal(alignment.nearest_signed_permutation(p), p)


def test_offdiag_mass_zero_for_orthogonal_columns():
  q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(10, 4)))
  jac = q * np.array([5.0, 1.0, 0.1, 2.0])  # orthogonal, unequal norms
  np.testing.assert_allclose(alignment.offdiag_mass(jac), 0.0, atol=1e-5)
  np.testing.assert_allclose(alignment.offdiag_mass_raw(jac), 0.0, atol=1e-5)


def test_offdiag_mass_of_parallel_columns_is_one_minus_one_over_k():
  jac = np.outer(np.arange(1.0, 7.0), [1.0, -2.0, 0.5])
  np.testing.assert_allclose(alignment.offdiag_mass(jac), 2 / 3, rtol=1e-5)


def test_offdiag_mass_is_unit_invariant_but_raw_is_not():
  # Two columns at 60 degrees: cosine 1/2 -> mass (2 * 0.5) / (2 + 1) = 1/3.
  jac = np.array([[1.0, 0.5], [0.0, np.sqrt(0.75)], [0.0, 0.0]])
  scaled = jac * np.array([10.0, 0.1])
  np.testing.assert_allclose(alignment.offdiag_mass(jac), 1 / 3, rtol=1e-5)
  np.testing.assert_allclose(alignment.offdiag_mass(scaled), 1 / 3, rtol=1e-5)
  assert alignment.offdiag_mass_raw(scaled) < 0.01


def test_zero_column_is_ignored_by_cosines():
  jac = np.array([[1.0, 0.0], [0.0, 0.0]])
  np.testing.assert_allclose(alignment.cosine_matrix(jac),
                             [[1.0, 0.0], [0.0, 0.0]], atol=1e-7)
  assert float(alignment.offdiag_mass(jac)) == 0.0


def test_batched_scores_match_single_and_have_shapes():
  jacs = jnp.asarray(np.random.default_rng(2).normal(size=(6, 9, 3)))
  out = alignment.batch_alignment_scores(jacs)
  assert out['dto'].shape == (6,) and out['singular_values'].shape == (6, 3)
  np.testing.assert_allclose(out['dto'][2],
                             alignment.distance_to_orthogonality(jacs[2]),
                             rtol=1e-5)
  np.testing.assert_allclose(out['singular_values'][0],
                             np.linalg.svd(np.asarray(jacs[0]))[1], rtol=1e-4)


def test_non_square_v_raises():
  with pytest.raises(ValueError, match='square'):
    alignment.nearest_signed_permutation(np.zeros((2, 3)))


def test_block_points_is_a_dense_contiguous_block():
  ds = data.load('dsprites')
  block = analysis.block_points(ds, 4096, seed=3)
  assert block.shape == (3 * 6 * 6 ** 3, 5)  # width 6 (7 would exceed)
  assert len(np.unique(block, axis=0)) == len(block)
  for k, size in enumerate(ds.factor_sizes):
    values = np.unique(block[:, k])
    assert len(values) == min(size, 6)
    np.testing.assert_array_equal(np.diff(values), 1)  # contiguous
    assert values.min() >= 0 and values.max() < size
