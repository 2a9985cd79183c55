"""Tests of the library scoring of a trained workdir (``evaluate``); the
binary: experiments/evaluate_binary_test.py."""

import json
import os
import shutil
import sys

import numpy as np
import pytest

from disent_bias import metrics
from disent_bias.tools import evaluate
from disent_bias.training import scoring


def test_unknown_metric_is_refused_before_the_workdir_is_read(tmp_path):
  with pytest.raises(ValueError, match="unknown metric.*'nope'; valid: mig"):
    evaluate.evaluate_workdir(str(tmp_path / 'missing'), 'mig,nope')
  assert not os.listdir(tmp_path)


@pytest.mark.usefixtures('fast_compiles')
def test_evaluate_workdir_writes_eval_json(toy_run, tmp_path):
  # A copy: the session's toy run is read by other tests (aggregate).
  workdir = str(tmp_path / 'run')
  shutil.copytree(toy_run, workdir)
  result = evaluate.evaluate_workdir(workdir, 'mig', seed=1, num_train=100,
                                     num_test=50)
  with open(os.path.join(workdir, 'eval.json'), encoding='utf-8') as f:
    stored = json.load(f)
  assert stored == json.loads(json.dumps(result))
  assert stored['workdir'] == os.path.abspath(workdir)
  assert (stored['step'], stored['dataset'], stored['variant']) == (
      20, 'toy_bumps', 'original')
  assert stored['metrics'] == ['mig']
  assert (stored['seed'], stored['num_train'], stored['num_test']) == (
      1, 100, 50)
  assert [r['seed'] for r in stored['per_seed']] == [0]
  scored = scoring.read_scores(stored['per_seed'][0])
  assert (scored.seed, scored.names) == (1, ('mig',))
  mig = scored.scores['mig']
  assert 0.0 <= mig <= 1.0
  assert (scored.counts['num_train'], scored.counts['num_test']) == (100, 50)
  assert set(scored.timings) == {'encode', 'mig'}
  # One model seed: the summary is its scores (only), without an sd.
  assert stored['summary'] == {'mig': mig}
  assert stored['time_s'] > 0 and stored['provenance']
  # An older checkpoint, not written: the workdir keeps the one eval.json.
  again = evaluate.evaluate_workdir(workdir, ['mig'], seed=1, num_train=100,
                                    num_test=50, step=10, filename=None)
  assert again['step'] == 10
  assert sorted(os.listdir(workdir)) == sorted(
      os.listdir(toy_run) + ['eval.json', 'eval_samples.npz'])
  # The saved sample scores again to the stored scores, without the model.
  with np.load(evaluate.samples_path(workdir)) as npz:
    sample = metrics.unpack_sample(npz, 0)
  assert metrics.score_sample(sample, 'mig', seed=1).scores == {'mig': mig}
  assert sample['codes_train'].shape[0] == 100


def test_lightgbm_backend_refused_without_the_extra(monkeypatch, tmp_path):
  monkeypatch.setitem(sys.modules, 'lightgbm', None)
  with pytest.raises(ImportError, match=r'disent_bias\[fast\]'):
    evaluate.evaluate_workdir(str(tmp_path), 'dci', dci_backend='lightgbm')
