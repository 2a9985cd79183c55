"""Loaders for the published dSprites, Shapes3D and MPI3D files.

All loaders return a ``GroundTruthData`` with ``is_pure=False``: ``render``
looks the images up on the host and returns numpy float32 (n, H, W, C) in
[0, 1]. The files are opened once; nothing is downloaded. Where the format
allows, the images stay on disk:

- dSprites ``.npz``: ``imgs`` is a zip member. If the member is stored
  uncompressed it is memory-mapped through its offset in the zip; the
  published file is compressed, so its 737,280 binary images are streamed
  once and kept bit-packed in memory (~0.38 GB instead of 3.0 GB as uint8).
- Shapes3D ``.h5``: memory-mapped when ``images`` is contiguous and
  uncompressed, else read lazily with h5py (the file stays open); or fully
  into memory (5.9 GB) with ``in_memory=True``.
- MPI3D ``.npz``: memory-mapped when ``images`` is stored uncompressed,
  otherwise read into memory (12.7 GB for the 6x6 grid). A plain ``.npy`` of
  the images array (the zip member, extracted) is always memory-mapped.

Every loader checks the keys, dtypes and shapes against the published grid
and raises ``FileNotFoundError`` / ``ValueError`` / ``TypeError`` naming the
file and the problem. ``factor_sizes=`` replaces the published grid; it exists
for tests (tiny files in the real formats) and for files that hold a full
row-major sub-grid. The default checks the full published grid and 64x64
images.
"""

from __future__ import annotations

import functools
import os
import struct
import zipfile
import zlib
from typing import Callable, Sequence

from absl import logging
import numpy as np

from disent_bias.data import base
from disent_bias.data import state_space

DSPRITES_FILE = 'dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz'
DSPRITES_NAMES = ('shape', 'scale', 'orientation', 'posX', 'posY')
DSPRITES_SIZES = (3, 6, 40, 32, 32)

SHAPES3D_FILE = '3dshapes.h5'
SHAPES3D_NAMES = ('floor_hue', 'wall_hue', 'object_hue', 'scale', 'shape',
                  'orientation')
SHAPES3D_SIZES = (10, 10, 10, 8, 4, 15)

MPI3D_NAMES = ('object_color', 'object_shape', 'object_size', 'camera_height',
               'background_color', 'horizontal_axis', 'vertical_axis')
# Told apart by the number of images: the current release and the older
# "without heldout factors" files with 4 colours and 4 shapes.
MPI3D_SIZES = {1_036_800: (6, 6, 2, 3, 3, 40, 40),
               460_800: (4, 4, 2, 3, 3, 40, 40)}
MPI3D_KINDS = ('toy', 'realistic', 'real')

IMAGE_SIZE = (64, 64)
_CHUNK_BYTES = 1 << 24  # Stream compressed members 16 MiB at a time.

_SOURCES = {
    'dsprites': 'https://github.com/deepmind/dsprites-dataset',
    'shapes3d': 'https://github.com/deepmind/3d-shapes',
    'mpi3d': 'https://github.com/rr-learning/disentanglement_dataset',
}

# Exceptions that a truncated or corrupted zip/npy raises while being read.
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                struct.error)


def _resolve_path(path, name: str, filename: str) -> str:
  """A file path from ``path`` (file or folder); clear error if missing."""
  family = name.split('_')[0]
  if family == 'mpi3d':
    default = ('MPI3D has no procedural look-alike; without files, the '
               "procedural dSprites/Shapes3D look-alikes are the default: "
               "disent_bias.data.load('dsprites')")
  else:
    default = ('without files, the procedural look-alike is the default: '
               f'disent_bias.data.load({family!r})')
  hint = (f'Pass path= to the file (or to a folder that holds {filename!r}), '
          f'e.g. disent_bias.data.load({name!r}, source=\'file\', '
          f'path=...); get it from {_SOURCES[family]}. Or, {default}.')
  if path is None:
    raise FileNotFoundError(f'{name}: reading the real file needs path=; none '
                            f'was given. {hint}')
  path = os.fspath(path)
  if os.path.isdir(path):
    path = os.path.join(path, filename)
  if not os.path.isfile(path):
    raise FileNotFoundError(f'{name}: no such file {path!r}. {hint}')
  return path


def _row_order_error(path: str, key: str, classes: np.ndarray,
                     expected: np.ndarray) -> ValueError:
  row = int(np.nonzero((classes != expected).any(axis=1))[0][0])
  return ValueError(
      f'{path}: {key} rows are not in row-major grid order (last factor '
      f'fastest): row {row} has classes {classes[row].tolist()}, expected '
      f'{expected[row].tolist()}. The loader needs the file as published.')


# --- npy / npz members -------------------------------------------------------


def _read_npy_header(f, where: str):
  """(shape, fortran_order, dtype) of the .npy stream ``f``; no data read."""
  try:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
      header = np.lib.format.read_array_header_1_0(f)
    else:
      header = np.lib.format.read_array_header_2_0(f)
  except _READ_ERRORS as e:
    raise ValueError(f'{where}: not a valid .npy array header ({e}); the file '
                     'is truncated or corrupted') from e
  shape, fortran_order, dtype = header
  if dtype.hasobject:
    raise TypeError(f'{where}: holds Python objects (dtype {dtype}); '
                    'refusing to unpickle')
  return tuple(shape), fortran_order, dtype


def _refuse_single_npy(path: str, name: str) -> None:
  """A clear error for a lone .npy array where an .npz archive is expected."""
  with open(path, 'rb') as f:
    if f.read(6) != b'\x93NUMPY':
      return
  raise ValueError(
      f'{path}: is a single .npy array, but {name} is read from the .npz '
      f'archive it is published as (several named arrays); pass the .npz '
      f'file from {_SOURCES[name.split("_")[0]]}')


class _Npz:
  """Reads the members of an .npz without loading (or unpickling) any other.

  ``np.load(..., allow_pickle=False)`` is used for small members; image
  members are memory-mapped (stored uncompressed) or streamed (compressed).
  """

  def __init__(self, path: str, name: str):
    self.path = path
    self.name = name
    _refuse_single_npy(path, name)
    try:
      self._zip = zipfile.ZipFile(path)
    except _READ_ERRORS as e:
      raise ValueError(
          f'{path}: not a readable .npz (zip) file ({e}); the file is '
          'truncated or corrupted, download it again') from e
    self.keys = tuple(n[:-4] for n in self._zip.namelist()
                      if n.endswith('.npy'))

  def close(self):
    self._zip.close()

  def require(self, keys: Sequence[str]):
    missing = [k for k in keys if k not in self.keys]
    if missing:
      raise ValueError(
          f'{self.path}: missing key(s) {missing} for {self.name}; the file '
          f'has {list(self.keys)}, expected {list(keys)}')

  def header(self, key: str):
    """(shape, fortran_order, dtype) of member ``key`` without its data."""
    where = f'{self.path}[{key!r}]'
    try:
      f = self._zip.open(key + '.npy')
    except _READ_ERRORS as e:
      raise ValueError(f'{where}: could not open the member ({e}); the file '
                       'is truncated or corrupted') from e
    with f:
      return _read_npy_header(f, where)

  def load(self, key: str) -> np.ndarray:
    """A small member, fully read; never unpickles."""
    try:
      with np.load(self.path, allow_pickle=False) as npz:
        return npz[key]
    except _READ_ERRORS as e:
      raise ValueError(f'{self.path}: could not read {key!r} ({e}); the file '
                       'is truncated or corrupted') from e

  def is_stored(self, key: str) -> bool:
    return self._zip.getinfo(key + '.npy').compress_type == zipfile.ZIP_STORED

  def memmap(self, key: str) -> np.ndarray:
    """Read-only memory map of an uncompressed member via its zip offset."""
    info = self._zip.getinfo(key + '.npy')
    where = f'{self.path}[{key!r}]'
    with open(self.path, 'rb') as f:
      f.seek(info.header_offset)
      local = f.read(30)
      if len(local) != 30 or local[:4] != b'PK\x03\x04':
        raise ValueError(f'{where}: bad zip local header; the file is '
                         'corrupted')
      name_len, extra_len = struct.unpack('<HH', local[26:30])
      start = info.header_offset + 30 + name_len + extra_len
      f.seek(start)
      shape, fortran_order, dtype = _read_npy_header(f, where)
      offset = f.tell()
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if fortran_order or offset - start + nbytes != info.file_size:
      raise ValueError(f'{where}: member size does not match its header; the '
                       'file is corrupted')
    return np.memmap(self.path, dtype=dtype, mode='r', offset=offset,
                     shape=shape)

  def stream_rows(self, key: str, out: np.ndarray,
                  transform: Callable[[np.ndarray], np.ndarray] | None = None):
    """Decompresses member ``key`` block of rows by block into ``out``.

    Peak extra memory is one block (~16 MiB). ``transform`` maps a block of
    rows (b, *row_shape) to what is stored in ``out`` (e.g. bit packing).
    """
    where = f'{self.path}[{key!r}]'
    shape, _, dtype = self.header(key)
    row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
    block = max(1, _CHUNK_BYTES // row_bytes)
    with self._zip.open(key + '.npy') as f:
      _read_npy_header(f, where)
      for start in range(0, shape[0], block):
        rows = min(block, shape[0] - start)
        try:
          buf = f.read(rows * row_bytes)
          if len(buf) != rows * row_bytes:
            raise EOFError(f'member ends after {start} of {shape[0]} rows')
          if start + rows == shape[0]:
            f.read()  # Reaching the end makes zipfile check the CRC.
        except _READ_ERRORS as e:
          raise ValueError(f'{where}: could not read the data ({e}); the file '
                           'is truncated or corrupted, download it again'
                           ) from e
        x = np.frombuffer(buf, dtype).reshape((rows,) + shape[1:])
        out[start:start + rows] = x if transform is None else transform(x)


def _check_array(path: str, key: str, shape, dtype, *, want_shape,
                 want_kind: str, want_dtype=None):
  """Shape (None = any size) and dtype checks with messages naming the file."""
  if want_dtype is not None and dtype != np.dtype(want_dtype):
    raise TypeError(f'{path}: {key!r} must have dtype {np.dtype(want_dtype)}, '
                    f'got {dtype}')
  if dtype.kind not in want_kind:
    kinds = {'iu': 'an integer', 'f': 'a floating'}.get(want_kind, want_kind)
    raise TypeError(f'{path}: {key!r} must have {kinds} dtype, got {dtype}')
  ok = len(shape) == len(want_shape) and all(
      w is None or s == w for s, w in zip(shape, want_shape))
  if not ok:
    want = '(' + ', '.join('*' if w is None else str(w)
                           for w in want_shape) + ')'
    raise ValueError(f'{path}: {key!r} must have shape {want}, got {shape}')


# --- the dataset object ------------------------------------------------------


def _lookup_dataset(name: str, space: state_space.StateSpace,
                    observation_shape: Sequence[int],
                    lookup: Callable[[np.ndarray], np.ndarray], *,
                    binary: bool, info: dict) -> base.GroundTruthData:
  """A host-lookup ``GroundTruthData`` from ``lookup(sorted unique idx)``.

  ``lookup`` receives sorted unique flat indices (what h5py and memory maps
  read fastest) and returns float32 images; duplicates and the caller's order
  are restored here.
  """

  def render(factors) -> np.ndarray:
    factors = np.asarray(factors)
    index = space.factors_to_index(factors).reshape(-1)
    if index.size == 0:
      return np.zeros((0,) + tuple(observation_shape), np.float32)
    unique, inverse = np.unique(index, return_inverse=True)
    return lookup(unique)[inverse.reshape(-1)]

  return base.GroundTruthData(
      name, space.factor_sizes, space.factor_names, observation_shape, render,
      is_pure=False, binary=binary, info=info)


def from_arrays(name: str, images: np.ndarray, factor_sizes: Sequence[int],
                factor_names: Sequence[str], *, packed_width: int | None = None,
                info: dict | None = None) -> base.GroundTruthData:
  """A dataset from images already in row-major grid order.

  Args:
    name: dataset name.
    images: uint8 (N, H, W, C) (any array-like that supports fancy indexing,
      e.g. a memory map), values 0..255; or, with ``packed_width=W``, binary
      images bit-packed along the width, uint8 (N, H, ceil(W / 8)).
    factor_sizes: grid with prod(factor_sizes) == N.
    factor_names: one name per factor.
    packed_width: image width W of bit-packed binary images; they render as
      (n, H, W, 1) with values 0/1.
    info: extra metadata kept on the dataset.

  Returns:
    A ``GroundTruthData`` with ``is_pure=False``.
  """
  space = state_space.StateSpace(factor_sizes, factor_names)
  if images.shape[0] != space.num_points:
    raise ValueError(f'{name}: {images.shape[0]} images for a grid of '
                     f'{space.num_points} points {space.factor_sizes}')
  if packed_width is not None:
    obs = (images.shape[1], packed_width, 1)

    def lookup(index):
      bits = np.unpackbits(images[index], axis=-1, count=packed_width)
      return bits[..., None].astype(np.float32)
  else:
    obs = tuple(images.shape[1:])

    def lookup(index):
      return np.asarray(images[index], np.float32) / np.float32(255.0)

  return _lookup_dataset(name, space, obs, lookup,
                         binary=packed_width is not None, info=info or {})


# --- dSprites ----------------------------------------------------------------


def load_dsprites(path=None, *, factor_sizes: Sequence[int] | None = None
                  ) -> base.GroundTruthData:
  """dSprites from ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``.

  Reads ``imgs`` (uint8 (N, 64, 64), values 0/1) and ``latents_classes``
  (int (N, 6), column 0 = colour, always 0) and checks that the rows are in
  row-major grid order. ``latents_values`` must be present (float, (N, 6));
  only its header is read. ``metadata`` is a pickle and is never read.

  Memory: a compressed ``imgs`` (the published file) is streamed once and kept
  bit-packed, ~0.38 GB (3.0 GB as uint8) plus ~35 MB while checking
  ``latents_classes``; an uncompressed one is memory-mapped.

  Args:
    path: the .npz file, or a folder holding it under its published name.
    factor_sizes: (shape, scale, orientation, posX, posY) sizes; default the
      published (3, 6, 40, 32, 32) with 64x64 images. Other sizes are for tests
      and row-major sub-grids; the image size is then taken from the file.

  Returns:
    ``GroundTruthData`` 'dsprites', observations (64, 64, 1) binary float32.

  Raises:
    FileNotFoundError: no file at ``path``.
    ValueError: truncated/corrupted file, missing keys, wrong shapes, rows not
      in grid order, non-binary images.
    TypeError: wrong dtypes.
  """
  path = _resolve_path(path, 'dsprites', DSPRITES_FILE)
  sizes = tuple(DSPRITES_SIZES if factor_sizes is None else factor_sizes)
  if len(sizes) != len(DSPRITES_NAMES):
    raise ValueError(f'dsprites: factor_sizes needs {len(DSPRITES_NAMES)} '
                     f'entries {DSPRITES_NAMES}, got {sizes}')
  space = state_space.StateSpace(sizes, DSPRITES_NAMES)
  n = space.num_points
  hw = IMAGE_SIZE if factor_sizes is None else (None, None)
  npz = _Npz(path, 'dsprites')
  try:
    npz.require(('imgs', 'latents_classes', 'latents_values'))
    shape, fortran, dtype = npz.header('imgs')
    _check_array(path, 'imgs', shape, dtype, want_shape=(n, *hw),
                 want_kind='u', want_dtype=np.uint8)
    for key, kind in (('latents_classes', 'iu'), ('latents_values', 'f')):
      kshape, _, kdtype = npz.header(key)
      _check_array(path, key, kshape, kdtype, want_shape=(n, 6),
                   want_kind=kind)
    classes = npz.load('latents_classes')
    if (classes[:, 0] != 0).any():
      raise ValueError(f'{path}: latents_classes column 0 (colour) must be 0')
    expected = space.all_factors()
    if not np.array_equal(classes[:, 1:], expected):
      raise _row_order_error(path, 'latents_classes', classes[:, 1:], expected)
    del classes, expected
    height, width = shape[1], shape[2]
    if npz.is_stored('imgs') and not fortran:
      images = npz.memmap('imgs')
      sample = images[np.linspace(0, n - 1, min(n, 64)).astype(np.int64)]
      if sample.max(initial=0) > 1:
        raise ValueError(f'{path}: imgs must be binary (0/1), found '
                         f'{int(sample.max())}')
      packed, mode = None, 'memmap'
    else:
      packed = np.empty((n, height, (width + 7) // 8), np.uint8)

      def pack(block):
        if block.max(initial=0) > 1:
          raise ValueError(f'{path}: imgs must be binary (0/1), found '
                           f'{int(block.max())}')
        return np.packbits(block, axis=-1)

      npz.stream_rows('imgs', packed, pack)
      mode = 'packed'
  finally:
    npz.close()
  info = dict(source='file', path=path, storage=mode)
  logging.info('dsprites: %s (%d images, %s)', path, n, mode)
  if packed is not None:
    return from_arrays('dsprites', packed, sizes, DSPRITES_NAMES,
                       packed_width=width, info=info)

  def lookup(index):
    return np.asarray(images[index], np.float32)[..., None]

  return _lookup_dataset('dsprites', space, (height, width, 1), lookup,
                         binary=True, info=info)


# --- Shapes3D ----------------------------------------------------------------


def _classes_from_values(values: np.ndarray) -> tuple[np.ndarray, list[int]]:
  """float (N, K) factor values -> int (N, K) ranks among unique values."""
  cols, counts = [], []
  for k in range(values.shape[1]):
    uniq, inverse = np.unique(values[:, k], return_inverse=True)
    cols.append(inverse.reshape(-1))
    counts.append(len(uniq))
  return np.stack(cols, axis=1), counts


def load_shapes3d(path=None, *, in_memory: bool = False,
                  factor_sizes: Sequence[int] | None = None
                  ) -> base.GroundTruthData:
  """Shapes3D from ``3dshapes.h5`` (h5py).

  Datasets ``images`` uint8 (N, 64, 64, 3) and ``labels`` float (N, 6)
  (factor values). The labels are read (23 MB) to check that the rows are in
  row-major grid order: per factor, the rank of the value among its distinct
  values must equal the grid class.

  Memory: by default the images stay on disk. A contiguous, uncompressed
  ``images`` dataset is memory-mapped at its offset in the file; a chunked or
  compressed one is read lazily with h5py (the file stays open; each
  ``render`` reads the needed rows, sorted and de-duplicated as h5py needs,
  and puts them back in the caller's order). ``in_memory=True`` reads all
  images at once (5.9 GB) for the fastest random access.

  Args:
    path: the .h5 file, or a folder holding ``3dshapes.h5``.
    in_memory: load all images into memory.
    factor_sizes: grid sizes; default the published (10, 10, 10, 8, 4, 15)
      with 64x64 images. Other sizes are for tests and row-major sub-grids.

  Returns:
    ``GroundTruthData`` 'shapes3d', observations (64, 64, 3) float32.

  Raises:
    FileNotFoundError: no file at ``path``.
    ValueError: truncated/corrupted file, missing datasets, wrong shapes, rows
      not in grid order.
    TypeError: wrong dtypes.
  """
  import h5py  # pylint: disable=g-import-not-at-top
  path = _resolve_path(path, 'shapes3d', SHAPES3D_FILE)
  sizes = tuple(SHAPES3D_SIZES if factor_sizes is None else factor_sizes)
  if len(sizes) != len(SHAPES3D_NAMES):
    raise ValueError(f'shapes3d: factor_sizes needs {len(SHAPES3D_NAMES)} '
                     f'entries {SHAPES3D_NAMES}, got {sizes}')
  space = state_space.StateSpace(sizes, SHAPES3D_NAMES)
  n = space.num_points
  hw = IMAGE_SIZE if factor_sizes is None else (None, None)
  try:
    h5 = h5py.File(path, 'r')
  except OSError as e:
    raise ValueError(f'{path}: not a readable HDF5 file ({e}); the file is '
                     'truncated or corrupted, download it again') from e
  try:
    missing = [k for k in ('images', 'labels')
               if not isinstance(h5.get(k), h5py.Dataset)]
    if missing:
      raise ValueError(f'{path}: missing dataset(s) {missing} for shapes3d; '
                       f'the file has {sorted(h5.keys())}, expected '
                       "['images', 'labels']")
    images, labels = h5['images'], h5['labels']
    _check_array(path, 'images', images.shape, images.dtype,
                 want_shape=(n, *hw, 3), want_kind='u', want_dtype=np.uint8)
    _check_array(path, 'labels', labels.shape, labels.dtype,
                 want_shape=(n, 6), want_kind='f')
    try:
      values = labels[...]
    except OSError as e:
      raise ValueError(f'{path}: could not read labels ({e}); the file is '
                       'corrupted') from e
    classes, counts = _classes_from_values(values)
    if tuple(counts) != sizes:
      raise ValueError(f'{path}: labels have {tuple(counts)} distinct values '
                       f'per factor, expected the grid {sizes}')
    expected = space.all_factors()
    if not np.array_equal(classes, expected):
      raise _row_order_error(path, 'labels', classes, expected)
    del values, classes, expected
    obs = tuple(images.shape[1:])
    if in_memory:
      try:
        data = images[...]
      except OSError as e:
        raise ValueError(f'{path}: could not read images ({e}); the file is '
                         'corrupted') from e
      h5.close()
      return from_arrays('shapes3d', data, sizes, SHAPES3D_NAMES,
                         info=dict(source='file', path=path,
                                   storage='in_memory'))
    offset = images.id.get_offset()
    if images.chunks is None and images.compression is None and offset:
      # A contiguous, uncompressed dataset is plain bytes in the file.
      mapped = np.memmap(path, np.uint8, mode='r', offset=offset,
                         shape=images.shape)
      h5.close()
      logging.info('shapes3d: %s (%d images, memmap)', path, n)
      return from_arrays('shapes3d', mapped, sizes, SHAPES3D_NAMES,
                         info=dict(source='file', path=path, storage='memmap'))
  except BaseException:
    h5.close()
    raise

  def lookup(index):
    try:
      x = images[index]  # h5py needs increasing indices: `index` is sorted.
    except OSError as e:
      raise ValueError(f'{path}: could not read images ({e}); the file is '
                       'corrupted') from e
    return x.astype(np.float32) / np.float32(255.0)

  logging.info('shapes3d: %s (%d images, lazy h5py)', path, n)
  return _lookup_dataset(
      'shapes3d', space, obs, lookup, binary=False,
      info=dict(source='file', path=path, storage='h5py'))


# --- MPI3D -------------------------------------------------------------------


def load_mpi3d(path=None, *, kind: str = 'toy',
               factor_sizes: Sequence[int] | None = None
               ) -> base.GroundTruthData:
  """MPI3D from ``mpi3d_{toy,realistic,real}.npz`` (key ``images``) or .npy.

  ``images`` is uint8 (N, 64, 64, 3) in row-major grid order; the grid is
  (6, 6, 2, 3, 3, 40, 40) for N = 1,036,800 (current release) or
  (4, 4, 2, 3, 3, 40, 40) for N = 460,800 (older files). The files hold no
  labels, so the row order cannot be checked.

  Memory: a ``.npy`` file, or an ``.npz`` whose ``images`` member is stored
  uncompressed, is memory-mapped; a compressed member is read into memory
  (12.7 GB for the 6x6 grid). Extract it once to memory-map it instead:
  ``unzip mpi3d_toy.npz images.npy``.

  Args:
    path: the .npz/.npy file, or a folder holding ``mpi3d_<kind>.npz``.
    kind: 'toy', 'realistic' or 'real' (name and default file name only).
    factor_sizes: grid sizes; by default chosen from N as above (64x64
      images). Other sizes are for tests and row-major sub-grids.

  Returns:
    ``GroundTruthData`` 'mpi3d_<kind>', observations (64, 64, 3) float32.

  Raises:
    FileNotFoundError: no file at ``path``.
    ValueError: truncated/corrupted file, missing key, N not one of the
      published sizes, wrong shapes.
    TypeError: wrong dtype.
  """
  if kind not in MPI3D_KINDS:
    raise ValueError(f'unknown MPI3D kind {kind!r}; valid: '
                     f'{", ".join(MPI3D_KINDS)}')
  name = f'mpi3d_{kind}'
  path = _resolve_path(path, name, f'{name}.npz')
  npz = None
  with open(path, 'rb') as f:
    is_zip = f.read(4) == b'PK\x03\x04'
  if is_zip:
    npz = _Npz(path, name)
    npz.require(('images',))
    shape, fortran, dtype = npz.header('images')
  else:
    with open(path, 'rb') as f:
      shape, fortran, dtype = _read_npy_header(f, path)
      offset = f.tell()
  try:
    if factor_sizes is None:
      _check_array(path, 'images', shape, dtype,
                   want_shape=(None, *IMAGE_SIZE, 3), want_kind='u',
                   want_dtype=np.uint8)
      if shape[0] not in MPI3D_SIZES:
        known = ', '.join(f'{k:,} {v}' for k, v in MPI3D_SIZES.items())
        raise ValueError(f'{path}: {shape[0]:,} images is not a published '
                         f'MPI3D grid (known: {known})')
      sizes = MPI3D_SIZES[shape[0]]
    else:
      sizes = tuple(factor_sizes)
      if len(sizes) != len(MPI3D_NAMES):
        raise ValueError(f'{name}: factor_sizes needs {len(MPI3D_NAMES)} '
                         f'entries {MPI3D_NAMES}, got {sizes}')
      _check_array(path, 'images', shape, dtype,
                   want_shape=(int(np.prod(sizes)), None, None, 3),
                   want_kind='u', want_dtype=np.uint8)
    if fortran:
      raise ValueError(f'{path}: images must be C-ordered')
    if npz is None:
      nbytes = int(np.prod(shape, dtype=np.int64))
      size = os.path.getsize(path)
      if size < offset + nbytes:
        raise ValueError(f'{path}: truncated: the header promises '
                         f'{offset + nbytes} bytes, the file has {size}')
      images = np.memmap(path, np.uint8, mode='r', offset=offset, shape=shape)
      mode = 'memmap'
    elif npz.is_stored('images'):
      images, mode = npz.memmap('images'), 'memmap'
    else:
      logging.warning('%s: images are compressed; reading %.1f GB into memory '
                      '(extract images.npy to memory-map it)', path,
                      np.prod(shape, dtype=np.float64) / 1e9)
      images = np.empty(shape, np.uint8)
      npz.stream_rows('images', images)
      mode = 'in_memory'
  finally:
    if npz is not None:
      npz.close()
  logging.info('%s: %s (%d images, grid %s, %s)', name, path, shape[0], sizes,
               mode)
  return from_arrays(name, images, sizes, MPI3D_NAMES,
                     info=dict(source='file', path=path, storage=mode))


LOADERS = {
    'dsprites': load_dsprites,
    'shapes3d': load_shapes3d,
    'mpi3d_toy': functools.partial(load_mpi3d, kind='toy'),
    'mpi3d_realistic': functools.partial(load_mpi3d, kind='realistic'),
    'mpi3d_real': functools.partial(load_mpi3d, kind='real'),
}
