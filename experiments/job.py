r"""Bounded jobs of a reproduction protocol, and their ingestion.

On the accelerator (a batch job with a wall-time limit), from the repository
root of a copy of the repository:

  python -m experiments.job \
    --config=experiments/configs/reproduce.py:paper_core --out=DIR \
    --budget_s=540

trains the protocol's next pending units (``disent_bias/reproduce/units.py``:
blocks of seeds of a cell that finish inside one job) while they fit the
budget, scores MIG there, saves each seed's metric sample and packs it all
into at most 8 files under DIR (``job.json``, ``job.log``, ``part-*.zip``).
Missing packages (ml-collections) are installed from the wheels in ``.whl/``
first (``experiments/bootstrap.py``). The ledger read is
``results/<protocol>/ledger.json`` of the repository (``--ledger``).

Then, on any CPU machine with the repository:

  python -m experiments.job \
    --config=experiments/configs/reproduce.py:paper_core --ingest=DIR \
    --workdir=results/paper_core

checks the folder, scores DCI from the saved samples, adds the units to
``WORKDIR/ledger.json`` and writes the protocol's ``table.md`` and
``results.json``. Both are idempotent. docs/gpu.md describes the cycle.
"""

from experiments import bootstrap

bootstrap.ensure_packages()

# pylint: disable=g-import-not-at-top,wrong-import-position
import os

from absl import app
from absl import flags
from ml_collections import config_flags

from disent_bias.utils import logging_utils
from disent_bias.reproduce import ingest as ingest_lib
from disent_bias.reproduce import job as job_lib
from disent_bias.reproduce import units
from disent_bias.cli import common as cli

config_flags.DEFINE_config_file(
    'config', None, 'Reproduction config with a job section (experiments/'
    'configs/reproduce.py:paper_core|paper|job_smoke).', lock_config=True)
_OUT = flags.DEFINE_string('out', None, 'Job mode: the folder the job packs '
                           'its units into (continued if it holds a job).')
_BUDGET = flags.DEFINE_float('budget_s', None, 'Job mode: wall seconds this '
                             'job may use, packing included.')
_LEDGER = flags.DEFINE_string(
    'ledger', None, 'Job mode: the ledger of done units (default: '
    'results/<protocol>/ledger.json in the repository).')
_MAX_UNITS = flags.DEFINE_integer('max_units', None, 'Job mode: at most this '
                                  'many units.')
_SCRATCH = flags.DEFINE_string('scratch', None, 'Job mode: where units train '
                               '(default: a temporary folder, removed).')
_INGEST = flags.DEFINE_string('ingest', None, 'Ingest mode: a job folder '
                              'to merge into --workdir.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Ingest mode: the protocol\'s '
                               'results (ledger.json, table.md, units/).')


def default_ledger(name: str) -> str:
  """``results/<protocol>/ledger.json`` of the repository."""
  return os.path.join(bootstrap.ROOT, 'results', name, units.LEDGER_FILE)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}')
  logging_utils.quiet_third_party_logs()
  config = flags.FLAGS.config
  with cli.user_errors():
    if _INGEST.value is not None:
      if _WORKDIR.value is None:
        raise app.UsageError('--ingest needs --workdir (the protocol\'s '
                             'results, e.g. results/paper_core)')
      ingest_lib.ingest(config, _INGEST.value, _WORKDIR.value)
      return
    if _OUT.value is None or _BUDGET.value is None:
      raise app.UsageError('give --out and --budget_s (a job), or --ingest '
                           'and --workdir')
    job_lib.run_job(config, _OUT.value, budget_seconds=_BUDGET.value,
                    ledger_path=_LEDGER.value or default_ledger(config.name),
                    scratch_dir=_SCRATCH.value, max_units=_MAX_UNITS.value)


if __name__ == '__main__':
  flags.mark_flags_as_required(['config'])
  app.run(main, flags_parser=cli.parse_flags)
