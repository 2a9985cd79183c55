"""dSprites from the published ``dsprites_ndarray_...64x64.npz``.

The factor grid is the one of the procedural look-alike (``data.dsprites``).
"""

from __future__ import annotations

import os
from typing import Sequence

from absl import logging
import numpy as np

from disent_bias.data import base
from disent_bias.data import dsprites
from disent_bias.data import file_formats
from disent_bias.data import state_space

FILE_NAME = 'dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz'


def load_dsprites(path: str | os.PathLike | None = None, *,
                  factor_sizes: Sequence[int] | None = None
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
  path = file_formats.resolve_path(path, 'dsprites', FILE_NAME)
  space, hw = file_formats.published_grid(
      'dsprites', dsprites.FACTOR_NAMES, dsprites.FACTOR_SIZES, factor_sizes)
  n = space.num_points
  npz = file_formats.Npz(path, 'dsprites')
  try:
    shape, fortran = _check_members(npz, space, hw)
    height, width = shape[1], shape[2]
    if npz.is_stored('imgs') and not fortran:
      images, mode = _memmap_images(npz), 'memmap'
    else:
      images, mode = _packed_images(npz, shape), 'packed'
  finally:
    npz.close()
  info = dict(source='file', path=path, storage=mode)
  info[base.IMAGE_PHASE] = {'orientation': dsprites.orientation_phase}
  logging.info('dsprites: %s (%d images, %s)', path, n, mode)
  if mode == 'packed':
    return file_formats.from_arrays(
        'dsprites', images, space.factor_sizes, dsprites.FACTOR_NAMES,
        packed_width=width, info=info)

  def lookup(index):
    return np.asarray(images[index], np.float32)[..., None]

  return file_formats.lookup_dataset('dsprites', space, (height, width, 1),
                                     lookup, binary=True, info=info)


def _check_members(npz: file_formats.Npz, space: state_space.StateSpace,
                   hw: tuple) -> tuple[tuple[int, ...], bool]:
  """Checks keys, headers and the grid order; (imgs shape, fortran order)."""
  path, n = npz.path, space.num_points
  npz.require(('imgs', 'latents_classes', 'latents_values'))
  shape, fortran, dtype = npz.header('imgs')
  file_formats.check_array(path, 'imgs', shape, dtype, want_shape=(n, *hw),
                           want_kind='u', want_dtype=np.uint8)
  for key, kind in (('latents_classes', 'iu'), ('latents_values', 'f')):
    kshape, _, kdtype = npz.header(key)
    file_formats.check_array(path, key, kshape, kdtype, want_shape=(n, 6),
                             want_kind=kind)
  classes = npz.load('latents_classes')
  if (classes[:, 0] != 0).any():
    raise ValueError(f'{path}: latents_classes column 0 (colour) must be 0')
  expected = space.all_factors()
  if not np.array_equal(classes[:, 1:], expected):
    raise file_formats.row_order_error(path, 'latents_classes', classes[:, 1:],
                                       expected)
  return shape, fortran


def _binary_error(path: str, found: np.ndarray) -> ValueError:
  return ValueError(f'{path}: imgs must be binary (0/1), found '
                    f'{int(found.max())}')


def _memmap_images(npz: file_formats.Npz) -> np.ndarray:
  """The uncompressed ``imgs`` memory-mapped; a spread sample checked 0/1."""
  images = npz.memmap('imgs')
  n = images.shape[0]
  sample = images[np.linspace(0, n - 1, min(n, 64)).astype(np.int64)]
  if sample.max(initial=0) > 1:
    raise _binary_error(npz.path, sample)
  return images


def _packed_images(npz: file_formats.Npz, shape: Sequence[int]) -> np.ndarray:
  """The compressed ``imgs`` streamed, checked 0/1 and bit-packed by width."""
  n, height, width = shape
  packed = np.empty((n, height, (width + 7) // 8), np.uint8)

  def pack(block):
    if block.max(initial=0) > 1:
      raise _binary_error(npz.path, block)
    return np.packbits(block, axis=-1)

  npz.stream_rows('imgs', packed, pack)
  return packed
