"""Shared pieces of the real-file loaders: paths, .npy/.npz members, checks.

Used by ``dsprites_npz``, ``shapes3d_h5`` and ``mpi3d_npz`` (one module per
published format; ``files`` gathers their loaders). ``from_arrays`` also wraps
what ``tfds_loader`` reads. Every error names the file and the problem.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from typing import BinaryIO, Callable, Sequence

import numpy as np
import numpy.typing as npt

from disent_bias.data import base
from disent_bias.data import state_space

IMAGE_SIZE = (64, 64)
CHUNK_BYTES = 1 << 24  # Stream compressed members 16 MiB at a time.

SOURCES = {
    'dsprites': 'https://github.com/deepmind/dsprites-dataset',
    'shapes3d': 'https://github.com/deepmind/3d-shapes',
    'mpi3d': 'https://github.com/rr-learning/disentanglement_dataset',
}

# Exceptions that a truncated or corrupted zip/npy raises while being read.
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
               struct.error)

# (shape, fortran_order, dtype) of an .npy array, as its header states.
NpyHeader = tuple[tuple[int, ...], bool, np.dtype]


def resolve_path(path: str | os.PathLike | None, name: str,
                 filename: str) -> str:
  """A file path from ``path`` (file or folder); clear error if missing.

  Args:
    path: the file, or a folder holding ``filename``.
    name: dataset name (e.g. 'mpi3d_toy'); its family names the download.
    filename: the published file name, looked up in a folder.

  Raises:
    FileNotFoundError: no path given or no such file; says where to get it.
  """
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
          f'path=...); get it from {SOURCES[family]}. Or, {default}.')
  if path is None:
    raise FileNotFoundError(f'{name}: reading the real file needs path=; none '
                            f'was given. {hint}')
  path = os.fspath(path)
  if os.path.isdir(path):
    path = os.path.join(path, filename)
  if not os.path.isfile(path):
    raise FileNotFoundError(f'{name}: no such file {path!r}. {hint}')
  return path


def row_order_error(path: str, key: str, classes: np.ndarray,
                    expected: np.ndarray) -> ValueError:
  """The error for grid classes (N, K) that differ from ``expected`` (N, K).

  Names the first row that differs.
  """
  row = int(np.nonzero((classes != expected).any(axis=1))[0][0])
  return ValueError(
      f'{path}: {key} rows are not in row-major grid order (last factor '
      f'fastest): row {row} has classes {classes[row].tolist()}, expected '
      f'{expected[row].tolist()}. The loader needs the file as published.')


# --- npy / npz members -------------------------------------------------------


def read_npy_header(f: BinaryIO, where: str) -> NpyHeader:
  """(shape, fortran_order, dtype) of the .npy stream ``f``; no data read.

  Leaves ``f`` at the first data byte. ``where`` names the array in errors.
  """
  try:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
      header = np.lib.format.read_array_header_1_0(f)
    else:
      header = np.lib.format.read_array_header_2_0(f)
  except READ_ERRORS as e:
    raise ValueError(f'{where}: not a valid .npy array header ({e}); the file '
                     'is truncated or corrupted') from e
  shape, fortran_order, dtype = header
  if dtype.hasobject:
    raise TypeError(f'{where}: holds Python objects (dtype {dtype}); '
                    'refusing to unpickle')
  return tuple(shape), fortran_order, dtype


def refuse_single_npy(path: str, name: str) -> None:
  """A clear error for a lone .npy array where an .npz archive is expected."""
  with open(path, 'rb') as f:
    if f.read(6) != b'\x93NUMPY':
      return
  raise ValueError(
      f'{path}: is a single .npy array, but {name} is read from the .npz '
      f'archive it is published as (several named arrays); pass the .npz '
      f'file from {SOURCES[name.split("_")[0]]}')


class Npz:
  """Reads the members of an .npz without loading (or unpickling) any other.

  ``np.load(..., allow_pickle=False)`` is used for small members; image
  members are memory-mapped (stored uncompressed) or streamed (compressed).
  """

  def __init__(self, path: str, name: str):
    self.path = path
    self.name = name
    refuse_single_npy(path, name)
    try:
      self._zip = zipfile.ZipFile(path)
    except READ_ERRORS as e:
      raise ValueError(
          f'{path}: not a readable .npz (zip) file ({e}); the file is '
          'truncated or corrupted, download it again') from e
    self.keys = tuple(n[:-4] for n in self._zip.namelist()
                      if n.endswith('.npy'))

  def close(self) -> None:
    self._zip.close()

  def require(self, keys: Sequence[str]) -> None:
    """Raises ``ValueError`` naming the members of ``keys`` not in the file."""
    missing = [k for k in keys if k not in self.keys]
    if missing:
      raise ValueError(
          f'{self.path}: missing key(s) {missing} for {self.name}; the file '
          f'has {list(self.keys)}, expected {list(keys)}')

  def header(self, key: str) -> NpyHeader:
    """(shape, fortran_order, dtype) of member ``key`` without its data."""
    where = f'{self.path}[{key!r}]'
    try:
      f = self._zip.open(key + '.npy')
    except READ_ERRORS as e:
      raise ValueError(f'{where}: could not open the member ({e}); the file '
                       'is truncated or corrupted') from e
    with f:
      return read_npy_header(f, where)

  def load(self, key: str) -> np.ndarray:
    """A small member, fully read; never unpickles."""
    try:
      with np.load(self.path, allow_pickle=False) as npz:
        return npz[key]
    except READ_ERRORS as e:
      raise ValueError(f'{self.path}: could not read {key!r} ({e}); the file '
                       'is truncated or corrupted') from e

  def is_stored(self, key: str) -> bool:
    """Whether member ``key`` is stored uncompressed (so it can be mapped)."""
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
      shape, fortran_order, dtype = read_npy_header(f, where)
      offset = f.tell()
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if fortran_order or offset - start + nbytes != info.file_size:
      raise ValueError(f'{where}: member size does not match its header; the '
                       'file is corrupted')
    return np.memmap(self.path, dtype=dtype, mode='r', offset=offset,
                     shape=shape)

  def stream_rows(self, key: str, out: np.ndarray,
                  transform: Callable[[np.ndarray], np.ndarray] | None = None
                  ) -> None:
    """Decompresses member ``key`` block of rows by block into ``out``.

    Peak extra memory is one block (~16 MiB). ``transform`` maps a block of
    rows (b, *row_shape) to what is stored in ``out`` (e.g. bit packing).
    """
    where = f'{self.path}[{key!r}]'
    shape, _, dtype = self.header(key)
    row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
    block = max(1, CHUNK_BYTES // row_bytes)
    with self._zip.open(key + '.npy') as f:
      read_npy_header(f, where)
      for start in range(0, shape[0], block):
        rows = min(block, shape[0] - start)
        try:
          buf = f.read(rows * row_bytes)
          if len(buf) != rows * row_bytes:
            raise EOFError(f'member ends after {start} of {shape[0]} rows')
          if start + rows == shape[0]:
            f.read()  # Reaching the end makes zipfile check the CRC.
        except READ_ERRORS as e:
          raise ValueError(f'{where}: could not read the data ({e}); the file '
                           'is truncated or corrupted, download it again'
                           ) from e
        x = np.frombuffer(buf, dtype).reshape((rows,) + shape[1:])
        out[start:start + rows] = x if transform is None else transform(x)


def check_array(path: str, key: str, shape: Sequence[int], dtype: np.dtype, *,
                want_shape: Sequence[int | None], want_kind: str,
                want_dtype: npt.DTypeLike | None = None) -> None:
  """Shape (None = any size) and dtype checks with messages naming the file.

  ``want_kind`` holds the allowed ``dtype.kind`` letters ('u', 'iu', 'f').
  """
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


def published_grid(name: str, factor_names: Sequence[str],
                   published_sizes: Sequence[int],
                   factor_sizes: Sequence[int] | None
                   ) -> tuple[state_space.StateSpace, tuple]:
  """The grid a loader checks the file against, and its image (H, W).

  The published grid comes with 64x64 images; other ``factor_sizes`` (tests,
  row-major sub-grids) take the image size from the file: (None, None).

  Raises:
    ValueError: ``factor_sizes`` has the wrong number of entries.
  """
  sizes = check_sizes(name, factor_names,
                      published_sizes if factor_sizes is None else factor_sizes)
  hw = IMAGE_SIZE if factor_sizes is None else (None, None)
  return state_space.StateSpace(sizes, factor_names), hw


def check_sizes(name: str, factor_names: Sequence[str],
                factor_sizes: Sequence[int]) -> tuple[int, ...]:
  """``factor_sizes`` as a tuple, one entry per factor name, else ValueError."""
  sizes = tuple(factor_sizes)
  if len(sizes) != len(factor_names):
    raise ValueError(f'{name}: factor_sizes needs {len(factor_names)} '
                     f'entries {tuple(factor_names)}, got {sizes}')
  return sizes


def lookup_dataset(name: str, space: state_space.StateSpace,
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
      e.g. a memory map), values 0..255; bool (binary) or float in [0, 1]
      observations (N, *obs) (``data.arrays`` checks them); or, with
      ``packed_width=W``, binary images bit-packed along the width, uint8
      (N, H, ceil(W / 8)).
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
  elif np.dtype(images.dtype) == np.uint8:
    obs = tuple(images.shape[1:])

    def lookup(index):
      return np.asarray(images[index], np.float32) / np.float32(255.0)
  else:  # bool (binary 0 / 1) or float in [0, 1], rendered as float32.
    obs = tuple(images.shape[1:])

    def lookup(index):
      return np.asarray(images[index]).astype(np.float32)

  binary = packed_width is not None or np.dtype(images.dtype) == np.bool_
  return lookup_dataset(name, space, obs, lookup, binary=binary,
                        info=info or {})
