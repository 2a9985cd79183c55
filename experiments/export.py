r"""Writes a dataset variant to a file other frameworks read.

Run:
  python -m experiments.export --dataset=dsprites --variant=perturbed \
    --out=/tmp/dsprites_perturbed.h5
  python -m experiments.export --dataset=dsprites --layout=dsprites \
    --out=/tmp/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz
  python -m experiments.export --dataset=arrays --path=mine.npz \
    --variant=noise --out=/tmp/mine_noise.npz

Layouts (``disent_bias.data.export``): ``generic`` (``.npz`` or ``.h5``:
images at their dtype, factor indices, names and sizes; read back by
``disent_bias.data.from_arrays(path)``, from PyTorch as docs/own_data.md
shows), ``dsprites`` (the published npz, binary images only) and
``shapes3d`` (the published h5, uint8 images only). The whole grid is
rendered in memory: the full dSprites grid takes about 3 GB as float32.
"""

from absl import app
from absl import flags
from absl import logging

from disent_bias import data
from disent_bias import errors
from disent_bias.data import export
from disent_bias.cli import common as cli

_DATASET = flags.DEFINE_string('dataset', 'dsprites', 'Dataset name.')
_SOURCE = flags.DEFINE_enum('source', None, list(data.SOURCES),
                            'Where the data come from; the default source '
                            'of the dataset if unset.')
_PATH = flags.DEFINE_string('path', None, 'Input file (file sources, '
                            'arrays).')
_VARIANT = flags.DEFINE_enum('variant', 'original', list(data.VARIANTS),
                             'Dataset variant.')
_EPSILON = flags.DEFINE_float('epsilon', None,
                              'Variant amplitude; dataset default if unset.')
_LAYOUT = flags.DEFINE_enum('layout', 'generic', list(export.LAYOUTS),
                            'File layout.')
_DTYPE = flags.DEFINE_enum('dtype', None, list(export.STORAGE_DTYPES),
                           'Image dtype of the generic layout; the smallest '
                           'exact one if unset.')
_OUT = flags.DEFINE_string('out', None, 'Output file (.npz, .h5, .hdf5).',
                           required=True)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  options = {} if _PATH.value is None else {'path': _PATH.value}
  with cli.user_errors():
    with errors.user_input():
      dataset = data.load(_DATASET.value, source=_SOURCE.value,
                          variant=_VARIANT.value, epsilon=_EPSILON.value,
                          **options)
      path = export.export(dataset, _OUT.value, layout=_LAYOUT.value,
                           dtype=_DTYPE.value)
  logging.info('wrote %s (%s, %d grid points)', path, dataset, dataset.num_points)


if __name__ == '__main__':
  app.run(main)
