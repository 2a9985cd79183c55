"""MPI3D from the published ``mpi3d_{toy,realistic,real}.npz`` (or its .npy).

MPI3D has no procedural look-alike, so its grid is defined here.
"""

from __future__ import annotations

import os
from typing import Sequence

from absl import logging
import numpy as np

from disent_bias.data import base
from disent_bias.data import file_formats

FACTOR_NAMES = ('object_color', 'object_shape', 'object_size',
                'camera_height', 'background_color', 'horizontal_axis',
                'vertical_axis')
# Told apart by the number of images: the current release and the older
# "without heldout factors" files with 4 colours and 4 shapes.
FACTOR_SIZES = {1_036_800: (6, 6, 2, 3, 3, 40, 40),
                460_800: (4, 4, 2, 3, 3, 40, 40)}
KINDS = ('toy', 'realistic', 'real')


def load_mpi3d(path: str | os.PathLike | None = None, *, kind: str = 'toy',
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
  if kind not in KINDS:
    raise ValueError(f'unknown MPI3D kind {kind!r}; valid: '
                     f'{", ".join(KINDS)}')
  name = f'mpi3d_{kind}'
  path = file_formats.resolve_path(path, name, f'{name}.npz')
  npz, (shape, fortran, dtype), offset = _open(path, name)
  try:
    sizes = _grid_sizes(path, name, shape, dtype, factor_sizes)
    if fortran:
      raise ValueError(f'{path}: images must be C-ordered')
    if npz is None:
      images, mode = _memmap_npy(path, shape, offset), 'memmap'
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
  return file_formats.from_arrays(
      name, images, sizes, FACTOR_NAMES,
      info=dict(source='file', path=path, storage=mode))


def _open(path: str, name: str) -> tuple[
    file_formats.Npz | None, file_formats.NpyHeader, int | None]:
  """(the open .npz or None for an .npy, images header, .npy data offset)."""
  with open(path, 'rb') as f:
    is_zip = f.read(4) == b'PK\x03\x04'
  if is_zip:
    npz = file_formats.Npz(path, name)
    npz.require(('images',))
    return npz, npz.header('images'), None
  with open(path, 'rb') as f:
    header = file_formats.read_npy_header(f, path)
    return None, header, f.tell()


def _grid_sizes(path: str, name: str, shape: Sequence[int], dtype: np.dtype,
                factor_sizes: Sequence[int] | None) -> tuple[int, ...]:
  """Checks the images header; the grid: published (from N) or the given."""
  if factor_sizes is None:
    file_formats.check_array(
        path, 'images', shape, dtype,
        want_shape=(None, *file_formats.IMAGE_SIZE, 3), want_kind='u',
        want_dtype=np.uint8)
    if shape[0] not in FACTOR_SIZES:
      known = ', '.join(f'{k:,} {v}' for k, v in FACTOR_SIZES.items())
      raise ValueError(f'{path}: {shape[0]:,} images is not a published '
                       f'MPI3D grid (known: {known})')
    return FACTOR_SIZES[shape[0]]
  sizes = file_formats.check_sizes(name, FACTOR_NAMES, factor_sizes)
  file_formats.check_array(path, 'images', shape, dtype,
                           want_shape=(int(np.prod(sizes)), None, None, 3),
                           want_kind='u', want_dtype=np.uint8)
  return sizes


def _memmap_npy(path: str, shape: Sequence[int], offset: int) -> np.memmap:
  """The .npy images array memory-mapped, after checking the file length."""
  nbytes = int(np.prod(shape, dtype=np.int64))
  size = os.path.getsize(path)
  if size < offset + nbytes:
    raise ValueError(f'{path}: truncated: the header promises '
                     f'{offset + nbytes} bytes, the file has {size}')
  return np.memmap(path, np.uint8, mode='r', offset=offset, shape=shape)
