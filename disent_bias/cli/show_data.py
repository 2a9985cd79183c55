"""Writes a PNG of a dataset: random samples and one traversal row per factor.

  disent-bias-show-data --dataset=shapes3d --out=/tmp/data
  disent-bias-show-data --dataset=dsprites --variant=noise --out=DIR

Writes ``DIR/<dataset>.png`` (``DIR/<dataset>_<variant>.png`` for a variant)
in a few seconds on a CPU.
"""

from __future__ import annotations

import os

from absl import app
from absl import flags
from absl import logging

from disent_bias import data
from disent_bias.cli import common
from disent_bias.utils import errors
from disent_bias.utils import plotting


def define_flags() -> None:
  """The binary's flags."""
  flags.DEFINE_string('dataset', 'dsprites', 'Dataset name.')
  flags.DEFINE_string('out', None, 'Output folder.', required=True)
  flags.DEFINE_enum('variant', 'original', list(data.VARIANTS),
                    'Dataset variant.')
  flags.DEFINE_float('epsilon', None,
                     'Variant amplitude; dataset default if unset.')
  flags.DEFINE_integer('seed', 0, 'Seed of the random samples.')
  flags.DEFINE_integer('num_samples', 16, 'Number of random samples.')


def main(argv: list[str]) -> None:
  """Writes the overview PNG of ``--dataset``."""
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  f = flags.FLAGS
  with common.user_errors():
    with errors.user_input():
      dataset = data.load(f.dataset, variant=f.variant, epsilon=f.epsilon)
    path = os.path.join(f.out, plotting.overview_filename(
        dataset.name, dataset.variant))
    plotting.save_dataset_overview(dataset, path, seed=f.seed,
                                   num_samples=f.num_samples)
  logging.info('wrote %s', path)


def entry(argv: list[str] | None = None) -> None:
  """The ``disent-bias-show-data`` console script."""
  common.run(define_flags, main, argv)
