"""Ground-truth datasets: factor grids, renderers, loaders, variants, samplers.

``load(name, **options)`` is the single entry point. Procedural look-alikes of
dSprites and Shapes3D are the default; real files are used with
``source='file', path=...`` and TFDS with ``source='tfds', data_dir=...``.
Your own factor grid: ``from_arrays(images, factors, factor_names,
factor_sizes)``, or a file of the generic layout with ``from_arrays(path)`` /
``load('arrays', path=...)`` (``data.arrays``); ``data.export`` writes any
dataset and variant in that layout and in the real files' layouts.
"""

from __future__ import annotations

from typing import Any

from disent_bias.data import arrays
from disent_bias.data import base
from disent_bias.data import samplers
from disent_bias.data import state_space
from disent_bias.data import variants
from disent_bias.data.arrays import from_arrays
from disent_bias.data.base import GroundTruthData
from disent_bias.data.state_space import StateSpace
from disent_bias.data.variants import VARIANTS
from disent_bias.utils import checks

SOURCES = ('procedural', 'file', 'tfds')


def _procedural():
  from disent_bias.data import dsprites, shapes3d, synthetic, tiers  # pylint: disable=g-import-not-at-top
  table = {
      'dsprites': dsprites.make_dsprites,
      'shapes3d': shapes3d.make_shapes3d,
      'synthetic_linear': synthetic.make_linear,
      'synthetic_nonlinear': synthetic.make_nonlinear,
      **tiers.DATASETS,
  }
  try:
    from disent_bias.data import toy  # pylint: disable=g-import-not-at-top
    table.update(toy.DATASETS)
  except ImportError:
    pass
  return table


def _file():
  from disent_bias.data import files  # pylint: disable=g-import-not-at-top
  return files.LOADERS


def _tfds():
  from disent_bias.data import tfds_loader  # pylint: disable=g-import-not-at-top
  return tfds_loader.LOADERS


_FILE_ONLY = ('arrays', 'mpi3d_toy', 'mpi3d_realistic', 'mpi3d_real')


def names() -> tuple[str, ...]:
  """All dataset names that ``load`` accepts."""
  return tuple(sorted(set(_procedural()) | set(_FILE_ONLY)))


def load(name: str, *, source: str | None = None, variant: str = 'original',
         epsilon: float | None = None, **options) -> GroundTruthData:
  """Loads a ground-truth dataset.

  Args:
    name: dataset name; see ``names()``.
    source: ``'procedural'`` (default where available), ``'file'`` (needs
      ``path=``) or ``'tfds'`` (needs ``data_dir=``). MPI3D and ``'arrays'``
      (a generic-layout file, ``data.arrays``) are file-only.
    variant: ``'original'``, ``'perturbed'`` or ``'noise'``.
    epsilon: perturbation amplitude; dataset default when None.
    **options: passed to the constructor (e.g. ``path``, grid options).

  Returns:
    A ``GroundTruthData``.

  Raises:
    ValueError: unknown name, source or variant.
  """
  if source is None:
    source = 'file' if name in _FILE_ONLY else 'procedural'
  if source not in SOURCES:
    raise ValueError(f'unknown source {source!r}; valid: {", ".join(SOURCES)}')
  table = {'procedural': _procedural, 'file': _file, 'tfds': _tfds}[source]()
  if name not in table:
    valid = ', '.join(sorted(table))
    raise ValueError(
        f'unknown dataset {name!r} for source {source!r}; valid: {valid}')
  dataset = table[name](**options)
  return variants.apply_variant(dataset, variant, epsilon)


def validate_config(data: Any) -> None:
  """Checks ``config.data``: dataset name, variant, epsilon and source.

  Raises:
    ValueError: an unknown name, variant or source, or an impossible epsilon.
    TypeError: a field of the wrong type.
  """
  checks.check_type(data.name, lambda x: isinstance(x, str), 'data.name',
                    'a str')
  try:
    known = names()
  except ImportError:  # A dataset module is missing; load() will tell.
    known = None
  if known is not None:
    checks.check_choice(data.name, known, 'dataset')
  checks.check_choice(data.variant, VARIANTS, 'data.variant')
  checks.check_type(data.epsilon, checks.is_number, 'data.epsilon', 'a float',
                    optional=True)
  if data.epsilon is not None:
    checks.check(0.0 < data.epsilon <= 1.0,
                 f'data.epsilon must be in (0, 1], got {data.epsilon}')
    checks.check(data.variant != 'original',
                 f'data.epsilon={data.epsilon} is set but data.variant='
                 "'original' is not perturbed; set "
                 '--config.data.variant=perturbed or noise, or drop '
                 'data.epsilon')
  if data.source is not None:
    checks.check_choice(data.source, SOURCES, 'data.source')


def load_config(data: Any) -> GroundTruthData:
  """``load`` with the options of a config's ``data`` section."""
  options = {}
  if data.path is not None:
    options['path'] = data.path
  if data.data_dir is not None:
    options['data_dir'] = data.data_dir
  return load(data.name, source=data.source, variant=data.variant,
              epsilon=data.epsilon, **options)


__all__ = ['GroundTruthData', 'StateSpace', 'VARIANTS', 'SOURCES', 'load',
           'from_arrays', 'arrays',
           'load_config', 'validate_config', 'names', 'base', 'samplers',
           'state_space', 'variants']
