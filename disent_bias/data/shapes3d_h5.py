"""Shapes3D from the published ``3dshapes.h5`` (h5py).

The factor grid is the one of the procedural look-alike (``data.shapes3d``).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from absl import logging
import numpy as np

from disent_bias.data import base
from disent_bias.data import file_formats
from disent_bias.data import shapes3d
from disent_bias.data import state_space

FILE_NAME = '3dshapes.h5'


def load_shapes3d(path: str | os.PathLike | None = None, *,
                  in_memory: bool = False,
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
  path = file_formats.resolve_path(path, 'shapes3d', FILE_NAME)
  space, hw = file_formats.published_grid(
      'shapes3d', shapes3d.FACTOR_NAMES, shapes3d.FACTOR_SIZES, factor_sizes)
  try:
    h5 = h5py.File(path, 'r')
  except OSError as e:
    raise ValueError(f'{path}: not a readable HDF5 file ({e}); the file is '
                     'truncated or corrupted, download it again') from e
  try:
    images = _check_datasets(h5, path, space, hw)
    dataset = _in_memory_or_mapped(path, images, space, in_memory)
  except BaseException:
    h5.close()
    raise
  if dataset is not None:
    h5.close()
    return dataset
  return _lazy(path, images, space)


def _classes_from_values(values: np.ndarray) -> tuple[np.ndarray, list[int]]:
  """float (N, K) factor values -> int (N, K) ranks among unique values."""
  cols, counts = [], []
  for k in range(values.shape[1]):
    uniq, inverse = np.unique(values[:, k], return_inverse=True)
    cols.append(inverse.reshape(-1))
    counts.append(len(uniq))
  return np.stack(cols, axis=1), counts


def _check_datasets(h5: Any, path: str, space: state_space.StateSpace,
                    hw: tuple) -> Any:
  """Checks both datasets and the labels' grid order; the ``images`` dataset."""
  import h5py  # pylint: disable=g-import-not-at-top
  n, sizes = space.num_points, space.factor_sizes
  missing = [k for k in ('images', 'labels')
             if not isinstance(h5.get(k), h5py.Dataset)]
  if missing:
    raise ValueError(f'{path}: missing dataset(s) {missing} for shapes3d; '
                     f'the file has {sorted(h5.keys())}, expected '
                     "['images', 'labels']")
  images, labels = h5['images'], h5['labels']
  file_formats.check_array(path, 'images', images.shape, images.dtype,
                           want_shape=(n, *hw, 3), want_kind='u',
                           want_dtype=np.uint8)
  file_formats.check_array(path, 'labels', labels.shape, labels.dtype,
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
    raise file_formats.row_order_error(path, 'labels', classes, expected)
  return images


def _in_memory_or_mapped(path: str, images: Any,
                         space: state_space.StateSpace, in_memory: bool
                         ) -> base.GroundTruthData | None:
  """The dataset from all images read, or memory-mapped where they are plain.

  None when neither applies (chunked or compressed, not ``in_memory``): then
  the caller reads lazily through h5py.
  """
  if in_memory:
    try:
      data = images[...]
    except OSError as e:
      raise ValueError(f'{path}: could not read images ({e}); the file is '
                       'corrupted') from e
    return file_formats.from_arrays(
        'shapes3d', data, space.factor_sizes, shapes3d.FACTOR_NAMES,
        info=dict(source='file', path=path, storage='in_memory'))
  offset = images.id.get_offset()
  if images.chunks is None and images.compression is None and offset:
    # A contiguous, uncompressed dataset is plain bytes in the file.
    mapped = np.memmap(path, np.uint8, mode='r', offset=offset,
                       shape=images.shape)
    logging.info('shapes3d: %s (%d images, memmap)', path, space.num_points)
    return file_formats.from_arrays(
        'shapes3d', mapped, space.factor_sizes, shapes3d.FACTOR_NAMES,
        info=dict(source='file', path=path, storage='memmap'))
  return None


def _lazy(path: str, images: Any, space: state_space.StateSpace
          ) -> base.GroundTruthData:
  """The dataset reading the rows it renders from the open h5py ``images``."""

  def lookup(index):
    try:
      x = images[index]  # h5py needs increasing indices: `index` is sorted.
    except OSError as e:
      raise ValueError(f'{path}: could not read images ({e}); the file is '
                       'corrupted') from e
    return x.astype(np.float32) / np.float32(255.0)

  logging.info('shapes3d: %s (%d images, lazy h5py)', path, space.num_points)
  return file_formats.lookup_dataset(
      'shapes3d', space, tuple(images.shape[1:]), lookup, binary=False,
      info=dict(source='file', path=path, storage='h5py'))
