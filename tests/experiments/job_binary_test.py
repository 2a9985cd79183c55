"""End-to-end test of ``python -m experiments.job`` and the ``disent-bias-job``
console script (subprocesses), and of the bare-machine set-up from wheels
(``experiments.bootstrap``)."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

from disent_bias.reproduce import pack
from experiments import bootstrap

ROOT = bootstrap.ROOT
CONFIG = os.path.join(ROOT, 'experiments', 'configs', 'reproduce.py')


def _job(cwd, *args):
  env = dict(os.environ, JAX_PLATFORMS='cpu', PYTHONPATH=ROOT)
  return subprocess.run(
      [sys.executable, '-m', 'experiments.job',
       f'--config={CONFIG}:job_smoke', *args],
      cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _console_job(cwd, *args):
  """The ``disent-bias-job`` console script's entry, from ``cwd``."""
  env = dict(os.environ, JAX_PLATFORMS='cpu', PYTHONPATH=ROOT)
  return subprocess.run(
      [sys.executable, '-c', 'from disent_bias.cli.job import entry; entry()',
       '--config=disent_bias/configs/reproduce.py:job_smoke', *args],
      cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_job_then_ingest_then_a_second_job_skips_the_done_units(tmp_path):
  out, work = tmp_path / 'out', tmp_path / 'work'
  ledger = work / 'ledger.json'
  proc = _job(tmp_path, f'--out={out}', '--budget_s=120',
              f'--ledger={ledger}', '--max_units=1')
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert pack.check_limits(str(out)) == []
  manifest = pack.read_manifest(str(out))
  assert manifest['units'] and manifest['state'] == 'finished'
  # Ingested by the console script, from another directory.
  proc = _console_job(tmp_path, f'--ingest={out}', f'--workdir={work}')
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert (work / 'table.md').exists()
  done = {k for k, e in json.loads(ledger.read_text())['units'].items()
          if e['state'] == 'done'}
  assert done == {u['id'] for u in manifest['units']}
  proc = _job(tmp_path, f'--out={tmp_path / "out2"}', '--budget_s=120',
              f'--ledger={ledger}', '--max_units=1')
  assert proc.returncode == 0, proc.stderr[-2000:]
  again = {u['id'] for u in pack.read_manifest(str(tmp_path / 'out2'))['units']}
  assert len(again) == 1 and not again & done


def test_a_half_copied_folder_is_refused_in_one_line(tmp_path):
  folder = pack.JobFolder(str(tmp_path / 'out'))
  folder.write_manifest(protocol='job_smoke', parts={
      'part-000.zip': {'bytes': 10, 'sha256': '0' * 64}}, units=[])
  proc = _job(tmp_path, f'--ingest={tmp_path / "out"}',
              f'--workdir={tmp_path / "work"}')
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines()[-1].startswith(
      'FATAL IncompleteJobError')
  assert 'copied only in part' in proc.stderr
  assert not (tmp_path / 'work').exists()


def _wheel(directory, name='tinypkg_for_test'):
  """A minimal pure-Python wheel of a module ``name``."""
  path = directory / f'{name}-0.1-py3-none-any.whl'
  info = f'{name}-0.1.dist-info'
  with zipfile.ZipFile(path, 'w') as z:
    z.writestr(f'{name}/__init__.py', 'VALUE = 7\n')
    z.writestr(f'{info}/METADATA',
               f'Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n')
    z.writestr(f'{info}/WHEEL', 'Wheel-Version: 1.0\nGenerator: test\n'
               'Root-Is-Purelib: true\nTag: py3-none-any\n')
    z.writestr(f'{info}/RECORD', '')
  return path


def test_bootstrap_installs_missing_packages_from_wheels(tmp_path,
                                                         monkeypatch):
  monkeypatch.setattr(bootstrap, 'REQUIRED',
                      {'tinypkg_for_test': 'tinypkg-for-test'})
  monkeypatch.setattr(sys, 'path', list(sys.path))
  with pytest.raises(SystemExit, match='no wheel for them'):
    bootstrap.ensure_packages(str(tmp_path))
  _wheel(tmp_path)
  assert bootstrap.ensure_packages(str(tmp_path)) == ['tinypkg_for_test']
  import tinypkg_for_test  # pylint: disable=g-import-not-at-top
  assert tinypkg_for_test.VALUE == 7
  sys.modules.pop('tinypkg_for_test')
