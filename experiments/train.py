r"""Trains models: ``disent_bias.train.train_and_evaluate(config, workdir)``.

  python -m experiments.train --config=experiments/configs/default.py \
    --workdir=/tmp/run --config.model.name=beta_vae \
    --config.data.name=dsprites --config.train.num_steps=200 --config.seed=3

Rerunning the same command resumes from the newest good checkpoint in
``workdir/checkpoints``. A workdir made by a different config is refused
(the message names the fields); ``--restart`` starts over instead and moves
the old run to ``workdir/replaced/<time>/`` (docs/workdir.md). One run in
several processes: the same command in each, with
``--config.distributed.{coordinator_address,num_processes,process_id}``
(docs/workdir.md, "Several processes").
"""

from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags

from disent_bias import logging_utils
from disent_bias import runner
from disent_bias import train
from experiments import cli

_WORKDIR = flags.DEFINE_string('workdir', None, 'Directory for checkpoints, '
                               'metrics, images and results.', required=True)
_RESTART = flags.DEFINE_bool(
    'restart', False, 'Start over in a workdir made by a different config; '
    'the previous run moves to WORKDIR/replaced/<time>/.')
config_flags.DEFINE_config_file(
    'config', None, 'Experiment config file (optionally file.py:presets).',
    lock_config=True)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}')
  logging_utils.quiet_third_party_logs()
  # Before the first JAX call below: jax.distributed starts first.
  runner.maybe_initialize_distributed(flags.FLAGS.config)
  logging.info('JAX process %d / %d, local devices: %s', jax.process_index(),
               jax.process_count(), jax.local_devices())
  with cli.user_errors():
    train.train_and_evaluate(flags.FLAGS.config, _WORKDIR.value,
                             restart=_RESTART.value)


if __name__ == '__main__':
  flags.mark_flags_as_required(['config'])
  app.run(main, flags_parser=cli.parse_flags)
