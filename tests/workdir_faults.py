"""Helpers of the workdir-contract tests (workdir_test, workdir_files_test):
copy the trained workdir (the ``trained`` fixture, tests/conftest.py),
snapshot its files, read its train steps and the warnings a test logged."""

import glob
import json
import logging
import os
import shutil


def copy_run(source, tmp_path):
  target = str(tmp_path / 'run')
  shutil.copytree(source, target)
  return target


def snapshot(workdir):
  """Every file of the workdir with its bytes (not the hidden lock files)."""
  out = {}
  for path in glob.glob(os.path.join(workdir, '**', '*'), recursive=True):
    if os.path.isfile(path):
      with open(path, 'rb') as f:
        out[os.path.relpath(path, workdir)] = f.read()
  return out


def train_steps(workdir):
  records = [json.loads(line)
             for line in open(os.path.join(workdir, 'metrics.jsonl'))]
  return [r['step'] for r in records if 'train/loss' in r]


def warned(caplog):
  """The messages logged at WARNING or above, one a line."""
  return '\n'.join(r.getMessage() for r in caplog.records
                   if r.levelno >= logging.WARNING)
