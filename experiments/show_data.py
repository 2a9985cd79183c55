"""Writes a PNG of a dataset: random samples and one traversal row per factor.

Run:
  python -m experiments.show_data --dataset=shapes3d --out=/tmp/data
  python -m experiments.show_data --dataset=dsprites --variant=noise --out=DIR

Writes ``DIR/<dataset>.png`` (``DIR/<dataset>_<variant>.png`` for a variant)
in a few seconds on a CPU.
"""

import os

from absl import app
from absl import flags
from absl import logging

from disent_bias import data
from disent_bias import errors
from disent_bias import plotting
from experiments import cli

_DATASET = flags.DEFINE_string('dataset', 'dsprites', 'Dataset name.')
_OUT = flags.DEFINE_string('out', None, 'Output folder.', required=True)
_VARIANT = flags.DEFINE_enum('variant', 'original', list(data.VARIANTS),
                             'Dataset variant.')
_EPSILON = flags.DEFINE_float('epsilon', None,
                              'Variant amplitude; dataset default if unset.')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the random samples.')
_NUM_SAMPLES = flags.DEFINE_integer('num_samples', 16,
                                    'Number of random samples.')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  with cli.user_errors():
    with errors.user_input():
      dataset = data.load(_DATASET.value, variant=_VARIANT.value,
                          epsilon=_EPSILON.value)
    path = os.path.join(_OUT.value, plotting.overview_filename(
        dataset.name, dataset.variant))
    plotting.save_dataset_overview(dataset, path, seed=_SEED.value,
                                   num_samples=_NUM_SAMPLES.value)
  logging.info('wrote %s', path)


if __name__ == '__main__':
  app.run(main)
