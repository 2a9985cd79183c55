r"""The 2019 predecessor's linear task and equal-scale test.

Run (10 seeds per cell, about 2 CPU-minutes):

  disent-bias-pca2019 --workdir=results/pca2019

Trains the beta-VAE and the AE of ``disent_bias/configs/pca2019.py`` on the
linear task at each scale ratio (``disent_bias.studies.pca2019``) and writes
``workdir/pca2019.json`` (per-seed scores and provenance) and
``workdir/table.md`` (docs/analysis.md, "The 2019 checks").
"""

from __future__ import annotations

import os

from absl import flags
from absl import logging

from disent_bias.cli import common
from disent_bias.configs import pca2019 as pca2019_config
from disent_bias.studies import pca2019
from disent_bias.utils import atomic_files
from disent_bias.utils import provenance


def define_flags() -> None:
  """The binary's flags."""
  flags.DEFINE_string('workdir', None, 'Output directory.', required=True)
  flags.DEFINE_list('ratios', [str(r) for r in pca2019_config.RATIOS],
                    'Scale ratios of the two factors.')
  flags.DEFINE_integer('num_seeds', pca2019_config.NUM_SEEDS,
                       'Seeds per (ratio, model).')
  flags.DEFINE_integer('num_steps', pca2019_config.NUM_STEPS,
                       'Training steps.')


def main(argv: list[str]) -> None:
  """Trains every (ratio, model) cell and writes the records and table."""
  f = flags.FLAGS
  with common.binary(argv):
    configs = {m: pca2019_config.get_config(m)
               for m in pca2019_config.MODELS}
    records = pca2019.run(
        configs, [float(r) for r in f.ratios],
        base_scale=pca2019_config.BASE_SCALE,
        factor_size=pca2019_config.FACTOR_SIZE,
        num_seeds=f.num_seeds, num_steps=f.num_steps, log=logging.info)
    os.makedirs(f.workdir, exist_ok=True)
    atomic_files.write_json(
        os.path.join(f.workdir, 'pca2019.json'),
        {'provenance': provenance.provenance(), 'records': records}, indent=1)
    atomic_files.write_text(os.path.join(f.workdir, 'table.md'),
                            pca2019.table(records))
    logging.info('wrote %s', f.workdir)


def entry(argv: list[str] | None = None) -> None:
  """The ``disent-bias-pca2019`` console script."""
  common.run(define_flags, main, argv)
