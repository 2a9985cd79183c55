r"""Reproduces the paper's table: ``disent_bias.reproduce.reproduce``.

  python -m experiments.reproduce \
    --config=experiments/configs/reproduce.py:quick --workdir=/tmp/quick

Writes ``workdir/results.json``, ``table.md``, ``bars.png``, the per-variant
dataset analysis (``analysis/``, ``analysis.png``) and one training workdir
per cell under ``workdir/cells/``. Rerunning the same command skips finished
cells and resumes interrupted ones from their checkpoints.
"""

from absl import app
from absl import flags
from ml_collections import config_flags

from disent_bias import reproduce
from disent_bias import logging_utils
from disent_bias import workdir
from experiments import cli

_WORKDIR = flags.DEFINE_string('workdir', None, 'Output directory of the '
                               'reproduction (cells, results, table, plots).',
                               required=True)
config_flags.DEFINE_config_file(
    'config', None, 'Reproduction config (experiments/configs/reproduce.py:'
    'quick|paper|smoke).', lock_config=True)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}')
  logging_utils.quiet_third_party_logs()
  with cli.one_line_errors(workdir.WorkdirBusyError):
    reproduce.reproduce(flags.FLAGS.config, _WORKDIR.value)


if __name__ == '__main__':
  flags.mark_flags_as_required(['config'])
  app.run(main, flags_parser=cli.parse_flags)
