"""Tests for the TFDS loaders with TFDS's own mocking (no data on disk)."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from disent_bias import data
from disent_bias.data import tfds_loader


@pytest.fixture(scope='module', autouse=True)
def tfds():
  """``tensorflow_datasets``, imported by the first test that runs here.

  Not at module level: collection (in every pytest-xdist worker) would import
  TensorFlow even where none of these tests runs.
  """
  pytest.importorskip('tensorflow')
  return pytest.importorskip('tensorflow_datasets')

DSPRITES_SMALL = (2, 2, 3, 2, 2)  # 48 examples.
SHAPES3D_SMALL = (2, 1, 2, 1, 2, 3)  # 24 examples.


def _shuffled_grid(sizes, seed=0):
  """All grid points in a shuffled order, with their row-major indices."""
  n = int(np.prod(sizes))
  order = np.random.default_rng(seed).permutation(n)
  return np.stack(np.unravel_index(order, sizes), axis=1), order


def _images(name, n):
  rng = np.random.default_rng(1)
  if name == 'dsprites':
    return rng.integers(0, 2, (n, 64, 64, 1), dtype=np.uint8)
  return rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)


def _mock(tfds, name, sizes, *, drop=0, repeat=False, scale=1):
  """``tfds.testing.mock_data`` serving the grid in shuffled order.

  Returns the context manager and the images by row-major index.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  labels = {'dsprites': tfds_loader.DSPRITES_LABELS,
            'shapes3d': tfds_loader.SHAPES3D_LABELS}[name]
  classes, order = _shuffled_grid(sizes)
  images = _images(name, len(order))
  served = images[order] * np.uint8(scale)
  classes, served = classes[drop:], served[drop:]
  if repeat:
    classes = np.concatenate([classes, classes[-1:]])
    served = np.concatenate([served, served[-1:]])

  def as_dataset(self, split, decoders=None, read_config=None,
                 shuffle_files=False):
    del self, split, decoders, read_config, shuffle_files
    features = {'image': served}
    features.update({k: classes[:, i].astype(np.int64)
                     for i, k in enumerate(labels)})
    return tf.data.Dataset.from_tensor_slices(features)

  return tfds.testing.mock_data(as_dataset_fn=as_dataset), images


@pytest.mark.parametrize('name,sizes,obs', [
    ('dsprites', DSPRITES_SMALL, (64, 64, 1)),
    ('shapes3d', SHAPES3D_SMALL, (64, 64, 3))])
def test_tfds_puts_examples_in_grid_order(tfds, tmp_path, name, sizes,
                                          obs):
  mock, images = _mock(tfds, name, sizes)
  with mock:
    ds = tfds_loader.LOADERS[name](data_dir=tmp_path, factor_sizes=sizes)
  assert ds.name == name and ds.factor_sizes == sizes
  assert ds.observation_shape == obs and not ds.is_pure
  assert ds.info['source'] == 'tfds'
  scale = 1.0 if name == 'dsprites' else 255.0
  x = ds.render_index(np.arange(len(images)))
  assert x.dtype == np.float32
  np.testing.assert_allclose(x, images / scale, atol=1e-7)
  f, obs_batch = ds.sample_observations(jax.random.key(0), 5)
  rows = np.ravel_multi_index(np.asarray(f).T, sizes)
  np.testing.assert_allclose(obs_batch, images[rows] / scale, atol=1e-7)
  assert 0.0 <= obs_batch.min() and obs_batch.max() <= 1.0


def test_tfds_through_registry(tfds, tmp_path):
  mock, images = _mock(tfds, 'dsprites', DSPRITES_SMALL)
  with mock:
    ds = data.load('dsprites', source='tfds', data_dir=tmp_path,
                   factor_sizes=DSPRITES_SMALL)
  assert ds.binary and ds.factor_names == ('shape', 'scale', 'orientation',
                                           'posX', 'posY')
  np.testing.assert_array_equal(ds.render_index(np.arange(48)), images)


def test_tfds_random_mock_data_is_rejected(tfds, tmp_path):
  # TFDS's default mock examples are random labels: off a small grid, and
  # far too few for the published grid.
  with tfds.testing.mock_data(num_examples=3):
    with pytest.raises(ValueError, match=r"TFDS 'shapes3d' split 'train': "
                       r'label_\w+ = \d+ is outside the grid'):
      tfds_loader.load_shapes3d(data_dir=tmp_path, factor_sizes=SHAPES3D_SMALL)
    with pytest.raises(ValueError, match='holds 3 of the 480000 grid points'):
      tfds_loader.load_shapes3d(data_dir=tmp_path)


def test_tfds_missing_grid_points(tfds, tmp_path):
  mock, _ = _mock(tfds, 'shapes3d', SHAPES3D_SMALL, drop=3)
  with mock, pytest.raises(ValueError, match='holds 21 of the 24 grid points'):
    tfds_loader.load_shapes3d(data_dir=tmp_path, factor_sizes=SHAPES3D_SMALL)


def test_tfds_duplicate_grid_point(tfds, tmp_path):
  mock, _ = _mock(tfds, 'dsprites', DSPRITES_SMALL, repeat=True)
  with mock, pytest.raises(ValueError, match='appears more than once'):
    tfds_loader.load_dsprites(data_dir=tmp_path, factor_sizes=DSPRITES_SMALL)


def test_tfds_labels_off_grid(tfds, tmp_path):
  mock, _ = _mock(tfds, 'dsprites', (3, 2, 3, 2, 2))
  with mock, pytest.raises(ValueError, match=r'label_shape = 2 is outside the '
                           r'grid \(2, 2, 3, 2, 2\)'):
    tfds_loader.load_dsprites(data_dir=tmp_path, factor_sizes=DSPRITES_SMALL)


def test_tfds_dsprites_not_binary(tfds, tmp_path):
  mock, _ = _mock(tfds, 'dsprites', DSPRITES_SMALL, scale=255)
  with mock, pytest.raises(ValueError, match='images must be binary'):
    tfds_loader.load_dsprites(data_dir=tmp_path, factor_sizes=DSPRITES_SMALL)


def test_tfds_missing_data_dir(tmp_path):
  missing = tmp_path / 'nowhere'
  with pytest.raises(FileNotFoundError,
                     match=r"TFDS data_dir '.*nowhere' does not exist.*"
                     r"download_and_prepare.*load\('dsprites'\) gives the "
                     'procedural look-alike'):
    tfds_loader.load_dsprites(data_dir=missing)


def test_tfds_not_prepared(tmp_path):
  with pytest.raises(FileNotFoundError,
                     match=r"shapes3d: no prepared TFDS data under "
                     f"'{tmp_path}.*download=True"):
    tfds_loader.load_shapes3d(data_dir=tmp_path)


def test_import_data_does_not_import_tensorflow():
  code = ('import sys, disent_bias.data; '
          'from disent_bias.data import tfds_loader, files; '
          "print('tensorflow' in sys.modules, "
          "'tensorflow_datasets' in sys.modules)")
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                       text=True, check=True, env=env)
  assert out.stdout.split() == ['False', 'False']
