"""``python -m experiments.reproduce`` on a directory it must not touch."""

import os
import subprocess
import sys

from disent_bias.configs import default

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = dict(os.environ, JAX_PLATFORMS='cpu')


def test_training_workdir_is_refused_in_one_line(tmp_path):
  workdir = tmp_path / 'run'
  workdir.mkdir()
  config = default.get_config().to_json()
  (workdir / 'config.json').write_text(config)
  (workdir / 'results.json').write_text('{"num_steps": 40}')
  proc = subprocess.run(
      [sys.executable, '-m', 'experiments.reproduce',
       '--config=experiments/configs/reproduce.py:smoke',
       f'--workdir={workdir}'], cwd=REPO, env=ENV, capture_output=True,
      text=True, timeout=300)
  assert proc.returncode == 2, proc.stderr
  assert proc.stderr.strip().splitlines() == [
      f'FATAL WorkdirKindError: --workdir={workdir} holds a training run (its '
      'config.json is a train config), not a reproduction; nothing was '
      'written: give another --workdir']
  assert (workdir / 'config.json').read_text() == config
  assert sorted(os.listdir(workdir)) == ['config.json', 'results.json']
