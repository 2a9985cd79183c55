r"""Bounded jobs of a reproduction protocol, and their ingestion.

On the accelerator (a batch job with a wall-time limit):

  disent-bias-job --config=disent_bias/configs/reproduce.py:paper_core \
    --out=DIR --budget_s=540

trains the protocol's next pending units (``disent_bias/reproduce/units.py``:
blocks of seeds of a cell that finish inside one job) while they fit the
budget, scores MIG there, saves each seed's metric sample and packs it all
into at most 8 files under DIR (``job.json``, ``job.log``, ``part-*.zip``).
The ledger read is ``--ledger``, by default ``results/<protocol>/ledger.json``
under the current directory (the checkout's ``python -m experiments.job``:
of the repository, after installing missing packages from ``.whl/``).

Then, on any CPU machine:

  disent-bias-job --config=disent_bias/configs/reproduce.py:paper_core \
    --ingest=DIR --workdir=results/paper_core

checks the folder, scores DCI from the saved samples, adds the units to
``WORKDIR/ledger.json`` and writes the protocol's ``table.md`` and
``results.json``. Both are idempotent. docs/gpu.md describes the cycle.
"""

from __future__ import annotations

import functools
import os

from absl import app
from absl import flags
from ml_collections import config_flags

from disent_bias.cli import common
from disent_bias.reproduce import ingest as ingest_lib
from disent_bias.reproduce import job as job_lib
from disent_bias.reproduce import units


# The folders and files the binary reads or writes: flag -> help.
_PATH_FLAGS = {
    'out': 'Job mode: the folder the job packs its units into (continued '
           'if it holds a job).',
    'ledger': 'Job mode: the ledger of done units (default: '
              'results/<protocol>/ledger.json).',
    'scratch': 'Job mode: where units train (default: a temporary folder, '
               'removed).',
    'ingest': 'Ingest mode: a job folder to merge into --workdir.',
    'workdir': "Ingest mode: the protocol's results (ledger.json, table.md, "
               'units/).',
}


def define_flags() -> None:
  """The binary's flags: a job (``--out``, ``--budget_s``) or an ingestion
  (``--ingest``, ``--workdir``) of ``--config``."""
  config_flags.DEFINE_config_file(
      'config', None, 'Reproduction config with a job section (disent_bias/'
      'configs/reproduce.py:paper_core|paper|job_smoke).', lock_config=True)
  for name, text in _PATH_FLAGS.items():
    flags.DEFINE_string(name, None, text)
  flags.DEFINE_float('budget_s', None, 'Job mode: wall seconds this job may '
                     'use, packing included.')
  flags.DEFINE_integer('max_units', None, 'Job mode: at most this many units.')
  flags.mark_flags_as_required(['config'])


def default_ledger(name: str, root: str) -> str:
  """``results/<protocol>/ledger.json`` under ``root``."""
  return os.path.join(root, 'results', name, units.LEDGER_FILE)


def main(argv: list[str], root: str = '.') -> None:
  """Runs a job or an ingestion; ``root`` holds the default ledger."""
  f = flags.FLAGS
  with common.binary(argv):
    if f.ingest is not None:
      if f.workdir is None:
        raise app.UsageError('--ingest needs --workdir (the protocol\'s '
                             'results, e.g. results/paper_core)')
      ingest_lib.ingest(f.config, f.ingest, f.workdir)
      return
    if f.out is None or f.budget_s is None:
      raise app.UsageError('give --out and --budget_s (a job), or --ingest '
                           'and --workdir')
    job_lib.run_job(f.config, f.out, budget_seconds=f.budget_s,
                    ledger_path=f.ledger or default_ledger(f.config.name,
                                                           root),
                    scratch_dir=f.scratch, max_units=f.max_units)


def entry(argv: list[str] | None = None, root: str = '.') -> None:
  """The ``disent-bias-job`` console script (``root``: see ``main``)."""
  common.run(define_flags, functools.partial(main, root=root), argv)
