"""dSprites and Shapes3D through TensorFlow Datasets (``data_dir=``).

The split is read once into numpy, batch by batch, and each example is put at
its row-major grid index computed from its ``label_*`` classes (TFDS examples
need not be in grid order). Every grid point must appear exactly once.
Memory: Shapes3D 5.9 GB (uint8); dSprites is kept bit-packed, 0.38 GB.

``tensorflow_datasets`` (and so TensorFlow) is imported only when a loader is
called, so ``import disent_bias.data`` never imports TensorFlow.
"""

from __future__ import annotations

import functools
import os
from typing import Sequence

from absl import logging
import numpy as np

from disent_bias.data import base
from disent_bias.data import dsprites
from disent_bias.data import file_formats
from disent_bias.data import shapes3d
from disent_bias.data import state_space

# TFDS label feature for each factor, in the grid's factor order.
DSPRITES_LABELS = ('label_shape', 'label_scale', 'label_orientation',
                   'label_x_position', 'label_y_position')
SHAPES3D_LABELS = ('label_floor_hue', 'label_wall_hue', 'label_object_hue',
                   'label_scale', 'label_shape', 'label_orientation')
_BATCH = 4096


def _import_tfds():
  try:
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError(
        "source='tfds' needs tensorflow-datasets: pip install "
        "'disent_bias[tfds]'. Without it, disent_bias.data.load(name) gives "
        'the procedural look-alike.') from e
  return tfds


def _read_split(name: str, data_dir, split: str, download: bool):
  """Yields numpy batches (dicts) of the prepared TFDS split."""
  tfds = _import_tfds()
  hint = (f"Prepare it with tfds.builder({name!r}, data_dir=...)"
          '.download_and_prepare() (needs the internet) or pass '
          'download=True; without TFDS data, disent_bias.data.load('
          f'{name!r}) gives the procedural look-alike (the default).')
  if data_dir is not None:
    data_dir = os.fspath(data_dir)
    if '://' not in data_dir and not os.path.isdir(data_dir):
      raise FileNotFoundError(
          f'{name}: TFDS data_dir {data_dir!r} does not exist. {hint}')
  builder = tfds.builder(name, data_dir=data_dir)
  if download:
    builder.download_and_prepare()
  try:
    ds = builder.as_dataset(split=split, batch_size=_BATCH,
                            shuffle_files=False)
  except AssertionError as e:  # TFDS signals unprepared data this way.
    raise FileNotFoundError(
        f'{name}: no prepared TFDS data under {builder.data_dir!r} '
        f'({e}). {hint}') from e
  return tfds.as_numpy(ds)


def _load(name: str, label_keys: Sequence[str], factor_names: Sequence[str],
          factor_sizes: Sequence[int], data_dir, split: str, download: bool,
          binary: bool) -> base.GroundTruthData:
  """Reads a TFDS split into grid order and wraps it as a dataset."""
  space = state_space.StateSpace(factor_sizes, factor_names)
  n = space.num_points
  images, seen, obs = None, np.zeros(n, bool), None
  where = f'TFDS {name!r} split {split!r}'
  for batch in _read_split(name, data_dir, split, download):
    missing = [k for k in ('image', *label_keys) if k not in batch]
    if missing:
      raise ValueError(f'{where}: missing features {missing}; got '
                       f'{sorted(batch)}')
    image = np.asarray(batch['image'])
    if image.dtype != np.uint8:
      raise TypeError(f'{where}: image must be uint8, got {image.dtype}')
    if images is None:
      obs = image.shape[1:]
      if binary:
        images = np.zeros((n, obs[0], (obs[1] + 7) // 8), np.uint8)
      else:
        images = np.zeros((n, *obs), np.uint8)
    elif image.shape[1:] != obs:
      raise ValueError(f'{where}: image shapes differ: {obs} and '
                       f'{image.shape[1:]}')
    index = _new_grid_index(batch, label_keys, space, seen, where)
    seen[index] = True
    if binary:
      if image.max(initial=0) > 1:
        raise ValueError(f'{where}: images must be binary (0/1), found '
                         f'{int(image.max())}')
      images[index] = np.packbits(image[..., 0], axis=-1)
    else:
      images[index] = image
  if images is None or not seen.all():
    raise ValueError(f'{where}: holds {int(seen.sum())} of the {n} grid '
                     f'points {space.factor_sizes}; every point must appear '
                     'once')
  if binary and obs[-1] != 1:
    raise ValueError(f'{where}: binary images need 1 channel, got {obs}')
  logging.info('%s: %d examples read into grid order', where, n)
  info = dict(source='tfds', data_dir=None if data_dir is None
              else os.fspath(data_dir), split=split)
  return file_formats.from_arrays(
      name, images, space.factor_sizes, factor_names,
      packed_width=obs[1] if binary else None, info=info)


# Per dataset: label features, factor names, published grid, binary images.
_SPECS = {
    'dsprites': (DSPRITES_LABELS, dsprites.FACTOR_NAMES,
                 dsprites.FACTOR_SIZES, True),
    'shapes3d': (SHAPES3D_LABELS, shapes3d.FACTOR_NAMES,
                 shapes3d.FACTOR_SIZES, False),
}


def _new_grid_index(batch: dict, label_keys: Sequence[str],
                    space: state_space.StateSpace, seen: np.ndarray,
                    where: str) -> np.ndarray:
  """Grid indices (B,) of a batch's labels, each on the grid and not ``seen``.

  ``seen`` (N,) bool marks the points of earlier batches.
  """
  classes = np.stack([np.asarray(batch[k]) for k in label_keys], axis=1)
  bad = (classes < 0) | (classes >= np.asarray(space.factor_sizes))
  if bad.any():
    row, col = map(int, np.argwhere(bad)[0])
    raise ValueError(f'{where}: {label_keys[col]} = {classes[row, col]} is '
                     f'outside the grid {space.factor_sizes}')
  index = space.factors_to_index(classes.astype(np.int64))
  repeated = np.ones(len(index), bool)  # Later copies within the batch,
  repeated[np.unique(index, return_index=True)[1]] = False
  repeated |= seen[index]  # or points seen in earlier batches.
  if repeated.any():
    raise ValueError(f'{where}: grid point {space.factor_names} = '
                     f'{classes[np.argmax(repeated)].tolist()} appears '
                     'more than once; the split must hold each grid point '
                     'once')
  return index


def load(name: str, data_dir: str | os.PathLike | None = None, *,
         split: str = 'train', download: bool = False,
         factor_sizes: Sequence[int] | None = None) -> base.GroundTruthData:
  """dSprites or Shapes3D from TFDS (``tfds.builder(name, data_dir=...)``).

  Args:
    name: 'dsprites' or 'shapes3d'.
    data_dir: TFDS data folder; None uses TFDS's default
      (~/tensorflow_datasets).
    split: TFDS split; it must hold every grid point once.
    download: run ``download_and_prepare`` first (needs the internet).
    factor_sizes: grid; default the published one (dSprites
      (3, 6, 40, 32, 32), Shapes3D (10, 10, 10, 8, 4, 15)). Other sizes are
      for tests.

  Returns:
    ``GroundTruthData`` ``name``: dSprites binary (64, 64, 1), Shapes3D
    (64, 64, 3) float32 images in [0, 1].

  Raises:
    FileNotFoundError: ``data_dir`` missing or the dataset not prepared there.
    ValueError: unknown name, missing features, labels off the grid,
      duplicated or missing grid points, non-binary dSprites images.
    TypeError: images not uint8.
  """
  if name not in _SPECS:
    raise ValueError(f'no TFDS loader for {name!r}; valid: {sorted(_SPECS)}')
  labels, names, sizes, binary = _SPECS[name]
  return _load(name, labels, names,
               sizes if factor_sizes is None else factor_sizes,
               data_dir, split, download, binary=binary)


# dSprites and Shapes3D from TFDS: ``load(name, ...)`` with the name bound.
load_dsprites = functools.partial(load, 'dsprites')
load_shapes3d = functools.partial(load, 'shapes3d')

LOADERS = {'dsprites': load_dsprites, 'shapes3d': load_shapes3d}
