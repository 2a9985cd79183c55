"""Bring your own dataset: any complete finite factor grid of observations.

``from_arrays(images, factors, factor_names, factor_sizes)`` checks that the
rows of ``factors`` are every point of the grid exactly once, puts the
images in the package's row-major order (last factor fastest,
``StateSpace``) and returns a ``GroundTruthData`` (host lookup, like the
real-file loaders) that the variants, training, metrics and the local PCA
audit accept. ``from_arrays(path)`` reads the generic layout that
``data.export`` writes, as ``.npz`` or HDF5 (``load('arrays', path=...)``,
``config.data.name='arrays'``):

- ``images``: (N, H, W, C) images or (N, D) vectors; ``bool`` (binary,
  rendered 0 / 1), ``uint8`` (rendered value / 255) or float in [0, 1];
- ``factors``: integer (N, K) class indices, any row order;
- ``factor_names``: (K,) strings; ``factor_sizes``: integer (K,).

Every error is one line naming the input (or file) and the problem.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from disent_bias.data import base
from disent_bias.data import file_formats
from disent_bias.data import state_space

NAME = 'arrays'
KEYS = ('images', 'factors', 'factor_names', 'factor_sizes')
CHUNK_ROWS = 4096  # Rows per block when checking float values.


def from_arrays(images: Any, factors: Any = None,
                factor_names: Sequence[str] | None = None,
                factor_sizes: Sequence[int] | None = None, *,
                name: str = NAME) -> base.GroundTruthData:
  """A ground-truth dataset from arrays, or from a file of the generic layout.

  Args:
    images: (N, H, W, C) or (N, D), dtype bool, uint8 or float (values in
      [0, 1]); any array supporting row indexing (a memory map). Or a path
      to an ``.npz`` / HDF5 file of the generic layout (then nothing else).
    factors: integer (N, K): row i holds the class indices of image i; the
      rows are every point of the grid once, in any order.
    factor_names: K distinct names.
    factor_sizes: K sizes (values per factor); None: ``max + 1`` per column.
    name: the dataset's name.

  Returns:
    A ``GroundTruthData`` (``is_pure=False``), ``binary`` for bool images.

  Raises:
    ValueError: wrong shapes, names / sizes that do not match the factors,
      out-of-range, duplicated or missing grid points, non-finite or
      out-of-[0, 1] float images, an unreadable file.
    TypeError: images or factors of an unsupported dtype.
  """
  if isinstance(images, (str, os.PathLike)):
    if factors is not None or factor_names is not None or (
        factor_sizes is not None):
      raise ValueError(f'{name}: from_arrays(path) reads factors, names and '
                       'sizes from the file; pass nothing else')
    return load(images, name=name)
  if factors is None or factor_names is None:
    raise ValueError(f'{name}: from_arrays needs images, factors and '
                     'factor_names (or one file path)')
  return _dataset(name, name, images, factors, factor_names, factor_sizes,
                  info=dict(source='arrays'))


def load(path: str | os.PathLike | None = None, *,
         name: str = NAME) -> base.GroundTruthData:
  """``from_arrays`` of a generic-layout file (``.npz`` or HDF5).

  An uncompressed ``.npz`` member or a contiguous HDF5 dataset of images is
  memory-mapped (when in row-major grid order); otherwise it is read.

  Raises:
    FileNotFoundError: no path or no such file.
    ValueError / TypeError: as ``from_arrays``, naming the file.
  """
  if path is None:
    raise FileNotFoundError(
        f'{name}: a dataset of arrays is read from a file: pass path= to an '
        '.npz or HDF5 file of the generic layout (docs/own_data.md), e.g. '
        "disent_bias.data.load('arrays', path='mine.npz')")
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise FileNotFoundError(f'{name}: no such file {path!r}')
  with open(path, 'rb') as f:
    magic = f.read(8)
  if magic == b'\x89HDF\r\n\x1a\n':
    arrays = _read_hdf5(path)
  elif magic[:2] == b'PK':
    arrays = _read_npz(path)
  else:
    raise ValueError(f'{path}: neither an .npz (zip) nor an HDF5 file')
  images, factors, names, sizes = arrays
  return _dataset(name, path, images, factors, names, sizes,
                  info=dict(source='arrays', path=path))


def _read_npz(path: str) -> tuple[Any, np.ndarray, list[str], np.ndarray]:
  """The four members of a generic-layout ``.npz``; images mapped if stored."""
  npz = file_formats.Npz(path, NAME)
  try:
    npz.require(KEYS)
    shape, fortran, _ = npz.header('images')
    if npz.is_stored('images') and not fortran and len(shape):
      images = npz.memmap('images')
    else:
      images = npz.load('images')
    rest = [npz.load(k) for k in KEYS[1:]]
  finally:
    npz.close()
  names = rest[1]
  if names.dtype.kind not in 'US':
    raise TypeError(f'{path}: factor_names must be strings, got dtype '
                    f'{names.dtype}')
  return images, rest[0], [str(n) for n in names.tolist()], rest[2]


def _read_hdf5(path: str) -> tuple[Any, np.ndarray, list[str], np.ndarray]:
  """The four datasets of a generic-layout HDF5 file; images mapped if plain."""
  import h5py  # pylint: disable=g-import-not-at-top
  try:
    with h5py.File(path, 'r') as h5:
      missing = [k for k in KEYS if not isinstance(h5.get(k), h5py.Dataset)]
      if missing:
        raise ValueError(f'{path}: missing dataset(s) {missing}; the file '
                         f'has {sorted(h5.keys())}, expected {list(KEYS)}')
      data = h5['images']
      offset = data.id.get_offset()
      if (data.chunks is None and data.compression is None and offset and
          data.dtype.kind in 'uf' and data.size):
        images = np.memmap(path, data.dtype, mode='r', offset=offset,
                           shape=data.shape)
      else:
        images = data[...]
      factors = h5['factors'][...]
      names = [str(n) for n in h5['factor_names'].asstr()[...].tolist()]
      sizes = h5['factor_sizes'][...]
  except OSError as e:
    raise ValueError(f'{path}: not a readable HDF5 file ({e})') from e
  return images, factors, names, sizes


def _dataset(name: str, where: str, images: Any, factors: Any,
             factor_names: Sequence[str], factor_sizes: Any,
             info: dict) -> base.GroundTruthData:
  """Checks everything, puts images in grid order, wraps the lookup."""
  factors = _check_factors(where, factors)
  names = _check_names(where, factor_names, factors.shape[1])
  sizes = _check_sizes(where, factor_sizes, factors, names)
  _check_images(where, images, len(factors))
  space = state_space.StateSpace(sizes, names)
  order = grid_order(where, factors, space)
  if order is not None:
    images = np.asarray(images)[order]
  return file_formats.from_arrays(name, images, sizes, names, info=info)


def _check_factors(where: str, factors: Any) -> np.ndarray:
  factors = np.asarray(factors)
  if factors.dtype.kind not in 'iu' or factors.dtype == np.bool_:
    raise TypeError(f'{where}: factors must be integer class indices, got '
                    f'dtype {factors.dtype}')
  if factors.ndim != 2 or not factors.shape[1]:
    raise ValueError(f'{where}: factors must have shape (N, K), got '
                     f'{factors.shape}')
  if (factors < 0).any():
    raise ValueError(f'{where}: factors must be >= 0, found '
                     f'{int(factors.min())}')
  return factors.astype(np.int64)


def _check_names(where: str, factor_names: Sequence[str],
                 num_factors: int) -> tuple[str, ...]:
  if isinstance(factor_names, str) or not all(
      isinstance(n, str) for n in factor_names):
    raise TypeError(f'{where}: factor_names must be a sequence of strings, '
                    f'got {factor_names!r}')
  names = tuple(factor_names)
  if len(names) != num_factors:
    raise ValueError(f'{where}: {len(names)} factor_names {names} for '
                     f'{num_factors} factor columns')
  if len(set(names)) != len(names):
    raise ValueError(f'{where}: factor_names must be distinct, got {names}')
  return names


def _check_sizes(where: str, factor_sizes: Any, factors: np.ndarray,
                 names: tuple[str, ...]) -> tuple[int, ...]:
  seen = tuple(int(m) + 1 for m in factors.max(0)) if len(factors) else None
  if factor_sizes is None:
    if seen is None:
      raise ValueError(f'{where}: no rows; pass factor_sizes')
    return seen
  sizes = np.asarray(factor_sizes)
  if sizes.dtype.kind not in 'iu' or sizes.ndim != 1:
    raise TypeError(f'{where}: factor_sizes must be a sequence of ints, got '
                    f'{np.asarray(factor_sizes).tolist()}')
  if len(sizes) != len(names):
    raise ValueError(f'{where}: {len(sizes)} factor_sizes {sizes.tolist()} '
                     f'for {len(names)} factor_names {names}')
  if (sizes < 1).any():
    raise ValueError(f'{where}: factor_sizes must be >= 1, got '
                     f'{sizes.tolist()}')
  sizes = tuple(int(s) for s in sizes)
  if seen is not None:
    over = [k for k in range(len(sizes)) if seen[k] > sizes[k]]
    if over:
      k = over[0]
      raise ValueError(f'{where}: factor {names[k]!r} has class '
                       f'{seen[k] - 1}, out of range for its size {sizes[k]}')
  return sizes


def _check_images(where: str, images: Any, num_rows: int) -> None:
  dtype, shape = np.dtype(images.dtype), tuple(images.shape)
  if not (dtype == np.bool_ or dtype == np.uint8 or dtype.kind == 'f'):
    raise TypeError(f'{where}: images must be bool, uint8 or float in [0, 1], '
                    f'got dtype {dtype}')
  if len(shape) not in (2, 4):
    raise ValueError(f'{where}: images must have shape (N, H, W, C) or (N, D), '
                     f'got {shape}')
  if shape[0] != num_rows:
    raise ValueError(f'{where}: {shape[0]} images for {num_rows} factor rows')
  if dtype.kind == 'f':
    for start in range(0, shape[0], CHUNK_ROWS):
      block = np.asarray(images[start:start + CHUNK_ROWS])
      bad = ~(np.isfinite(block) & (block >= 0) & (block <= 1))
      if bad.any():
        row = start + int(np.nonzero(bad.reshape(len(block), -1).any(1))[0][0])
        raise ValueError(f'{where}: float images must be finite and in '
                         f'[0, 1]; image {row} is not')


def grid_order(where: str, factors: np.ndarray,
               space: state_space.StateSpace) -> np.ndarray | None:
  """The row order that puts ``factors`` in row-major grid order.

  Args:
    where: names the input in errors.
    factors: int (N, K) class indices within ``space``.
    space: the grid.

  Returns:
    int64 (N,) rows sorted by flat index, or None when already in order.

  Raises:
    ValueError: a grid point appears twice, or is missing.
  """
  index = space.factors_to_index(factors).astype(np.int64)
  counts = np.bincount(index, minlength=space.num_points)
  describe = lambda i: dict(zip(space.factor_names,
                                space.index_to_factors(np.int64(i)).tolist()))
  if (counts > 1).any():
    point = int(np.nonzero(counts > 1)[0][0])
    rows = np.nonzero(index == point)[0][:2].tolist()
    raise ValueError(f'{where}: duplicated grid point {describe(point)} '
                     f'(rows {rows}); each combination of factor values must '
                     'appear once')
  if (counts == 0).any():
    missing = np.nonzero(counts == 0)[0]
    raise ValueError(f'{where}: incomplete grid: {len(missing)} of '
                     f'{space.num_points} points of {space.factor_sizes} are '
                     f'missing, e.g. {describe(missing[0])}; every combination '
                     'of factor values needs one image')
  if (index == np.arange(len(index))).all():
    return None
  return np.argsort(index, kind='stable')


__all__ = ['NAME', 'KEYS', 'from_arrays', 'load', 'grid_order']
