"""Binaries the docs show that no other test runs, at the sizes shown."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _run(*args, cwd):
  env = dict(os.environ, JAX_PLATFORMS='cpu', PYTHONPATH=REPO)
  return subprocess.run([sys.executable, '-m', *args], cwd=cwd, env=env,
                        check=True, capture_output=True, text=True)


def test_show_data_writes_the_figures(tmp_path):
  """docs/datasets.md: ``show_data --dataset=shapes3d --variant=noise``."""
  out = tmp_path / 'data'
  _run('experiments.show_data', '--dataset=shapes3d', '--variant=noise',
       f'--out={out}', cwd=REPO)
  pngs = sorted(p.name for p in out.iterdir())
  assert pngs and all(p.endswith('.png') for p in pngs), pngs


@pytest.mark.slow
def test_bench_eval_smoke_run_prints_both_measurements(tmp_path):
  """docs/performance.md: the evaluation benchmark's smoke run."""
  proc = _run('experiments.bench_eval', '--metrics=mig,dci',
              '--num_train=300', '--num_test=100', '--backends=exact',
              cwd=tmp_path)
  lines = [json.loads(l) for l in proc.stdout.splitlines()
           if l.startswith('{')]
  summary = lines[-1]
  assert summary['name'] == 'summary' and summary['cpu_model'], summary
  assert summary['encode_s'] > 0 and summary['dci_exact_s'] > 0, summary
