"""Tests for the Shapes3D (HDF5) and MPI3D (.npz, .npy) file loaders on tiny
files in the published formats. dSprites and the registry are in
files_test.py."""

import os

import h5py
import jax
import numpy as np
import pytest

from disent_bias.data import files
from disent_bias.data import mpi3d_npz
from disent_bias.data import shapes3d
from disent_bias.data import shapes3d_h5
from tiny_files import MPI3D_SMALL
from tiny_files import factor_grid
from tiny_files import mpi3d_images
from tiny_files import save_npz

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')

SHAPES3D_SMALL = (2, 3, 2, 2, 2, 3)  # 144 images of 4x4x3.


# --- Shapes3D ----------------------------------------------------------------


def _shapes3d_arrays(sizes=SHAPES3D_SMALL, hw=(4, 4)):
  n = int(np.prod(sizes))
  grid = factor_grid(sizes)
  # Published value ranges; the loader only uses the ranks.
  ranges = [(0, .9), (0, .9), (0, .9), (.75, 1.25), (0, 3), (-30, 30)]
  labels = np.stack([lo + g * (hi - lo) / max(s - 1, 1) for g, s, (lo, hi)
                     in zip(grid.T, sizes, ranges)], axis=1)
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (n, *hw, 3), dtype=np.uint8)
  return images, labels.astype(np.float64)


def _save_h5(path, images, labels, **kwargs):
  with h5py.File(path, 'w') as f:
    if images is not None:
      f.create_dataset('images', data=images, **kwargs)
    if labels is not None:
      f.create_dataset('labels', data=labels)
  return str(path)


@pytest.mark.parametrize('layout,in_memory,storage', [
    ('contiguous', False, 'memmap'), ('chunked', False, 'h5py'),
    ('chunked', True, 'in_memory')])
def test_shapes3d_round_trip(tmp_path, layout, in_memory, storage):
  images, labels = _shapes3d_arrays()
  kwargs = dict(chunks=(8, 4, 4, 3), compression='gzip') if (
      layout == 'chunked') else {}
  path = _save_h5(tmp_path / shapes3d_h5.FILE_NAME, images, labels, **kwargs)
  ds = files.load_shapes3d(path=path, in_memory=in_memory,
                           factor_sizes=SHAPES3D_SMALL)
  assert ds.factor_names == shapes3d.FACTOR_NAMES
  assert ds.observation_shape == (4, 4, 3) and not ds.is_pure
  x = ds.render_index(np.arange(images.shape[0]))
  assert x.dtype == np.float32
  np.testing.assert_allclose(x, images / 255.0, atol=1e-7)
  # Unsorted indices with duplicates (h5py itself needs increasing indices).
  factors = np.array(ds.sample_factors(jax.random.key(2), 30))
  factors[3] = factors[7]
  rows = np.ravel_multi_index(factors.T, SHAPES3D_SMALL)
  np.testing.assert_allclose(ds.render(factors), images[rows] / 255.0,
                             atol=1e-7)
  f, obs = ds.sample_observations(jax.random.key(0), 5)
  assert obs.shape == (5, 4, 4, 3) and obs.dtype == np.float32
  assert 0.0 <= obs.min() and obs.max() <= 1.0
  assert ds.info['storage'] == storage


def test_shapes3d_missing_file(tmp_path):
  with pytest.raises(FileNotFoundError,
                     match=r"no such file .*3dshapes\.h5'.*path=.*"
                     r"load\('shapes3d'\)"):
    files.load_shapes3d(path=tmp_path)


def test_shapes3d_default_checks_full_grid(tmp_path):
  path = _save_h5(tmp_path / 's.h5', *_shapes3d_arrays())
  with pytest.raises(ValueError, match=r"'images' must have shape "
                     r'\(480000, 64, 64, 3\), got \(144, 4, 4, 3\)'):
    files.load_shapes3d(path=path)


def test_shapes3d_missing_dataset(tmp_path):
  images, _ = _shapes3d_arrays()
  path = _save_h5(tmp_path / 's.h5', images, None)
  with pytest.raises(ValueError,
                     match=r"s\.h5: missing dataset\(s\) \['labels'\]"):
    files.load_shapes3d(path=path, factor_sizes=SHAPES3D_SMALL)


def test_shapes3d_wrong_dtype(tmp_path):
  images, labels = _shapes3d_arrays()
  path = _save_h5(tmp_path / 's.h5', images.astype(np.float32), labels)
  with pytest.raises(TypeError,
                     match="'images' must have dtype uint8, got float32"):
    files.load_shapes3d(path=path, factor_sizes=SHAPES3D_SMALL)


def test_shapes3d_wrong_shape(tmp_path):
  images, labels = _shapes3d_arrays()
  path = _save_h5(tmp_path / 's.h5', images, labels[:, :5])
  with pytest.raises(ValueError, match=r"'labels' must have shape \(144, 6\)"):
    files.load_shapes3d(path=path, factor_sizes=SHAPES3D_SMALL)


def test_shapes3d_rows_out_of_order(tmp_path):
  images, labels = _shapes3d_arrays()
  order = np.arange(144)[::-1]
  path = _save_h5(tmp_path / 's.h5', images[order], labels[order])
  with pytest.raises(ValueError, match=r'labels rows are not in row-major '
                     r'grid order .*row 0'):
    files.load_shapes3d(path=path, factor_sizes=SHAPES3D_SMALL)


def test_shapes3d_labels_not_on_grid(tmp_path):
  images, labels = _shapes3d_arrays()
  labels[0, 5] = 99.0  # An orientation value that is not on the grid.
  path = _save_h5(tmp_path / 's.h5', images, labels)
  with pytest.raises(ValueError, match=r'labels have \(2, 3, 2, 2, 2, 4\) '
                     'distinct values per factor'):
    files.load_shapes3d(path=path, factor_sizes=SHAPES3D_SMALL)


@pytest.mark.parametrize('damage', ['truncate', 'garbage'])
def test_shapes3d_truncated_or_corrupted(tmp_path, damage):
  path = _save_h5(tmp_path / 's.h5', *_shapes3d_arrays())
  size = os.path.getsize(path)
  with open(path, 'r+b') as f:
    if damage == 'truncate':
      f.truncate(size // 2)
    else:
      f.write(b'\x00' * 64)  # Overwrites the HDF5 signature.
  with pytest.raises(ValueError, match=r's\.h5: not a readable HDF5 file.*'
                     'truncated or corrupted'):
    files.load_shapes3d(path=path, factor_sizes=SHAPES3D_SMALL)


def test_shapes3d_corrupted_chunk_on_read(tmp_path):
  images, labels = _shapes3d_arrays()
  path = _save_h5(tmp_path / 's.h5', images, labels, chunks=(16, 4, 4, 3),
                  compression='gzip')
  with h5py.File(path, 'r') as f:
    offset = f['images'].id.get_chunk_info(4).byte_offset
  with open(path, 'r+b') as f:
    f.seek(offset)
    f.write(b'\xff' * 32)
  ds = files.load_shapes3d(path=path, factor_sizes=SHAPES3D_SMALL)
  np.testing.assert_allclose(ds.render_index(np.arange(16)),
                             images[:16] / 255.0, atol=1e-7)
  with pytest.raises(ValueError, match=r's\.h5: could not read images'):
    ds.render_index(np.array([70]))


# --- MPI3D -------------------------------------------------------------------


@pytest.mark.parametrize('fmt,storage', [('stored', 'memmap'),
                                         ('compressed', 'in_memory'),
                                         ('npy', 'memmap')])
def test_mpi3d_round_trip(tmp_path, fmt, storage):
  images = mpi3d_images()
  if fmt == 'npy':
    path = str(tmp_path / 'images.npy')
    np.save(path, images)
  else:
    path = save_npz(tmp_path / 'mpi3d_real.npz', dict(images=images),
                    compressed=fmt == 'compressed')
  ds = files.load_mpi3d(path=path, kind='real', factor_sizes=MPI3D_SMALL)
  assert ds.name == 'mpi3d_real' and ds.info['storage'] == storage
  assert ds.factor_names == mpi3d_npz.FACTOR_NAMES
  np.testing.assert_allclose(ds.render_index(np.arange(24)), images / 255.0,
                             atol=1e-7)
  f, x = ds.sample_observations(jax.random.key(3), 7)
  rows = np.ravel_multi_index(np.asarray(f).T, MPI3D_SMALL)
  np.testing.assert_allclose(x, images[rows] / 255.0, atol=1e-7)
  assert x.dtype == np.float32 and x.shape == (7, 4, 4, 3)


def _sparse_npy(path, n):
  """A full-size .npy of zeros as a sparse file (no real disk use)."""
  header = {'descr': '|u1', 'fortran_order': False, 'shape': (n, 64, 64, 3)}
  with open(path, 'wb') as f:
    np.lib.format.write_array_header_1_0(f, header)
    f.truncate(f.tell() + n * 64 * 64 * 3)
  return str(path)


@pytest.mark.parametrize('n,sizes', [
    (1_036_800, (6, 6, 2, 3, 3, 40, 40)), (460_800, (4, 4, 2, 3, 3, 40, 40))])
def test_mpi3d_grid_told_apart_by_size(tmp_path, n, sizes):
  path = _sparse_npy(tmp_path / 'images.npy', n)
  ds = files.load_mpi3d(path=path)
  assert ds.factor_sizes == sizes and ds.observation_shape == (64, 64, 3)
  x = ds.render(np.asarray([[s - 1 for s in sizes]]))
  assert x.shape == (1, 64, 64, 3) and not x.any()


def test_mpi3d_unknown_size(tmp_path):
  path = save_npz(tmp_path / 'm.npz', dict(images=np.zeros((5, 64, 64, 3),
                                                           np.uint8)))
  with pytest.raises(ValueError, match=r'm\.npz: 5 images is not a published '
                     r'MPI3D grid \(known: 1,036,800'):
    files.load_mpi3d(path=path)


def test_mpi3d_missing_file(tmp_path):
  with pytest.raises(FileNotFoundError,
                     match=r"mpi3d_toy: no such file .*mpi3d_toy\.npz'.*path=.*"
                     'MPI3D has no procedural look-alike'):
    files.load_mpi3d(path=tmp_path, kind='toy')


def test_mpi3d_missing_key(tmp_path):
  path = save_npz(tmp_path / 'm.npz', dict(imgs=mpi3d_images()))
  with pytest.raises(ValueError, match=r"missing key\(s\) \['images'\] for "
                     r"mpi3d_toy; the file has \['imgs'\]"):
    files.load_mpi3d(path=path, factor_sizes=MPI3D_SMALL)


def test_mpi3d_wrong_dtype(tmp_path):
  path = save_npz(tmp_path / 'm.npz',
                  dict(images=mpi3d_images().astype(np.int16)))
  with pytest.raises(TypeError, match="'images' must have dtype uint8, got "
                     'int16'):
    files.load_mpi3d(path=path, factor_sizes=MPI3D_SMALL)


def test_mpi3d_wrong_shape(tmp_path):
  path = save_npz(tmp_path / 'm.npz', dict(images=mpi3d_images()[..., :1]))
  with pytest.raises(ValueError, match=r"'images' must have shape "
                     r'\(24, \*, \*, 3\), got \(24, 4, 4, 1\)'):
    files.load_mpi3d(path=path, factor_sizes=MPI3D_SMALL)


def test_mpi3d_truncated_npy(tmp_path):
  path = str(tmp_path / 'images.npy')
  np.save(path, mpi3d_images())
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) - 10)
  with pytest.raises(ValueError, match=r'images\.npy: truncated: the header '
                     'promises'):
    files.load_mpi3d(path=path, factor_sizes=MPI3D_SMALL)


def test_mpi3d_truncated_npz(tmp_path):
  path = save_npz(tmp_path / 'm.npz', dict(images=mpi3d_images()), False)
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) // 2)
  with pytest.raises(ValueError, match=r'm\.npz: not a readable \.npz'):
    files.load_mpi3d(path=path, factor_sizes=MPI3D_SMALL)


def test_mpi3d_not_an_array(tmp_path):
  path = tmp_path / 'images.npy'
  path.write_bytes(b'this is not numpy data')
  with pytest.raises(ValueError, match=r'images\.npy: not a valid \.npy '
                     'array header'):
    files.load_mpi3d(path=str(path), factor_sizes=MPI3D_SMALL)


def test_mpi3d_unknown_kind(tmp_path):
  with pytest.raises(ValueError, match="unknown MPI3D kind 'sim'; valid: toy"):
    files.load_mpi3d(path=tmp_path, kind='sim')
