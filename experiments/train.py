r"""Trains models: ``disent_bias.train.train_and_evaluate(config, workdir)``.

  python -m experiments.train --config=experiments/configs/default.py \
    --workdir=/tmp/run --config.model.name=beta_vae \
    --config.data.name=dsprites --config.train.num_steps=200 --config.seed=3

Rerunning the same command resumes from the latest checkpoint in
``workdir/checkpoints``.
"""

from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags

from disent_bias import train

_WORKDIR = flags.DEFINE_string('workdir', None, 'Directory for checkpoints, '
                               'metrics, images and results.', required=True)
config_flags.DEFINE_config_file(
    'config', None, 'Experiment config file (optionally file.py:presets).',
    lock_config=True)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}')
  logging.info('JAX process %d / %d, local devices: %s', jax.process_index(),
               jax.process_count(), jax.local_devices())
  train.train_and_evaluate(flags.FLAGS.config, _WORKDIR.value)


if __name__ == '__main__':
  flags.mark_flags_as_required(['config'])
  app.run(main)
