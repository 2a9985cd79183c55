r"""Writes a dataset variant to a file other frameworks read.

Run:
  disent-bias-export --dataset=dsprites --variant=perturbed \
    --out=/tmp/dsprites_perturbed.h5
  disent-bias-export --dataset=dsprites --layout=dsprites \
    --out=/tmp/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz
  disent-bias-export --dataset=arrays --path=mine.npz \
    --variant=noise --out=/tmp/mine_noise.npz

Layouts (``disent_bias.data.export``): ``generic`` (``.npz`` or ``.h5``:
images at their dtype, factor indices, names and sizes; read back by
``disent_bias.data.from_arrays(path)``, from PyTorch as docs/own_data.md
shows), ``dsprites`` (the published npz, binary images only) and
``shapes3d`` (the published h5, uint8 images only). The whole grid is
rendered in memory: the full dSprites grid takes about 3 GB as float32.
"""

from __future__ import annotations

from absl import app
from absl import flags
from absl import logging

from disent_bias import data
from disent_bias.cli import common
from disent_bias.data import export
from disent_bias.utils import errors


def define_flags() -> None:
  """The binary's flags."""
  flags.DEFINE_string('dataset', 'dsprites', 'Dataset name.')
  flags.DEFINE_enum('source', None, list(data.SOURCES),
                    'Where the data come from; the default source of the '
                    'dataset if unset.')
  flags.DEFINE_string('path', None, 'Input file (file sources, arrays).')
  flags.DEFINE_enum('variant', 'original', list(data.VARIANTS),
                    'Dataset variant.')
  flags.DEFINE_float('epsilon', None,
                     'Variant amplitude; dataset default if unset.')
  flags.DEFINE_enum('layout', 'generic', list(export.LAYOUTS), 'File layout.')
  flags.DEFINE_enum('dtype', None, list(export.STORAGE_DTYPES),
                    'Image dtype of the generic layout; the smallest exact '
                    'one if unset.')
  flags.DEFINE_string('out', None, 'Output file (.npz, .h5, .hdf5).',
                      required=True)


def main(argv: list[str]) -> None:
  """Writes ``--dataset`` / ``--variant`` to ``--out``."""
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  f = flags.FLAGS
  options = {} if f.path is None else {'path': f.path}
  with common.user_errors():
    with errors.user_input():
      dataset = data.load(f.dataset, source=f.source, variant=f.variant,
                          epsilon=f.epsilon, **options)
      path = export.export(dataset, f.out, layout=f.layout, dtype=f.dtype)
  logging.info('wrote %s (%s, %d grid points)', path, dataset,
               dataset.num_points)


def entry(argv: list[str] | None = None) -> None:
  """The ``disent-bias-export`` console script."""
  common.run(define_flags, main, argv)
