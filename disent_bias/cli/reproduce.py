r"""Reproduces the paper's table: ``disent_bias.reproduce.reproduce``.

  disent-bias-reproduce \
    --config=disent_bias/configs/reproduce.py:quick --workdir=/tmp/quick

Job arrays: ``--shard=I --num_shards=N`` runs cells I, I + N, ... of the grid
in the shared workdir (e.g. ``--shard=$SLURM_ARRAY_TASK_ID``); the same command
without ``--shard`` afterwards writes the table of the whole grid, and
``disent-bias-aggregate WORKDIR`` collects every cell's seeds.

The config carries the base train config of every cell
(``config.base_train``, ``disent_bias/configs/default.py``'s), so e.g.
``--config.base_train.optimizer.b2=0.99`` changes it for every cell.

Writes ``workdir/results.json``, ``table.md``, ``bars.png``, the per-variant
dataset analysis (``analysis/``, ``analysis.png``) and one training workdir
per cell under ``workdir/cells/``. Rerunning the same command skips finished
cells and resumes interrupted ones from their checkpoints.
"""

from __future__ import annotations

from absl import app
from absl import flags
from ml_collections import config_flags

from disent_bias import reproduce
from disent_bias.cli import common


def define_flags() -> None:
  """The binary's flags."""
  flags.DEFINE_string('workdir', None, 'Output directory of the reproduction '
                      '(cells, results, table, plots).', required=True)
  config_flags.DEFINE_config_file(
      'config', None, 'Reproduction config (disent_bias/configs/reproduce.py:'
      'quick|paper|images|smoke|eps_dose), from any directory.',
      lock_config=True)
  flags.DEFINE_integer('shard', None, 'Run only part SHARD of NUM_SHARDS of '
                       'the grid (a job array task).')
  flags.DEFINE_integer('num_shards', None, 'Parts the grid is split into '
                       '(with --shard).')
  flags.mark_flags_as_required(['config'])


def shard(index: int | None, count: int | None) -> reproduce.Shard | None:
  """The ``--shard`` / ``--num_shards`` pair (None without them)."""
  if (index is None) != (count is None):
    raise app.UsageError('--shard and --num_shards go together')
  if index is None:
    return None
  try:
    return reproduce.Shard(index, count)
  except ValueError as e:
    raise app.UsageError(str(e)) from e


def main(argv: list[str]) -> None:
  """Runs (a shard of) the grid of ``--config`` in ``--workdir``."""
  f = flags.FLAGS
  with common.binary(argv):
    reproduce.reproduce(f.config, f.workdir,
                        shard=shard(f.shard, f.num_shards))


def entry(argv: list[str] | None = None) -> None:
  """The ``disent-bias-reproduce`` console script."""
  common.run(define_flags, main, argv)
