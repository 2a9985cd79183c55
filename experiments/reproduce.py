r"""Reproduces the paper's table: ``disent_bias.reproduce.reproduce``.

  python -m experiments.reproduce \
    --config=experiments/configs/reproduce.py:quick --workdir=/tmp/quick

Job arrays: ``--shard=I --num_shards=N`` runs cells I, I + N, ... of the grid
in the shared workdir (e.g. ``--shard=$SLURM_ARRAY_TASK_ID``); the same command
without ``--shard`` afterwards writes the table of the whole grid, and
``python -m experiments.aggregate WORKDIR`` collects every cell's seeds.

The config carries the base train config of every cell
(``config.base_train``, ``experiments/configs/default.py``'s), so e.g.
``--config.base_train.optimizer.b2=0.99`` changes it for every cell.

Writes ``workdir/results.json``, ``table.md``, ``bars.png``, the per-variant
dataset analysis (``analysis/``, ``analysis.png``) and one training workdir
per cell under ``workdir/cells/``. Rerunning the same command skips finished
cells and resumes interrupted ones from their checkpoints.
"""

from absl import app
from absl import flags
from ml_collections import config_flags

from disent_bias import logging_utils
from disent_bias import reproduce
from experiments import cli

_WORKDIR = flags.DEFINE_string('workdir', None, 'Output directory of the '
                               'reproduction (cells, results, table, plots).',
                               required=True)
config_flags.DEFINE_config_file(
    'config', None, 'Reproduction config (experiments/configs/reproduce.py:'
    'quick|paper|images|smoke|eps_dose).', lock_config=True)
_SHARD = flags.DEFINE_integer('shard', None, 'Run only part SHARD of '
                              'NUM_SHARDS of the grid (a job array task).')
_NUM_SHARDS = flags.DEFINE_integer('num_shards', None, 'Parts the grid is '
                                   'split into (with --shard).')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}')
  logging_utils.quiet_third_party_logs()
  with cli.user_errors():
    reproduce.reproduce(flags.FLAGS.config, _WORKDIR.value, shard=_shard())


def _shard() -> reproduce.Shard | None:
  """The ``--shard`` / ``--num_shards`` pair (None without them)."""
  if (_SHARD.value is None) != (_NUM_SHARDS.value is None):
    raise app.UsageError('--shard and --num_shards go together')
  if _SHARD.value is None:
    return None
  try:
    return reproduce.Shard(_SHARD.value, _NUM_SHARDS.value)
  except ValueError as e:
    raise app.UsageError(str(e)) from e


if __name__ == '__main__':
  flags.mark_flags_as_required(['config'])
  app.run(main, flags_parser=cli.parse_flags)
