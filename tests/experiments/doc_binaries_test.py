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


def test_analyze_a_dataset_and_audit_a_file(tmp_path):
  """README / docs/own_data.md: ``analyze`` of a dataset variant, and
  ``analyze --path=FILE`` (the audit) of a generic-layout file."""
  _run('experiments.analyze', '--dataset=toy_bumps', '--variant=perturbed',
       f'--workdir={tmp_path / "analysis"}', '--num_points=20', cwd=REPO)
  result = json.loads((tmp_path / 'analysis' / 'analysis.json').read_text())
  assert result['median_dto'] > 0.5, result['median_dto']  # Perturbed.
  mine = tmp_path / 'mine.npz'
  _run('experiments.export', '--dataset=toy_bumps', f'--out={mine}',
       cwd=tmp_path)
  _run('experiments.analyze', f'--path={mine}',
       f'--workdir={tmp_path / "audit"}', '--num_points=20', cwd=tmp_path)
  report = json.loads((tmp_path / 'audit' / 'audit.json').read_text())
  variants = report['variants']
  assert variants['original']['median_dto'] < 0.1, variants
  assert variants['perturbed']['median_dto'] > 0.5, variants
