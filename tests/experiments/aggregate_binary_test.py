"""``python -m experiments.aggregate`` refusing what it cannot use."""

import os
import subprocess
import sys

import pytest

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
