r"""Trains models: ``disent_bias.training.train.train_and_evaluate(config, workdir)``.

  disent-bias-train --config=disent_bias/configs/default.py \
    --workdir=/tmp/run --config.model.name=beta_vae \
    --config.data.name=dsprites --config.train.num_steps=200 --config.seed=3

(``python -m experiments.train`` in a checkout is the same binary.)
Rerunning the same command resumes from the newest good checkpoint in
``workdir/checkpoints``. A workdir made by a different config is refused
(the message names the fields); ``--restart`` starts over instead and moves
the old run to ``workdir/replaced/<time>/`` (docs/workdir.md). One run in
several processes: the same command in each, with
``--config.distributed.{coordinator_address,num_processes,process_id}``
(docs/workdir.md, "Several processes").
"""

from __future__ import annotations

from absl import flags
from absl import logging
import jax
from ml_collections import config_flags

from disent_bias.cli import common
from disent_bias.training import runner
from disent_bias.training import train


def define_flags() -> None:
  """The binary's flags: ``--workdir``, ``--restart``, ``--config``."""
  flags.DEFINE_string('workdir', None, 'Directory for checkpoints, metrics, '
                      'images and results.', required=True)
  flags.DEFINE_bool('restart', False, 'Start over in a workdir made by a '
                    'different config; the previous run moves to '
                    'WORKDIR/replaced/<time>/.')
  config_flags.DEFINE_config_file(
      'config', None, 'Experiment config file (optionally file.py:presets); '
      'disent_bias/configs/NAME.py works from any directory.',
      lock_config=True)
  flags.mark_flags_as_required(['config'])


def main(argv: list[str]) -> None:
  """Trains ``--config`` in ``--workdir`` (resuming it)."""
  with common.binary(argv):
    config = flags.FLAGS.config
    # Before the first JAX call below: jax.distributed starts first.
    runner.maybe_initialize_distributed(config)
    logging.info('JAX process %d / %d, local devices: %s',
                 jax.process_index(), jax.process_count(), jax.local_devices())
    train.train_and_evaluate(config, flags.FLAGS.workdir,
                             restart=flags.FLAGS.restart)


def entry(argv: list[str] | None = None) -> None:
  """The ``disent-bias-train`` console script."""
  common.run(define_flags, main, argv)
