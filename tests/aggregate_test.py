"""Tests of ``disent_bias.tools.aggregate`` on a sharded smoke sweep and a run."""

import json
import logging
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from disent_bias import reproduce
from disent_bias.configs import reproduce as reproduce_configs
from disent_bias.tools import aggregate
from disent_bias.training import train
from disent_bias.utils import errors
from disent_bias.utils import provenance
import score_records


def _smoke_sweep():
  """beta-VAE of the smoke preset, data.epsilon at 0.05 and 0.2: 3 cells."""
  config = reproduce_configs.get_config('smoke')
  config.models = ('beta_vae',)
  config.analysis.enabled = False
  config.sweep.field = 'data.epsilon'
  config.sweep.points = (0.05, 0.2)
  config.sweep.unswept_variants = ('original',)
  return config


@pytest.mark.slow
@pytest.mark.usefixtures('fast_compiles')
def test_sharded_smoke_sweep_and_a_run_give_one_row_per_seed(
    tmp_path, toy_run, monkeypatch):
  config = _smoke_sweep()
  workdir = str(tmp_path / 'sweep')
  for index in range(2):
    reproduce.reproduce(config, workdir, shard=reproduce.Shard(index, 2))
  frame = aggregate.collect([workdir, toy_run])
  num_cells = len(reproduce.expand_grid(config))
  assert len(frame) == num_cells * config.num_seeds + 1
  sweep = frame[frame['root'] == workdir]
  assert sorted(sweep['config.data.epsilon'].fillna(0).tolist()) == [
      0, 0, 0.05, 0.05, 0.2, 0.2]
  assert sweep['path'].str.contains('data.epsilon=0.2').sum() == 2
  assert sorted(sweep['seed'].tolist()) == [0, 0, 0, 1, 1, 1]
  assert (sweep['config.model.hparams.beta'] > 0).all()
  assert sweep['score.mig'].between(0, 1).all()
  assert (frame['num_steps'] > 0).all()
  versions = provenance.provenance()['versions']
  assert (frame['provenance.versions.jax'] == versions['jax']).all()
  assert (frame['provenance.versions.scikit-learn']
          == versions['scikit-learn']).all()
  assert frame['provenance.device_kind'].notna().all()
  written = aggregate.save(frame, str(tmp_path / 'runs.csv'))
  back = pd.read_csv(written[0])
  assert back.shape == frame.shape

  def must_not_train(*args, **kwargs):
    raise AssertionError('a finished cell was trained again')

  monkeypatch.setattr(train, 'train_and_evaluate', must_not_train)
  merged = reproduce.reproduce(config, workdir)  # The table of all shards.
  mig = sorted(r['scores']['mig'] for r in merged['records'])
  np.testing.assert_allclose(mig, sorted(sweep['score.mig']))
  assert os.path.getsize(os.path.join(workdir, 'sweep.png')) > 0


def test_results_record_the_provenance(toy_run):
  with open(os.path.join(toy_run, 'results.json')) as f:
    recorded = json.load(f)['provenance']
  assert set(provenance.PACKAGES) <= set(recorded['versions'])
  assert recorded['versions']['numpy'] == np.__version__
  assert recorded['device_kind']
  assert recorded['git_commit'] is None or len(recorded['git_commit']) == 40


def test_unreadable_results_are_skipped_and_named(toy_run, tmp_path, caplog):
  root = tmp_path / 'runs'
  for name in ('good', 'old', 'torn'):
    (root / name).mkdir(parents=True)
    for file in ('config.json', 'results.json'):
      shutil.copy(os.path.join(toy_run, file), root / name / file)
  old = json.loads((root / 'old' / 'results.json').read_text())
  del old['per_seed']  # A result of an older version.
  (root / 'old' / 'results.json').write_text(json.dumps(old))
  (root / 'torn' / 'results.json').write_text('{"model": "beta_v')
  with caplog.at_level(logging.WARNING):
    frame = aggregate.collect([str(root)])
  assert frame['path'].tolist() == ['good']
  warnings = [r.getMessage() for r in caplog.records
              if r.levelno >= logging.WARNING]
  assert warnings[0].startswith(
      f'skipped {root}/old/results.json: results for ')
  assert 'no per-seed records' in warnings[0]
  assert warnings[1].startswith(
      f'skipped {root}/torn/results.json: {root}/torn/results.json is not '
      'valid JSON')


def test_empty_input_and_a_directory_as_out_are_refused(tmp_path):
  with pytest.raises(errors.InvalidInputError,
                     match=f'no readable training run under {tmp_path}; give '
                     'the workdirs of experiments.train or '
                     'experiments.reproduce'):
    aggregate.collect([str(tmp_path)])
  with pytest.raises(IsADirectoryError,
                     match=rf'--out={tmp_path} is a directory; give a file '
                     rf'name, e.g. --out={tmp_path}/runs.csv'):
    aggregate.save(pd.DataFrame({'a': [1]}), str(tmp_path))
  assert not os.listdir(tmp_path)


def test_an_older_runs_flat_records_give_scores_counts_and_timings(
    tmp_path):
  run = tmp_path / 'old'
  shutil.copytree(os.path.dirname(score_records.LEGACY_RESULTS), run)
  frame = aggregate.collect([str(tmp_path)])
  stored = score_records.legacy_results()
  assert frame['seed'].tolist() == stored['seeds']
  assert frame['score.mig'].tolist() == [
      r['metrics']['mig'] for r in stored['per_seed']]
  scores = sorted(c for c in frame if c.startswith('score.'))
  assert scores == sorted(
      ['score.mig', 'score.dci.disentanglement', 'score.dci.completeness',
       'score.dci.informativeness_train', 'score.dci.informativeness_test']
      + [f'score.{k}' for k in reproduce.MECHANISM_KEYS])
  assert frame['counts.num_drawn'].tolist() == [
      r['metrics']['num_drawn'] for r in stored['per_seed']]
  assert (frame['score_timings.encode.wall_s'] > 0).all()
  assert (frame['timings.train_seconds'] > 0).all()
