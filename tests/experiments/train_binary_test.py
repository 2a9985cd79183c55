"""End-to-end tests of ``python -m experiments.train`` (subprocesses)."""

import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from disent_bias.training import train

from disent_bias.configs import default
from disent_bias.training import stored_run

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Small programs: compile time dominates, in the subprocesses and in-process
# (tests/conftest.py).
ENV = dict(os.environ, JAX_PLATFORMS='cpu', JAX_DISABLE_MOST_OPTIMIZATIONS='1')
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def _command(workdir, *overrides):
  return [sys.executable, '-m', 'experiments.train',
          '--config=experiments/configs/default.py:dataset=synthetic_linear,'
          'runlocal', f'--workdir={workdir}', '--config.model.hidden=(16,)',
          '--config.eval.model_summary=False', *overrides]


def _checkpoint_steps(workdir):
  directory = os.path.join(workdir, 'checkpoints')
  if not os.path.isdir(directory):
    return []
  return sorted(int(n) for n in os.listdir(directory) if n.isdigit())


def test_cli_run_writes_the_workdir(tmp_path):
  workdir = str(tmp_path)
  subprocess.run(_command(workdir, '--config.model.hparams.beta=16',
                          '--config.seed=3'),
                 cwd=REPO, env=ENV, check=True, capture_output=True,
                 timeout=300)
  config = json.load(open(tmp_path / 'config.json'))
  assert config['seed'] == 3
  assert config['model']['hparams']['beta'] == 16.0
  assert config['model']['architecture'] == 'mlp'
  assert config['model']['num_latents'] == 3
  results = json.load(open(tmp_path / 'results.json'))
  assert results['num_steps'] == 20 and results['seeds'] == [3]
  assert np.isfinite(results['final']['train/loss'])
  records = [json.loads(line) for line in open(tmp_path / 'metrics.jsonl')]
  assert [r['step'] for r in records] == [5, 10, 15, 20]
  assert all(r['steps_per_second'] > 0 for r in records)
  assert _checkpoint_steps(workdir) == [10, 20]


def test_cli_rejects_an_invalid_config_before_compiling(tmp_path):
  proc = subprocess.run(_command(str(tmp_path), '--config.train.batch_size=0'),
                        cwd=REPO, env=ENV, capture_output=True, text=True,
                        timeout=300)
  assert proc.returncode != 0
  assert 'train.batch_size must be >= 1, got 0' in proc.stderr
  assert 'compiling' not in proc.stderr


def _resume_overrides():
  return ('--config.train.num_steps=2000', '--config.train.steps_per_call=10',
          '--config.log_every_steps=100', '--config.checkpoint_every_steps=100',
          '--config.eval_every_steps=100000', '--config.keep_checkpoints=2')


@pytest.mark.slow
def test_rerun_after_sigkill_resumes_and_matches_uninterrupted(tmp_path):
  workdir = str(tmp_path / 'killed')
  command = _command(workdir, *_resume_overrides())
  proc = subprocess.Popen(command, cwd=REPO, env=ENV,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 300
  while not _checkpoint_steps(workdir) and proc.poll() is None:
    assert time.time() < deadline, 'no checkpoint written in 300 s'
    time.sleep(0.01)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert proc.returncode == -signal.SIGKILL, 'the run ended before the kill'
  killed_at = max(_checkpoint_steps(workdir))
  assert killed_at < 2000
  assert not os.path.exists(os.path.join(workdir, 'results.json'))

  rerun = subprocess.run(command, cwd=REPO, env=ENV, capture_output=True,
                         text=True, timeout=300, check=True)
  assert 'resuming from the checkpoint at step' in rerun.stderr
  steps = [json.loads(line)['step']
           for line in open(os.path.join(workdir, 'metrics.jsonl'))]
  assert steps == list(range(100, 2001, 100))  # No step lost or repeated.

  config = default.get_config('dataset=synthetic_linear,runlocal')
  config.model.hidden = (16,)
  config.eval.model_summary = False
  config.train.num_steps, config.train.steps_per_call = 2000, 10
  config.log_every_steps = config.checkpoint_every_steps = 100
  config.eval_every_steps, config.keep_checkpoints = 100_000, 2
  straight = str(tmp_path / 'straight')
  train.train_and_evaluate(config, straight)
  resumed_params = stored_run.restore(workdir)[2]
  straight_params = stored_run.restore(straight)[2]
  jax.tree.map(lambda a, b: np.testing.assert_allclose(
      np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7),
               resumed_params, straight_params)


def test_cli_unknown_config_field_is_one_line(tmp_path):
  proc = subprocess.run(_command(str(tmp_path), '--config.model.nmae=x'),
                        cwd=REPO, env=ENV, capture_output=True, text=True,
                        timeout=300)
  assert proc.returncode == 1
  assert 'Traceback' not in proc.stderr
  assert proc.stderr.strip().splitlines()[-1] == (
      "FATAL Flags parsing error: flag --config.model.nmae=x: the config has "
      "no field 'model.nmae' (did you mean 'name'?); valid at model: "
      "architecture, compute_dtype, conv_impl, disc_hidden, disc_layers, "
      "hidden, hparams, name, num_latents, presets, recon, recon_weight")
  assert not os.listdir(tmp_path)


def _truncated_dsprites(tmp_path):
  """A dSprites .npz cut in half, as a broken download leaves it."""
  path = str(tmp_path / 'dsprites.npz')
  n = 48
  np.savez_compressed(path, imgs=np.zeros((n, 8, 8), np.uint8),
                      latents_classes=np.zeros((n, 6), np.int64),
                      latents_values=np.zeros((n, 6)))
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) // 2)
  return ('--config.data.name=dsprites', '--config.data.source=file',
          f'--config.data.path={path}')


@pytest.mark.parametrize('fault,message', [
    ('beta', 'FATAL ValueError: invalid config: model.hparams.beta must be '
     '>= 0, got -1.0'),
    ('model', "FATAL ValueError: invalid config: unknown model 'nope'; "
     'valid: ada_gvae, ae,'),
    ('dsprites', 'dsprites.npz: not a readable .npz (zip) file'),
    ('steps', 'FATAL ValueError: invalid config: train.num_steps must be '
     '>= 1, got 0'),
])
def test_user_errors_end_the_binary_in_one_line(tmp_path, fault, message):
  overrides = {'beta': ('--config.model.hparams.beta=-1',),
               'model': ('--config.model.name=nope',),
               'dsprites': _truncated_dsprites(tmp_path),
               'steps': ('--config.train.num_steps=0',)}[fault]
  workdir = str(tmp_path / 'run')
  proc = subprocess.run(_command(workdir, *overrides), cwd=REPO, env=ENV,
                        capture_output=True, text=True, timeout=300)
  lines = proc.stderr.strip().splitlines()
  assert proc.returncode == 2, proc.stderr
  assert len(lines) <= 3 and 'Traceback' not in proc.stderr
  assert message in lines[-1]
  assert not os.path.exists(workdir)
  verbose = subprocess.run(_command(workdir, *overrides, '--verbosity=1'),
                           cwd=REPO, env=ENV, capture_output=True, text=True,
                           timeout=300)
  assert verbose.returncode != 0 and 'Traceback' in verbose.stderr


def test_a_workdir_that_is_a_file_is_one_line(tmp_path):
  workdir = tmp_path / 'run'
  workdir.write_text('not a directory\n')
  proc = subprocess.run(_command(str(workdir)), cwd=REPO, env=ENV,
                        capture_output=True, text=True, timeout=300)
  lines = proc.stderr.strip().splitlines()
  assert proc.returncode == 2, proc.stderr
  assert len(lines) <= 3 and 'Traceback' not in proc.stderr
  assert lines[-1].startswith('FATAL') and str(workdir) in lines[-1]
  assert workdir.read_text() == 'not a directory\n'
