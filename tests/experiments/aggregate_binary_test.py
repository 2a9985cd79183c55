"""``python -m experiments.aggregate``: a table of real runs, skipping and
naming what it cannot read, and refusing what it cannot use."""

import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from disent_bias.training import train
from tiny_run import tiny_config
from tiny_run import tiny_dataset

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = dict(os.environ, JAX_PLATFORMS='cpu')


@pytest.mark.parametrize('out,message', [
    (None, 'FATAL InvalidInputError: no readable training run under'),
    ('dir', 'FATAL IsADirectoryError: --out='),
])
def test_refusals_are_one_line(tmp_path, out, message):
  args = [str(tmp_path)] + ([f'--out={tmp_path}'] if out else [])
  proc = subprocess.run([sys.executable, '-m', 'experiments.aggregate', *args],
                        cwd=str(tmp_path), env=dict(ENV, PYTHONPATH=REPO),
                        capture_output=True, text=True, timeout=300)
  lines = proc.stderr.strip().splitlines()
  assert proc.returncode == 2, proc.stderr
  assert len(lines) <= 3 and lines[-1].startswith(message)
  assert not os.listdir(tmp_path)


@pytest.mark.usefixtures('fast_compiles')
def test_real_runs_are_tabled_and_an_old_result_is_skipped_by_path(
    tmp_path, toy_run):
  root = tmp_path / 'runs'
  shutil.copytree(toy_run, root / 'toy')
  train.train_and_evaluate(tiny_config(num_steps=4, num_seeds=2),
                           str(root / 'tiny'), dataset=tiny_dataset())
  (root / 'old').mkdir()
  shutil.copy(root / 'toy' / 'config.json', root / 'old' / 'config.json')
  old = json.loads((root / 'toy' / 'results.json').read_text())
  del old['per_seed']  # A result of an older version.
  (root / 'old' / 'results.json').write_text(json.dumps(old))
  out = tmp_path / 'table' / 'runs.csv'
  proc = subprocess.run(
      [sys.executable, '-m', 'experiments.aggregate', str(root),
       f'--out={out}'], cwd=str(tmp_path), env=dict(ENV, PYTHONPATH=REPO),
      capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr
  skipped = [line for line in proc.stderr.splitlines() if 'skipped' in line]
  assert len(skipped) == 1 and 'Traceback' not in proc.stderr
  assert f'skipped {root}/old/results.json: results for ' in skipped[0]
  assert 'no per-seed records' in skipped[0]
  frame = pd.read_csv(out)
  assert sorted(zip(frame['path'], frame['seed'], frame['model'])) == [
      ('tiny', 0, 'beta_vae'), ('tiny', 1, 'beta_vae'),
      ('toy', 0, 'beta_vae')]
  assert set(frame['dataset']) == {'synthetic_linear', 'toy_bumps'}
  assert (frame['num_steps'] > 0).all()
  assert frame['final.loss'].notna().all()
