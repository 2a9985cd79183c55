r"""The 2019 predecessor's linear task and equal-scale test.

Run (10 seeds per cell, about 2 CPU-minutes):

  python -m experiments.pca2019 --workdir=results/pca2019

Trains the beta-VAE and the AE of ``experiments/configs/pca2019.py`` on the
linear task at each scale ratio (``disent_bias.studies.pca2019``) and writes
``workdir/pca2019.json`` (per-seed scores) and ``workdir/table.md``
(docs/analysis.md, "The 2019 checks").
"""

from __future__ import annotations

import os

from absl import app
from absl import flags
from absl import logging

from disent_bias.cli import common as cli
from disent_bias.configs import pca2019 as pca2019_config
from disent_bias.studies import pca2019
from disent_bias.utils import provenance
from disent_bias.utils import workdir as workdir_lib

_WORKDIR = flags.DEFINE_string('workdir', None, 'output directory',
                               required=True)
_RATIOS = flags.DEFINE_list(
    'ratios', [str(r) for r in pca2019_config.RATIOS],
    'scale ratios of the two factors')
_NUM_SEEDS = flags.DEFINE_integer('num_seeds', pca2019_config.NUM_SEEDS,
                                  'seeds per (ratio, model)')
_NUM_STEPS = flags.DEFINE_integer('num_steps', pca2019_config.NUM_STEPS,
                                  'training steps')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  with cli.user_errors():
    configs = {m: pca2019_config.get_config(m)
               for m in pca2019_config.MODELS}
    records = pca2019.run(
        configs, [float(r) for r in _RATIOS.value],
        base_scale=pca2019_config.BASE_SCALE,
        factor_size=pca2019_config.FACTOR_SIZE,
        num_seeds=_NUM_SEEDS.value, num_steps=_NUM_STEPS.value,
        log=logging.info)
    workdir = _WORKDIR.value
    os.makedirs(workdir, exist_ok=True)
    workdir_lib.write_json(
        os.path.join(workdir, 'pca2019.json'),
        {'provenance': provenance.provenance(), 'records': records}, indent=1)
    workdir_lib.write_text(os.path.join(workdir, 'table.md'),
                           pca2019.table(records))
    logging.info('wrote %s', workdir)


if __name__ == '__main__':
  app.run(main)
