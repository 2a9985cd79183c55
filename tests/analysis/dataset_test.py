"""Tests of the dataset-level analysis: samples, alignment, variant checks."""

import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias import data
from disent_bias.tools import audit
from disent_bias.analysis import dataset as dataset_lib
from disent_bias.data import base
from disent_bias.data import synthetic

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def _onehot(variant='original', epsilon=0.0, shift=0.0):
  """(4, 5) grid; the image is two one-hot rows (factor a, factor b)."""

  def render(factors):
    f = jnp.asarray(factors, jnp.int32)
    rows = jnp.concatenate([jnp.eye(4)[f[:, 0]], jnp.eye(5)[f[:, 1]]], 1)
    return jnp.clip(rows + shift, 0.0, 1.0)[:, None, :, None]

  return base.GroundTruthData('onehot', (4, 5), ('a', 'b'), (1, 9, 1), render,
                              variant=variant, epsilon=epsilon)


def test_sample_points_are_distinct_sorted_and_seeded():
  ds = _onehot()
  points = dataset_lib.sample_points(ds, 7, seed=3)
  assert points.shape == (7, 2) and points.dtype == np.int32
  index = ds.factors_to_index(points)
  assert len(set(index.tolist())) == 7 and (np.diff(index) > 0).all()
  np.testing.assert_array_equal(points,
                                dataset_lib.sample_points(ds, 7, seed=3))
  everything = dataset_lib.sample_points(ds, 100)
  np.testing.assert_array_equal(everything, ds.all_factors())


def test_block_points_is_a_contiguous_block():
  ds = base.GroundTruthData('grid', (10, 2, 10), ('a', 'b', 'c'), (1,),
                            lambda f: f, is_pure=False)
  points = dataset_lib.block_points(ds, max_points=40, seed=1)
  # Width 4 (4 * 2 * 4 = 32 points); width 5 would need 50.
  assert points.shape == (32, 3) and points.dtype == np.int32
  for k, width in enumerate((4, 2, 4)):
    values = np.unique(points[:, k])
    np.testing.assert_array_equal(values, values[0] + np.arange(width))
  assert len(np.unique(ds.factors_to_index(points))) == 32


def test_count_duplicates():
  images = np.zeros((5, 2, 2))
  images[1] = -0.0
  images[2, 0, 0] = 1e-9  # Equal to 0 after rounding to 6 decimals.
  images[3, 0, 0] = 1.0
  images[4, 0, 0] = 1.0
  assert dataset_lib.count_duplicates(images) == 3
  assert dataset_lib.count_duplicates(images, decimals=12) == 2


def test_nearest_neighbour_probe_known_answers():
  ds = _onehot()
  factors = np.repeat(ds.all_factors(), 5, axis=0)  # Each image 5 times.
  images = np.asarray(ds.render(factors))
  # Each test image has an identical copy among the training images.
  acc = dataset_lib.nearest_neighbour_probe(images, factors, seed=0)
  np.testing.assert_array_equal(acc, [1.0, 1.0])
  # Images that show nothing leave the factors to chance.
  blind = dataset_lib.nearest_neighbour_probe(np.zeros_like(images), factors,
                                              seed=0)
  assert blind.max() < 0.5
  # Within one step of factor a (4 values) is right more often than exact.
  loose = dataset_lib.nearest_neighbour_probe(np.zeros_like(images), factors,
                                              seed=0, tolerance=1)
  assert (loose >= blind).all() and loose[0] > blind[0]


def test_local_alignment_of_a_linear_generator():
  ds = synthetic.make_linear(num_factors=2, factor_size=6, dim=4)
  points = dataset_lib.sample_points(ds, 10)
  report = dataset_lib.local_alignment(ds, points)
  # Orthogonal generator columns: aligned, no off-diagonal mass.
  assert report['num_points'] == 10
  assert report['median_max_abs_cosine'] < 1e-5
  assert report['median_offdiag_mass'] < 1e-5
  np.testing.assert_allclose(report['mean_abs_cosine'], np.eye(2), atol=1e-4)
  norms = np.linalg.norm(ds.info['jacobian_per_step'], axis=0)
  np.testing.assert_allclose(report['column_norm_median'], norms, rtol=1e-4)
  assert set(report['per_point']) >= {'dto', 'max_abs_cosine'}
  only_b = dataset_lib.local_alignment(ds, points, columns=[1])
  assert only_b['columns'] == [1]
  np.testing.assert_allclose(only_b['column_norm_median'], norms[1:],
                             rtol=1e-4)


def _blobs():
  """(3, 6, 6) grid of 12x12 images: shape (categorical), x, y of a blob."""

  def render(factors):
    f = jnp.asarray(factors, jnp.float32)
    grid = jnp.arange(12, dtype=jnp.float32)
    width = 1.0 + f[:, 0, None]
    bump = lambda c: jnp.exp(-((grid - 3.0 - c[:, None]) / width) ** 2)
    image = bump(f[:, 1])[:, :, None] * bump(f[:, 2])[:, None, :]
    return image[..., None]

  return base.GroundTruthData('blobs', (3, 6, 6), ('shape', 'x', 'y'),
                              (12, 12, 1), render)


def test_local_alignment_defaults_are_the_documented_criterion():
  ds = _blobs()
  points = dataset_lib.sample_points(ds, 6)
  default = dataset_lib.local_alignment(ds, points)
  explicit = dataset_lib.local_alignment(ds, points, blur=1.0, columns=[1, 2])
  assert default['blur'] == 1.0 and default['columns'] == [1, 2]
  for key in ('median_dto', 'median_offdiag_mass', 'mean_abs_cosine'):
    assert default[key] == explicit[key]
  raw = dataset_lib.local_alignment(ds, points, blur=0.0, columns=None)
  assert raw['blur'] == 0.0 and raw['columns'] is None
  assert np.asarray(raw['mean_abs_cosine']).shape == (3, 3)
  # Vectors are not blurred.
  vectors = synthetic.make_linear(num_factors=2, factor_size=6, dim=4)
  assert dataset_lib.criterion(vectors) == (0.0, (0, 1))


def test_local_alignment_without_ordinal_factors_says_so():
  ds = _onehot()  # Sizes 4 and 5: only b is ordinal.
  assert dataset_lib.criterion(ds) == (1.0, (1,))
  small = base.GroundTruthData('small', (2, 3), ('a', 'b'), (4,),
                               lambda f: jnp.zeros((len(f), 4)))
  with pytest.raises(ValueError, match='columns=None'):
    dataset_lib.criterion(small)


def test_perturbation_report_bound_and_change():
  original = _onehot()
  variant = _onehot('noise', epsilon=0.1, shift=0.05)
  points = dataset_lib.sample_points(original, 20)
  report = dataset_lib.perturbation_report(original, variant, points)
  assert report['variant'] == 'noise' and report['epsilon'] == 0.1
  np.testing.assert_allclose(report['max_abs_change'], 0.05, rtol=1e-5)
  assert report['bound_holds']
  # 2 of 9 pixels are lit (clipped at 1), 7 move by 0.05.
  np.testing.assert_allclose(report['mean_abs_change'], 0.05 * 7 / 9,
                             rtol=1e-5)
  assert report['num_duplicates'] == 0
  too_far = _onehot('noise', epsilon=0.01, shift=0.05)
  assert not dataset_lib.perturbation_report(original, too_far,
                                             points)['bound_holds']


def test_audit_reports_both_variants_and_writes_its_plots(tmp_path):
  blobs = _blobs()
  factors = blobs.all_factors()
  ours = data.from_arrays(np.asarray(blobs.render(factors)), factors,
                          blobs.factor_names, blobs.factor_sizes)
  report = audit.audit_dataset(ours, str(tmp_path), num_points=12)
  assert report['criterion'] == dict(blur=1.0, columns=[1, 2],
                                     scored_factors=['x', 'y'])
  assert set(report['variants']) == {'original', 'perturbed'}
  original, perturbed = (report['variants'][v]
                         for v in ('original', 'perturbed'))
  # Separable blob: x and y move it along orthogonal directions; the
  # texture adds one shared direction to both.
  assert original['median_offdiag_mass'] < 0.1
  assert perturbed['median_offdiag_mass'] > original['median_offdiag_mass']
  assert 'perturbed (eps 0.1)' in report['summary']
  for name in ('audit.json', 'audit_dto.png', 'audit_offdiag_mass.png',
               'audit_overview.png'):
    assert (tmp_path / name).stat().st_size > 0
  with pytest.raises(ValueError, match='original'):
    audit.audit_dataset(data.variants.apply_variant(ours, 'noise'))
