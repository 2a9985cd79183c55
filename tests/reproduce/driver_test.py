"""Tests of the driver: cells trained once, resumed, re-scored or refused."""

import json
import logging
import os
import re

import numpy as np
import pytest

from disent_bias import reproduce
from disent_bias.configs import default
from disent_bias.configs import reproduce as reproduce_configs
from disent_bias.training import train
from disent_bias.utils import errors
from disent_bias.utils import workdir as workdir_lib
from tiny_run import files_under


def _scores(results):
  return [(r['model'], r['variant'], r['seed'], r['scores'])
          for r in results['records']]


def test_driver_writes_outputs_and_skips_finished_cells(tmp_path, smoke,
                                                        fake_train):
  config = smoke(models=('beta_vae', 'pcl'),
                 variants=('original', 'perturbed', 'noise'))
  fake = fake_train()
  results = reproduce.reproduce(config, str(tmp_path), train_fn=fake)
  assert len(fake.calls) == 6
  for name in ('results.json', 'table.md', 'bars.png', 'config.json'):
    assert os.path.exists(tmp_path / name), name
  with open(tmp_path / 'results.json') as f:
    on_disk = json.load(f)
  assert on_disk['records'] == results['records']
  assert len(on_disk['records']) == 6 * config.num_seeds
  assert {r['seed'] for r in on_disk['records']} == {0, 1}
  assert all(set(r['scores']) == {'mig', 'dci.disentanglement'}
             for r in on_disk['records'])
  mig = {(s['model'], s['variant']): s for s in on_disk['summary']
         if s['metric'] == 'mig'}
  np.testing.assert_allclose(mig['pcl', 'perturbed']['mean'], 0.11)
  np.testing.assert_allclose(mig['pcl', 'perturbed']['sd'],
                             np.std([0.1, 0.12], ddof=1))
  table = (tmp_path / 'table.md').read_text()
  assert '| beta-VAE | 0.51 (0.01) / 0.11 (0.01) / 0.46 (0.01) |' in table

  again = fake_train()
  rerun = reproduce.reproduce(config, str(tmp_path), train_fn=again)
  assert again.calls == []
  assert rerun['records'] == results['records']


def test_killed_reproduction_continues_with_unfinished_cells(tmp_path, smoke,
                                                             fake_train):
  config = smoke()
  killed = fake_train(fail_on=('toy_bumps', 'perturbed', 'beta_vae'))
  with pytest.raises(KeyboardInterrupt):
    reproduce.reproduce(config, str(tmp_path), train_fn=killed)
  assert killed.calls == [('toy_bumps', 'original', 'beta_vae'),
                          ('toy_bumps', 'original', 'pcl')]
  resumed = fake_train()
  results = reproduce.reproduce(config, str(tmp_path), train_fn=resumed)
  assert resumed.calls == [('toy_bumps', 'perturbed', 'beta_vae'),
                           ('toy_bumps', 'perturbed', 'pcl')]
  assert len(results['records']) == 4 * config.num_seeds


@pytest.mark.parametrize('content', ['', '{"model": "beta_v', '{}'])
def test_torn_or_empty_cell_results_run_the_cell_again(tmp_path, caplog,
                                                       content, smoke,
                                                       fake_train):
  config = smoke()
  first = reproduce.reproduce(config, str(tmp_path), train_fn=fake_train())
  path = (tmp_path / 'cells' / 'toy_bumps' / 'perturbed' / 'pcl' /
          'results.json')
  path.write_text(content)
  again = fake_train()
  with caplog.at_level('WARNING'):
    rerun = reproduce.reproduce(config, str(tmp_path), train_fn=again)
  assert again.calls == [('toy_bumps', 'perturbed', 'pcl')]
  assert str(path) in caplog.text
  assert _scores(rerun) == _scores(first)


def test_results_without_per_seed_records_are_scored_again(tmp_path, caplog,
                                                           smoke, fake_train):
  """A cell finished before per-seed records runs again (its checkpoints:
  train_and_evaluate resumes after the last step and scores it)."""
  config = smoke()
  first = reproduce.reproduce(config, str(tmp_path), train_fn=fake_train())
  path = tmp_path / 'cells' / 'toy_bumps' / 'original' / 'pcl' / 'results.json'
  legacy = json.loads(path.read_text())
  per_seed = legacy.pop('per_seed')
  legacy['metrics'] = {'mig': 0.51, 'mig_per_seed': [
      r['metrics']['scores']['mig'] for r in per_seed]}
  path.write_text(json.dumps(legacy))
  again = fake_train()
  with caplog.at_level('WARNING'):
    rerun = reproduce.reproduce(config, str(tmp_path), train_fn=again)
  assert again.calls == [('toy_bumps', 'original', 'pcl')]
  assert str(path) in caplog.text and 'per-seed records' in caplog.text
  assert 'per_seed' in json.loads(path.read_text())
  assert _scores(rerun) == _scores(first)


def test_changed_config_in_same_workdir_is_refused(tmp_path, smoke,
                                                   fake_train):
  reproduce.reproduce(smoke(), str(tmp_path), train_fn=fake_train())
  changed = smoke()
  changed.overrides.train.num_steps = 11
  with pytest.raises(ValueError, match='different config'):
    reproduce.reproduce(changed, str(tmp_path), train_fn=fake_train())


def test_changed_base_train_config_is_refused(tmp_path, smoke, fake_train):
  reproduce.reproduce(smoke(), str(tmp_path), train_fn=fake_train())
  changed = smoke()
  changed.base_train.optimizer.b2 = 0.99
  with pytest.raises(ValueError, match=r'config.optimizer.b2: 0.999 -> 0.99'):
    reproduce.reproduce(changed, str(tmp_path), train_fn=fake_train())


def test_refused_rerun_names_the_fields_and_writes_nothing(tmp_path, smoke,
                                                           fake_train):
  reproduce.reproduce(smoke(), str(tmp_path), train_fn=fake_train())
  before = (tmp_path / 'config.json').read_bytes()
  changed = smoke()
  changed.overrides.train.num_steps = 11
  with pytest.raises(ValueError, match=r'different config for .*'
                     r'config.train.num_steps: \d+ -> 11'):
    reproduce.reproduce(changed, str(tmp_path), train_fn=fake_train())
  assert (tmp_path / 'config.json').read_bytes() == before


def test_training_workdir_is_refused_and_kept(tmp_path, smoke, fake_train):
  workdir = tmp_path / 'run'
  (workdir / 'checkpoints' / '40').mkdir(parents=True)
  (workdir / 'config.json').write_text(default.get_config().to_json())
  (workdir / 'results.json').write_text('{"num_steps": 40}')
  before = files_under(workdir)
  train_fn = fake_train()
  with pytest.raises(workdir_lib.WorkdirKindError,
                     match=re.escape(
                         f'--workdir={workdir} holds a training run (its '
                         'config.json is a train config), not a '
                         'reproduction; nothing was written')):
    reproduce.reproduce(smoke(), str(workdir), train_fn=train_fn)
  assert files_under(workdir) == before and not train_fn.calls


def test_cell_json_is_written_once_and_kept(tmp_path, smoke, fake_train):
  config = smoke()
  reproduce.reproduce(config, str(tmp_path), train_fn=fake_train())
  path = tmp_path / 'cells' / 'toy_bumps' / 'original' / 'pcl' / 'cell.json'
  stored = json.loads(path.read_text())
  assert stored['cell'] == {'dataset': 'toy_bumps', 'variant': 'original',
                            'model': 'pcl'}
  assert stored['config']['model']['name'] == 'pcl'
  mtime = path.stat().st_mtime_ns
  reproduce.reproduce(config, str(tmp_path), train_fn=fake_train())
  assert path.stat().st_mtime_ns == mtime


@pytest.mark.slow
@pytest.mark.usefixtures('fast_compiles')
def test_smoke_protocol_end_to_end(tmp_path, monkeypatch):
  config = reproduce_configs.get_config('smoke')
  results = reproduce.reproduce(config, str(tmp_path))
  num_cells = len(reproduce.expand_grid(config))
  assert len(results['records']) == num_cells * config.num_seeds
  for record in results['records']:
    assert 0.0 <= record['scores']['mig'] <= 1.0
    assert record['timings']['num_steps'] == config.overrides.train.num_steps
  for name in ('results.json', 'table.md', 'bars.png', 'analysis.png'):
    assert os.path.getsize(tmp_path / name) > 0, name
  for variant in config.variants:
    with open(tmp_path / 'analysis' / 'toy_bumps' / f'{variant}.json') as f:
      analysis = json.load(f)
    assert analysis['num_points'] == config.analysis.num_points
    assert 0.0 <= analysis['median_dto']
  table = (tmp_path / 'table.md').read_text()
  assert '| beta-VAE |' in table and '| PCL |' in table

  def must_not_train(*args, **kwargs):
    raise AssertionError('a finished cell was trained again')

  monkeypatch.setattr(train, 'train_and_evaluate', must_not_train)
  rerun = reproduce.reproduce(config, str(tmp_path))
  assert rerun['records'] == results['records']


@pytest.mark.slow
@pytest.mark.usefixtures('fast_compiles')
def test_images_protocol_smoke_with_mechanism_readouts(tmp_path):
  config = reproduce_configs.get_config('images')
  # The protocol's cells at a smoke size: four cells of shapes3d32, 2 seeds
  # (the per-dataset overrides of dsprites32 would train it for real).
  config.datasets = ('shapes3d32',)
  config.variants = ('original', 'perturbed')
  config.models = ('beta_vae', 'pcl')
  config.num_seeds = 2
  config.analysis.num_points = 8
  config.table_metrics = ('mig',)
  config.overrides.train.num_steps = 4
  config.overrides.train.steps_per_call = 2
  config.overrides.log_every_steps = 2
  config.overrides.eval_every_steps = 4
  config.overrides.checkpoint_every_steps = 4
  config.overrides.eval = {'num_summary_images': 8}
  config.overrides.metrics.names = ('mig',)
  config.overrides.metrics.num_train = 64
  config.overrides.metrics.num_test = 32
  results = reproduce.reproduce(config, str(tmp_path))
  assert len(results['records']) == 2 * 2 * 2
  for record in results['records']:
    scores = record['scores']
    assert 0.0 <= scores['mig'] <= 1.0
    assert np.isfinite(scores['mechanism.decoder_dto'])
    if record['model'] == 'beta_vae':
      assert scores['mechanism.polarized'] in (0.0, 1.0)
      assert 0 <= scores['mechanism.active_latents'] <= 3
    else:  # PCL has no posterior variance: no active-latent readouts.
      assert 'mechanism.polarized' not in scores
  table = (tmp_path / 'table.md').read_text()
  assert '## Mechanism (final eval point)' in table
  assert 'Shapes3D 32x32' in table


# ----------------------------------------------------------------------------
# Issue 26: a bad grid, a changed grid, an edited cell result.


def test_a_bad_cell_fails_before_any_cell_trains_or_anything_is_written(
    tmp_path, smoke, fake_train):
  config = smoke(models=('beta_vae', 'pcl', 'nope'))
  train_fn = fake_train()
  workdir = tmp_path / 'grid'
  with pytest.raises(errors.InvalidInputError,
                     match=r"cell nope on toy_bumps/original: invalid "
                     r"config: unknown model 'nope'.*nothing was trained"):
    reproduce.reproduce(config, str(workdir), train_fn=train_fn)
  assert not train_fn.calls and not os.path.exists(workdir)


def _grid_warnings(caplog):
  return [r.getMessage() for r in caplog.records
          if r.levelno >= logging.WARNING and 'the grid differs' in
          r.getMessage()]


def test_a_narrowed_grid_is_named_in_one_warning(tmp_path, smoke, fake_train,
                                                  caplog):
  reproduce.reproduce(smoke(), str(tmp_path), train_fn=fake_train())
  narrowed = smoke(models=('beta_vae',), variants=('original',))
  with caplog.at_level(logging.WARNING):
    reproduce.reproduce(narrowed, str(tmp_path), train_fn=fake_train())
  assert _grid_warnings(caplog) == [
      f'{tmp_path}: the grid differs from the one in {tmp_path}/results.json '
      '(variants: dropped perturbed; models: dropped pcl); its results.json '
      'and table.md will hold this grid only, the other cells stay in cells/']
  assert '| PCL |' not in (tmp_path / 'table.md').read_text()
  caplog.clear()
  with caplog.at_level(logging.WARNING):
    reproduce.reproduce(narrowed, str(tmp_path), train_fn=fake_train())
  assert not _grid_warnings(caplog)


def _pcl_results(tmp_path):
  return tmp_path / 'cells' / 'toy_bumps' / 'original' / 'pcl' / 'results.json'


def test_a_hand_edited_cell_result_is_moved_aside_and_scored_again(
    tmp_path, smoke, fake_train, caplog):
  config = smoke()
  first = reproduce.reproduce(config, str(tmp_path), train_fn=fake_train())
  path = _pcl_results(tmp_path)
  edited = json.loads(path.read_text())
  edited['per_seed'][0]['metrics']['scores']['mig'] = 0.99
  path.write_text(json.dumps(edited))
  again = fake_train()
  with caplog.at_level(logging.WARNING):
    rerun = reproduce.reproduce(config, str(tmp_path), train_fn=again)
  assert again.calls == [('toy_bumps', 'original', 'pcl')]
  assert _scores(rerun) == _scores(first)
  (kept,) = (path.parent / 'replaced').glob('*/results.json')
  assert json.loads(kept.read_text()) == edited
  assert (f'{path} was changed after the cell finished (it does not match '
          f'the digest in {path.parent}/cell_timing.json); moved it to '
          f'{kept}') in caplog.text


@pytest.mark.parametrize('change', ['reformatted', 'older_version'])
def test_an_unedited_cell_result_is_used_as_it_is(tmp_path, smoke, fake_train,
                                                  caplog, change):
  config = smoke()
  reproduce.reproduce(config, str(tmp_path), train_fn=fake_train())
  path = _pcl_results(tmp_path)
  if change == 'reformatted':
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4))
  else:  # A cell finished before results carried a digest.
    timing = path.parent / 'cell_timing.json'
    record = json.loads(timing.read_text())
    del record['results_sha256']
    timing.write_text(json.dumps(record))
  again = fake_train()
  with caplog.at_level(logging.WARNING):
    reproduce.reproduce(config, str(tmp_path), train_fn=again)
  assert again.calls == [] and 'was changed' not in caplog.text
