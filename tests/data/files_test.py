"""Tests for the real-file loaders on tiny files in the published formats:
dSprites (.npz), and the loaders through the registry. Shapes3D and MPI3D are
in files_shapes3d_mpi3d_test.py."""

import os
import zipfile

import jax
import numpy as np
import pytest

from disent_bias import data
from disent_bias.data import dsprites_npz
from disent_bias.data import files
from tiny_files import MPI3D_SMALL
from tiny_files import factor_grid
from tiny_files import mpi3d_images
from tiny_files import save_npz

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')

DSPRITES_SMALL = (2, 2, 3, 2, 2)  # 48 images of 8x8.


def _explode():
  raise RuntimeError('metadata was unpickled')


class _PickleBomb:
  """Pickles fine; unpickling it raises, so any unpickle fails the test."""

  def __reduce__(self):
    return (_explode, ())


def _dsprites_arrays(sizes=DSPRITES_SMALL, hw=(8, 8)):
  n = int(np.prod(sizes))
  rng = np.random.default_rng(0)
  classes = np.concatenate(
      [np.zeros((n, 1), np.int64), factor_grid(sizes).astype(np.int64)], axis=1)
  return dict(
      imgs=rng.integers(0, 2, (n, *hw), dtype=np.uint8),
      latents_classes=classes,
      latents_values=classes.astype(np.float64) / 7.0,
      metadata=np.array(_PickleBomb(), dtype=object))


@pytest.fixture(params=['compressed', 'stored'])
def dsprites_file(request, tmp_path):
  arrays = _dsprites_arrays()
  path = save_npz(tmp_path / dsprites_npz.FILE_NAME, arrays,
                  compressed=request.param == 'compressed')
  return path, arrays['imgs']


# --- dSprites ----------------------------------------------------------------


def test_dsprites_round_trip(dsprites_file):
  path, imgs = dsprites_file
  ds = files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)
  assert ds.factor_sizes == DSPRITES_SMALL
  assert ds.factor_names == ('shape', 'scale', 'orientation', 'posX', 'posY')
  assert ds.observation_shape == (8, 8, 1)
  assert not ds.is_pure and ds.binary
  n = imgs.shape[0]
  x = ds.render_index(np.arange(n))
  assert isinstance(x, np.ndarray) and x.dtype == np.float32
  np.testing.assert_array_equal(x[..., 0], imgs.astype(np.float32))


def test_dsprites_storage_mode(tmp_path):
  arrays = _dsprites_arrays()
  packed = files.load_dsprites(
      path=save_npz(tmp_path / 'a.npz', arrays, True),
      factor_sizes=DSPRITES_SMALL)
  mapped = files.load_dsprites(
      path=save_npz(tmp_path / 'b.npz', arrays, False),
      factor_sizes=DSPRITES_SMALL)
  assert packed.info['storage'] == 'packed'
  assert mapped.info['storage'] == 'memmap'


def test_dsprites_factors_index_image_consistent(dsprites_file):
  path, imgs = dsprites_file
  ds = files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)
  factors = np.array(ds.sample_factors(jax.random.key(1), 20))
  factors[1] = factors[0]  # A duplicate, and an unsorted batch.
  rows = np.ravel_multi_index(factors.T, DSPRITES_SMALL)
  np.testing.assert_array_equal(ds.render(factors)[..., 0], imgs[rows])


def test_dsprites_sample_observations(dsprites_file):
  path, imgs = dsprites_file
  ds = files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)
  factors, x = ds.sample_observations(jax.random.key(0), 6)
  assert factors.shape == (6, 5) and x.shape == (6, 8, 8, 1)
  assert x.dtype == np.float32
  assert set(np.unique(x)) <= {0.0, 1.0}
  rows = np.ravel_multi_index(np.asarray(factors).T, DSPRITES_SMALL)
  np.testing.assert_array_equal(x[..., 0], imgs[rows])


def test_dsprites_perturbed_keeps_equal_images_equal(tmp_path):
  # The file's orientation phase is read off its images too: rows with equal
  # images (as orientation 0 and 2 pi are in the published file) get equal
  # perturbed images.
  sizes = (2, 1, 5, 2, 1)
  arrays = _dsprites_arrays(sizes)
  grid = factor_grid(sizes)
  first, last = grid[:, 2] == 0, grid[:, 2] == 4
  arrays['imgs'][last] = arrays['imgs'][first]
  ds = files.load_dsprites(path=save_npz(tmp_path / 'd.npz', arrays),
                           factor_sizes=sizes)
  perturbed = data.variants.apply_variant(ds, 'perturbed')
  x = perturbed.render(grid)
  assert isinstance(x, np.ndarray)
  np.testing.assert_array_equal(x[last], x[first])
  assert np.abs(x - ds.render(grid)).max() <= perturbed.epsilon + 1e-6


def test_dsprites_folder_path(tmp_path):
  save_npz(tmp_path / dsprites_npz.FILE_NAME, _dsprites_arrays())
  ds = files.load_dsprites(path=tmp_path, factor_sizes=DSPRITES_SMALL)
  assert ds.info['path'] == str(tmp_path / dsprites_npz.FILE_NAME)


def test_dsprites_missing_file(tmp_path):
  missing = tmp_path / 'nope.npz'
  with pytest.raises(FileNotFoundError,
                     match=r"no such file .*nope\.npz.*path=.*procedural "
                     r"look-alike is the default.*load\('dsprites'\)"):
    files.load_dsprites(path=missing)


def test_dsprites_no_path():
  with pytest.raises(FileNotFoundError, match='needs path=; none was given'):
    files.load_dsprites()


def test_dsprites_default_checks_full_grid(tmp_path):
  path = save_npz(tmp_path / 'd.npz', _dsprites_arrays())
  with pytest.raises(ValueError,
                     match=r"'imgs' must have shape \(737280, 64, 64\), "
                     r'got \(48, 8, 8\)'):
    files.load_dsprites(path=path)


def test_dsprites_missing_key(tmp_path):
  arrays = _dsprites_arrays()
  del arrays['latents_values']
  path = save_npz(tmp_path / 'd.npz', arrays)
  with pytest.raises(ValueError,
                     match=r"d\.npz: missing key\(s\) \['latents_values'\]"):
    files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)


def test_dsprites_wrong_shape(tmp_path):
  arrays = _dsprites_arrays()
  arrays['latents_classes'] = arrays['latents_classes'][:, 1:]
  path = save_npz(tmp_path / 'd.npz', arrays)
  with pytest.raises(ValueError, match=r"'latents_classes' must have shape "
                     r'\(48, 6\), got \(48, 5\)'):
    files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)


@pytest.mark.parametrize('key,dtype,message', [
    ('imgs', np.float32, "'imgs' must have dtype uint8, got float32"),
    ('latents_classes', np.float64,
     "'latents_classes' must have an integer dtype, got float64"),
])
def test_dsprites_wrong_dtype(tmp_path, key, dtype, message):
  arrays = _dsprites_arrays()
  arrays[key] = arrays[key].astype(dtype)
  path = save_npz(tmp_path / 'd.npz', arrays)
  with pytest.raises(TypeError, match=message):
    files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)


def test_dsprites_object_array_is_not_unpickled(tmp_path):
  arrays = _dsprites_arrays()
  arrays['imgs'] = np.array([_PickleBomb()] * 48, dtype=object)
  path = save_npz(tmp_path / 'd.npz', arrays)
  with pytest.raises(TypeError, match='refusing to unpickle'):
    files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)


def test_dsprites_rows_out_of_order(tmp_path):
  arrays = _dsprites_arrays()
  order = np.arange(48)
  order[[5, 6]] = order[[6, 5]]
  for key in ('imgs', 'latents_classes', 'latents_values'):
    arrays[key] = arrays[key][order]
  path = save_npz(tmp_path / 'd.npz', arrays)
  with pytest.raises(ValueError, match=r'not in row-major grid order .*row 5'):
    files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)


@pytest.mark.parametrize('compressed', [True, False])
def test_dsprites_not_binary(tmp_path, compressed):
  arrays = _dsprites_arrays()
  arrays['imgs'] = arrays['imgs'] * 255
  path = save_npz(tmp_path / 'd.npz', arrays, compressed)
  with pytest.raises(ValueError, match=r'd\.npz: imgs must be binary'):
    files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)


def test_dsprites_truncated(tmp_path):
  path = save_npz(tmp_path / 'd.npz', _dsprites_arrays())
  size = os.path.getsize(path)
  with open(path, 'r+b') as f:
    f.truncate(size // 2)
  with pytest.raises(ValueError, match=r'd\.npz: not a readable \.npz \(zip\) '
                     'file.*truncated or corrupted'):
    files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)


def test_dsprites_corrupted_member(tmp_path):
  path = save_npz(tmp_path / 'd.npz', _dsprites_arrays())
  with zipfile.ZipFile(path) as z:
    info = z.getinfo('imgs.npy')
  with open(path, 'r+b') as f:
    f.seek(info.header_offset + 100 + info.compress_size // 2)
    chunk = f.read(16)
    f.seek(-16, 1)
    f.write(bytes(b ^ 0xFF for b in chunk))
  # Depending on where zlib notices, the header or the data read fails.
  with pytest.raises(ValueError, match=r"d\.npz\['imgs'\]: .*(CRC|inflat|"
                     'decompress).*truncated or corrupted'):
    files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)


def test_dsprites_wrong_factor_sizes_length(tmp_path):
  path = save_npz(tmp_path / 'd.npz', _dsprites_arrays())
  with pytest.raises(ValueError, match='factor_sizes needs 5 entries'):
    files.load_dsprites(path=path, factor_sizes=(2, 2))


# --- through the registry ----------------------------------------------------


def test_registry_file_source(tmp_path):
  arrays = _dsprites_arrays()
  path = save_npz(tmp_path / 'd.npz', arrays)
  ds = data.load('dsprites', source='file', path=path,
                 factor_sizes=DSPRITES_SMALL)
  assert ds.name == 'dsprites' and ds.info['source'] == 'file'
  np.testing.assert_array_equal(ds.render_index(np.arange(48))[..., 0],
                                arrays['imgs'])
  assert set(files.LOADERS) == {'arrays', 'dsprites', 'shapes3d', 'mpi3d_toy',
                                'mpi3d_realistic', 'mpi3d_real'}


def test_registry_mpi3d_defaults_to_file(tmp_path):
  images = mpi3d_images()
  path = save_npz(tmp_path / 'mpi3d_toy.npz', dict(images=images), False)
  ds = data.load('mpi3d_toy', path=tmp_path, factor_sizes=MPI3D_SMALL)
  assert ds.name == 'mpi3d_toy'
  np.testing.assert_allclose(ds.render_index(np.arange(24)), images / 255.0,
                             atol=1e-7)
  assert ds.info['path'] == path


def test_registry_missing_file_message(tmp_path):
  with pytest.raises(FileNotFoundError, match=r'no such file.*load\('
                     r"'dsprites'\)"):
    data.load('dsprites', source='file', path=tmp_path / 'x.npz')


def test_noise_variant_on_file_data(tmp_path):
  images = mpi3d_images()
  path = save_npz(tmp_path / 'mpi3d_toy.npz', dict(images=images), False)
  eps = 0.1
  ds = data.load('mpi3d_toy', path=path, factor_sizes=MPI3D_SMALL,
                 variant='noise', epsilon=eps)
  assert ds.variant == 'noise' and not ds.is_pure
  x = ds.render_index(np.arange(24))
  assert isinstance(x, np.ndarray) and x.dtype == np.float32
  assert 0.0 <= x.min() and x.max() <= 1.0
  diff = np.abs(x - images / 255.0)
  assert diff.max() <= eps + 1e-6 and diff.mean() > eps / 10
  np.testing.assert_array_equal(ds.render_index(np.arange(24)), x)


def test_dsprites_given_a_single_npy_array(tmp_path):
  path = tmp_path / 'imgs.npy'
  np.save(path, _dsprites_arrays()['imgs'])
  with pytest.raises(ValueError, match=r'is a single .npy array, but dsprites '
                     r'is read from the .npz archive'):
    files.load_dsprites(path=path, factor_sizes=DSPRITES_SMALL)
