"""Export any dataset and variant to files other frameworks read.

Layouts (``LAYOUTS``):

- ``'generic'``: ``images`` (N, *obs) at their dtype (``storage_dtype``:
  bool for binary data, uint8 where every value is k / 255, else float32),
  ``factors`` int64 (N, K) class indices, ``factor_names`` (K,) strings,
  ``factor_sizes`` int64 (K,); rows in row-major grid order (last factor
  fastest). As ``.npz`` (uncompressed, so it can be memory-mapped) or HDF5
  (``.h5`` / ``.hdf5``, contiguous datasets). ``data.from_arrays(path)``
  reads it back bit-identically.
- ``'dsprites'``: the published ``dsprites_ndarray_*.npz`` (members
  ``metadata``, ``imgs`` uint8 (N, H, W) 0/1, ``latents_classes`` int64
  (N, 6) with the constant colour column first, ``latents_values`` float64
  (N, 6), in that order) for binary images on dSprites' five factors;
  ``data.load('dsprites', source='file', path=..., factor_sizes=...)``
  reads it (no ``factor_sizes`` for the full grid).
- ``'shapes3d'``: the published ``3dshapes.h5`` (``images`` uint8
  (N, H, W, 3), ``labels`` float64 (N, 6) factor values) for uint8-exact
  images on Shapes3D's six factors; ``data.load('shapes3d', source='file',
  ...)`` reads it.

Every file is written whole and atomically (``workdir.write_bytes``).
"""

from __future__ import annotations

import io
import os
import numpy as np

from disent_bias.data import base
from disent_bias.data import dsprites
from disent_bias.data import shapes3d
from disent_bias.metrics import sampling
from disent_bias.utils import workdir

LAYOUTS = ('generic', 'dsprites', 'shapes3d')
STORAGE_DTYPES = ('bool', 'uint8', 'float32')
CHUNK = 4096  # Grid points rendered per call.
# Published factor values per class, as (first, last) of an even spacing
# (``latents_values`` / ``labels``); a reduced grid spaces its classes over
# the same range.
DSPRITES_RANGES = ((1.0, 3.0), (0.5, 1.0), (0.0, 2 * np.pi), (0.0, 1.0),
                   (0.0, 1.0))
SHAPES3D_RANGES = ((0.0, 0.9), (0.0, 0.9), (0.0, 0.9), (0.75, 1.25),
                   (0.0, 3.0), (-30.0, 30.0))


def render_grid(dataset: base.GroundTruthData) -> np.ndarray:
  """Every grid point's observation in index order: float32 (N, *obs)."""
  parts = []
  for start in range(0, dataset.num_points, CHUNK):
    index = np.arange(start, min(start + CHUNK, dataset.num_points))
    parts.append(sampling.observe(dataset, dataset.index_to_factors(index)))
  return np.concatenate(parts).astype(np.float32, copy=False)


def storage_dtype(dataset: base.GroundTruthData, images: np.ndarray) -> str:
  """The dtype that keeps ``images`` (float32 renders) exactly.

  bool for a binary dataset, uint8 when every value is k / 255 (images read
  from uint8 files), else float32.
  """
  if dataset.binary and np.isin(images, (0.0, 1.0)).all():
    return 'bool'
  as_uint8 = np.round(images * 255.0).astype(np.uint8)
  if np.array_equal(as_uint8.astype(np.float32) / np.float32(255.0), images):
    return 'uint8'
  return 'float32'


def to_storage(images: np.ndarray, dtype: str) -> np.ndarray:
  """float32 renders (N, *obs) -> the stored dtype, checked lossless.

  Raises:
    ValueError: an unknown dtype, or one that would change the images.
  """
  if dtype not in STORAGE_DTYPES:
    raise ValueError(f'dtype must be one of {", ".join(STORAGE_DTYPES)}, got '
                     f'{dtype!r}')
  if dtype == 'float32':
    return images
  stored = (images > 0.5) if dtype == 'bool' else np.round(
      images * 255.0).astype(np.uint8)
  back = stored.astype(np.float32)
  if dtype == 'uint8':
    back = back / np.float32(255.0)
  if not np.array_equal(back, images):
    raise ValueError(f'the images are not exactly {dtype} (e.g. a perturbed '
                     'variant); store them as float32 (dtype=None chooses)')
  return stored


def generic_arrays(dataset: base.GroundTruthData, dtype: str | None = None
                   ) -> dict[str, np.ndarray]:
  """The generic layout's four arrays of a dataset (``dtype`` None: auto)."""
  images = render_grid(dataset)
  dtype = dtype or storage_dtype(dataset, images)
  return {
      'images': to_storage(images, dtype),
      'factors': np.asarray(dataset.all_factors(), np.int64),
      'factor_names': np.asarray(dataset.factor_names, np.str_),
      'factor_sizes': np.asarray(dataset.factor_sizes, np.int64),
  }


def write_npz(path: str, arrays: dict[str, np.ndarray]) -> str:
  """Uncompressed ``.npz`` of ``arrays`` (members in their order)."""
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  workdir.write_bytes(path, buffer.getvalue())
  return path


def write_hdf5(path: str, arrays: dict[str, np.ndarray]) -> str:
  """HDF5 file of ``arrays`` as contiguous datasets (strings as UTF-8)."""
  import h5py  # pylint: disable=g-import-not-at-top
  buffer = io.BytesIO()
  with h5py.File(buffer, 'w') as h5:
    for key, value in arrays.items():
      if value.dtype.kind == 'U':
        h5.create_dataset(key, data=value.astype(object),
                          dtype=h5py.string_dtype())
      else:
        h5.create_dataset(key, data=value)
  workdir.write_bytes(path, buffer.getvalue())
  return path


def file_format(path: str) -> str:
  """``'npz'`` or ``'hdf5'`` from the file name.

  Raises:
    ValueError: another extension.
  """
  ext = os.path.splitext(path)[1].lower()
  if ext == '.npz':
    return 'npz'
  if ext in ('.h5', '.hdf5'):
    return 'hdf5'
  raise ValueError(f'{path}: the file name must end in .npz, .h5 or .hdf5')


def _require_grid(dataset: base.GroundTruthData, names: tuple[str, ...],
                  layout: str) -> None:
  if tuple(dataset.factor_names) != names:
    raise ValueError(
        f'the {layout} layout needs the factors {names}, {dataset.name} has '
        f'{dataset.factor_names} (a subgrid that keeps one value of a factor '
        'drops it); use the generic layout')


def _values(dataset: base.GroundTruthData, ranges) -> np.ndarray:
  """float64 (N, K) factor values, each factor's classes evenly spaced."""
  factors = np.asarray(dataset.all_factors(), np.int64)
  columns = [np.linspace(lo, hi, size)[factors[:, k]]
             for k, ((lo, hi), size) in enumerate(zip(ranges,
                                                      dataset.factor_sizes))]
  return np.stack(columns, axis=1)


def dsprites_arrays(dataset: base.GroundTruthData) -> dict[str, np.ndarray]:
  """The published dSprites members, in the published order.

  Raises:
    ValueError: not dSprites' five factors, or images that are not binary
      (H, W, 1).
  """
  _require_grid(dataset, dsprites.FACTOR_NAMES, 'dsprites')
  obs = dataset.observation_shape
  if len(obs) != 3 or obs[-1] != 1:
    raise ValueError(f'the dsprites layout needs (H, W, 1) images, got {obs}')
  images = render_grid(dataset)
  if storage_dtype(dataset, images) != 'bool':
    raise ValueError(f'the dsprites layout needs binary images; '
                     f'{dataset.name} ({dataset.variant}) is not binary: use '
                     'the generic layout')
  factors = np.asarray(dataset.all_factors(), np.int64)
  colour = np.zeros((len(factors), 1), np.int64)
  values = np.concatenate([np.ones((len(factors), 1)),
                           _values(dataset, DSPRITES_RANGES)], axis=1)
  names = ('color',) + dsprites.FACTOR_NAMES
  sizes = (1,) + tuple(dataset.factor_sizes)
  metadata = {
      'description': f'{dataset.name} ({dataset.variant}) exported by '
                     'disent_bias in the dSprites layout',
      'latents_names': names,
      'latents_sizes': np.asarray(sizes, np.int64),
      'latents_possible_values': {
          n: np.unique(values[:, k]) for k, n in enumerate(names)},
  }
  return {
      'metadata': np.array(metadata, dtype=object),
      'imgs': images[..., 0].astype(np.uint8),
      'latents_classes': np.concatenate([colour, factors], axis=1),
      'latents_values': values,
  }


def shapes3d_arrays(dataset: base.GroundTruthData) -> dict[str, np.ndarray]:
  """The published Shapes3D datasets (``images``, ``labels``).

  Raises:
    ValueError: not Shapes3D's six factors, or images that are not uint8
      exact (H, W, 3).
  """
  _require_grid(dataset, shapes3d.FACTOR_NAMES, 'shapes3d')
  obs = dataset.observation_shape
  if len(obs) != 3 or obs[-1] != 3:
    raise ValueError(f'the shapes3d layout needs (H, W, 3) images, got {obs}')
  images = render_grid(dataset)
  if storage_dtype(dataset, images) == 'float32':
    raise ValueError(f'the shapes3d layout needs uint8 images; '
                     f'{dataset.name} ({dataset.variant}) is not exactly '
                     'uint8: use the generic layout')
  return {'images': to_storage(images, 'uint8'),
          'labels': _values(dataset, SHAPES3D_RANGES)}


def export(dataset: base.GroundTruthData, path: str | os.PathLike, *,
           layout: str = 'generic', dtype: str | None = None) -> str:
  """Writes every grid point of ``dataset`` (any variant) to ``path``.

  Args:
    dataset: any ``GroundTruthData`` (procedural, file, ``from_arrays``;
      original, perturbed or noise).
    path: ``.npz`` or ``.h5`` / ``.hdf5`` (the generic layout); the
      dsprites layout is ``.npz``, the shapes3d layout HDF5.
    layout: one of ``LAYOUTS``.
    dtype: the generic layout's image dtype (``STORAGE_DTYPES``); None
      chooses the smallest exact one (``storage_dtype``).

  Returns:
    The path written.

  Raises:
    ValueError: an unknown layout, a wrong extension for it, a grid or
      images the layout cannot hold, a lossy ``dtype``.
  """
  path = os.fspath(path)
  if layout not in LAYOUTS:
    raise ValueError(f'unknown layout {layout!r}; valid: {", ".join(LAYOUTS)}')
  kind = file_format(path)
  want = {'dsprites': 'npz', 'shapes3d': 'hdf5'}.get(layout, kind)
  if kind != want:
    raise ValueError(f'{path}: the {layout} layout is written as {want}')
  if dtype is not None and layout != 'generic':
    raise ValueError(f'dtype= applies to the generic layout, not {layout}')
  if layout == 'dsprites':
    arrays = dsprites_arrays(dataset)
  elif layout == 'shapes3d':
    arrays = shapes3d_arrays(dataset)
  else:
    arrays = generic_arrays(dataset, dtype)
  return (write_npz if kind == 'npz' else write_hdf5)(path, arrays)


__all__ = ['LAYOUTS', 'STORAGE_DTYPES', 'render_grid', 'storage_dtype',
           'to_storage', 'generic_arrays', 'dsprites_arrays',
           'shapes3d_arrays', 'write_npz', 'write_hdf5', 'file_format',
           'export']
