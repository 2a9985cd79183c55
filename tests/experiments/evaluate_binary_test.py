"""End-to-end test of ``python -m experiments.evaluate`` on a tiny run."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from disent_bias.configs import default
from disent_bias.training import train
from disent_bias.utils import stats

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
@pytest.mark.usefixtures('fast_compiles')
def test_evaluate_binary_writes_eval_json(tmp_path):
  config = default.get_config('model=beta_vae,dataset=synthetic_linear,'
                              'runlocal')
  config.model.architecture = 'mlp'
  config.model.hidden = (16,)
  config.train.num_steps = 4
  config.train.steps_per_call = 2
  config.train.num_seeds = 2
  config.checkpoint_every_steps = 2
  workdir = str(tmp_path / 'run')
  train.train_and_evaluate(config, workdir)

  names = 'mig,dci,sap,modularity_explicitness,unsupervised,factor_vae,beta_vae'
  # Tiny programs whose values are only checked for structure and
  # finiteness: compile them without most XLA optimisations (much faster).
  env = dict(os.environ, JAX_PLATFORMS='cpu', JAX_DISABLE_MOST_OPTIMIZATIONS='1')
  subprocess.run(
      [sys.executable, '-m', 'experiments.evaluate', f'--workdir={workdir}',
       f'--metrics={names}', '--seed=1', '--num_train=100', '--num_test=50'],
      cwd=REPO, env=env, check=True, capture_output=True, timeout=600)
  with open(os.path.join(workdir, 'eval.json'), encoding='utf-8') as f:
    result = json.load(f)
  assert result['step'] == 4
  assert (result['seed'], result['num_train'], result['num_test']) == (
      1, 100, 50)
  assert [r['seed'] for r in result['per_seed']] == [0, 1]
  for record in (r['metrics'] for r in result['per_seed']):
    for key in ('mig', 'sap', 'dci.disentanglement', 'dci.completeness',
                'modularity_explicitness.explicitness_test',
                'unsupervised.mutual_info_score', 'factor_vae.eval_accuracy',
                'beta_vae.eval_accuracy'):
      assert np.isfinite(record['scores'][key]), key
    assert record['timings']['dci']['sklearn_s'] > 0
    assert record['timings']['encode']['wall_s'] > 0
  # The two model seeds differ, so their scores do too.
  first, second = (r['metrics']['scores']['mig'] for r in result['per_seed'])
  assert first != second
  np.testing.assert_allclose(result['summary']['mig'], (first + second) / 2)
  np.testing.assert_allclose(result['summary']['mig_sd'],
                             stats.seed_sd([first, second]))


def test_unknown_metric_fails_with_valid_names(tmp_path):
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  proc = subprocess.run(
      [sys.executable, '-m', 'experiments.evaluate', f'--workdir={tmp_path}',
       '--metrics=nope'], cwd=REPO, env=env, capture_output=True, text=True,
      timeout=300)
  assert proc.returncode != 0
  assert "unknown metric(s) 'nope'; valid: mig, dci" in proc.stderr
