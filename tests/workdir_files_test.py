"""The workdir contract (docs/workdir.md), one test per fault of issue 17:
the files of a workdir.

Each test damages a workdir the way a user or a crash would (a torn or
killed JSON write, a workdir it cannot write, a damaged metrics.jsonl, a
directory that holds another kind of run) and checks that nothing is lost
and the message says what to do. The trained workdir (``trained``,
tests/conftest.py) is made once per module and copied (a 4-step run of the
tiny ``train_test`` config, checkpoints at steps 2 and 4). Changed configs,
two runs on one workdir and damaged checkpoints are in workdir_test.py.
"""

import json
import logging
import os
import re

import pytest

from disent_bias.tools import evaluate
from disent_bias.tools import visualize
from disent_bias.training import stored_run
from disent_bias.training import train
from disent_bias.utils import workdir as workdir_lib
from tiny_run import tiny_config
from tiny_run import tiny_dataset
from workdir_faults import copy_run
from workdir_faults import snapshot
from workdir_faults import train_steps
from workdir_faults import warned

# Tiny programs: compile time dominates (tests/conftest.py). A failed Orbax
# restore leaves an asyncio callback that reports a closed event loop when it
# is collected; that noise is not a failure of these tests.
pytestmark = [
    pytest.mark.usefixtures('fast_compiles_module'),
    pytest.mark.filterwarnings(
        'ignore::pytest.PytestUnraisableExceptionWarning'),
]


# ----------------------------------------------------------------------------
# 5. Torn JSON files.


def test_killed_json_write_leaves_the_old_file(tmp_path, monkeypatch):
  path = str(tmp_path / 'results.json')
  workdir_lib.write_json(path, {'seeds': [0]})

  def killed(fd):
    raise KeyboardInterrupt('killed during the write')

  monkeypatch.setattr(os, 'fsync', killed)
  with pytest.raises(KeyboardInterrupt):
    workdir_lib.write_json(path, {'seeds': [0, 1, 2]})
  assert workdir_lib.read_json(path) == {'seeds': [0]}
  assert os.listdir(tmp_path) == ['results.json']


@pytest.mark.parametrize('mask', [0o022, 0o077])
def test_atomic_writes_honour_the_umask(tmp_path, mask):
  old = os.umask(mask)
  try:
    workdir_lib.write_json(str(tmp_path / 'results.json'), {})
    with open(tmp_path / 'plain.txt', 'w') as f:
      f.write('x')
  finally:
    os.umask(old)
  mode = lambda name: os.stat(tmp_path / name).st_mode & 0o777
  assert mode('results.json') == mode('plain.txt') == 0o666 & ~mask


def test_taking_the_lock_removes_the_temporary_files_of_killed_writes(
    tmp_path, caplog):
  stale = ['.results.json.a1b2c3d4.tmp', 'checkpoint_digests/.4.json.'
           'abcd_123.tmp', 'analysis/toy/.original.json.zzzzzzzz.tmp']
  kept = ['notes.tmp', '.results.json.tmp', 'checkpoints/.x.abcdefgh.tmp',
          'cells/a/.results.json.abcdefgh.tmp', 'results.json']
  for name in stale + kept + ['.eval.json.inflight.tmp']:
    _write(str(tmp_path / name), '{"torn')
  past = workdir_lib.PROCESS_START - 10
  for name in stale + kept:
    os.utime(tmp_path / name, (past, past))
  with caplog.at_level(logging.WARNING):
    with workdir_lib.lock(str(tmp_path)):
      pass
  # A write in flight in another process (modified since this one started)
  # is left alone.
  for name in kept + ['.eval.json.inflight.tmp']:
    assert os.path.exists(tmp_path / name), name
  for name in stale:
    assert not os.path.exists(tmp_path / name), name
  assert (f'removed 3 temporary file(s) left by killed writes in {tmp_path}: '
          in warned(caplog))
  assert all(name in warned(caplog) for name in stale)


@pytest.mark.parametrize('content', ['', '{"model": "beta_v'])
def test_torn_json_is_named(tmp_path, caplog, content):
  path = str(tmp_path / 'results.json')
  with open(path, 'w') as f:
    f.write(content)
  with pytest.raises(ValueError, match=rf'{path} is (empty|not valid JSON)'):
    workdir_lib.read_json(path)
  with caplog.at_level(logging.WARNING):
    assert workdir_lib.read_json_or_none(path) is None
  assert path in warned(caplog)


def test_torn_results_of_a_finished_run_are_rewritten_without_training(
    trained, tmp_path):
  workdir = copy_run(trained, tmp_path)
  with open(os.path.join(workdir, 'results.json'), 'r+') as f:
    f.truncate(30)
  results = train.train_and_evaluate(tiny_config(num_steps=4), workdir,
                                     dataset=tiny_dataset())
  assert results['timings']['train_seconds'] == 0.0
  assert workdir_lib.read_json(os.path.join(workdir, 'results.json'))[
      'num_steps'] == 4
  assert train_steps(workdir) == [2, 4]


# ----------------------------------------------------------------------------
# 6. evaluate on a workdir it cannot write.


def test_evaluate_fails_on_an_unwritable_workdir_before_scoring(
    trained, monkeypatch):
  def unwritable(*args, **kwargs):
    raise PermissionError(13, 'Permission denied')

  def must_not_score(*args, **kwargs):
    raise AssertionError('scored before checking the output')

  monkeypatch.setattr(workdir_lib.tempfile, 'mkstemp', unwritable)
  monkeypatch.setattr(stored_run, 'restore_run', must_not_score)
  with pytest.raises(PermissionError,
                     match=r'eval.json cannot be written: .* is not writable '
                     r'\(Permission denied\)'):
    evaluate.evaluate_workdir(trained, 'mig')


def test_config_differences_name_every_field():
  old = {'model': {'name': 'beta_vae', 'hidden': [16]}, 'seed': 0}
  new = {'model': {'name': 'annealed_vae', 'hidden': (16,)}, 'seed': 0,
         'extra': 1}
  assert workdir_lib.config_differences(old, new) == {
      'extra': ('<absent>', 1), 'model.name': ('beta_vae', 'annealed_vae')}


def test_fields_added_since_a_run_count_at_their_old_values():
  stored = {'model': {'name': 'beta_vae', 'recon': 'l2'}, 'seed': 0}
  now = {'model': {'name': 'beta_vae', 'recon': 'l2', 'recon_weight': 1.0,
                   'disc_hidden': 1000, 'disc_layers': 6}, 'seed': 0}
  assert workdir_lib.config_differences(stored, now) == {}
  # Also inside a record (a reproduction cell's cell.json).
  assert workdir_lib.config_differences({'config': stored},
                                        {'config': now}) == {}
  now['model']['recon_weight'] = 40.0
  assert workdir_lib.config_differences(stored, now) == {
      'model.recon_weight': (1.0, 40.0)}
  now['model']['other'] = 1
  assert workdir_lib.config_differences(stored, now)['model.other'] == (
      '<absent>', 1)


# ----------------------------------------------------------------------------
# 7. A damaged metrics.jsonl (issue 26): never the source of a result, never
# a block to resuming.


def _keep_first_line(path):
  with open(path, 'rb') as f:
    first = f.readline()
  with open(path, 'wb') as f:
    f.write(first)


def _finals(results):
  return results['final'], [r['final'] for r in results['per_seed']]


@pytest.mark.parametrize('damage', ['truncated', 'deleted'])
def test_finished_run_keeps_its_final_train_terms_when_the_log_is_damaged(
    trained, tmp_path, caplog, damage):
  workdir = copy_run(trained, tmp_path)
  log = os.path.join(workdir, 'metrics.jsonl')
  results_path = os.path.join(workdir, 'results.json')
  before = workdir_lib.read_json(results_path)
  if damage == 'truncated':  # Keeps step 2's train record only.
    _keep_first_line(log)
  else:
    os.remove(log)
  with caplog.at_level(logging.WARNING):
    results = train.train_and_evaluate(tiny_config(num_steps=4), workdir,
                                       dataset=tiny_dataset())
  assert _finals(results) == _finals(before)
  assert _finals(workdir_lib.read_json(results_path)) == _finals(before)
  assert (f'{log} has no train record of the final step 4; the final train '
          f'terms are kept from {results_path}') in warned(caplog)


def test_final_train_terms_never_come_from_an_earlier_step(
    trained, tmp_path, caplog):
  workdir = copy_run(trained, tmp_path)
  log = os.path.join(workdir, 'metrics.jsonl')
  results_path = os.path.join(workdir, 'results.json')
  _keep_first_line(log)
  with open(results_path, 'r+') as f:
    f.truncate(30)
  with caplog.at_level(logging.WARNING):
    results = train.train_and_evaluate(tiny_config(num_steps=4), workdir,
                                       dataset=tiny_dataset())
  assert results['num_steps'] == 4
  assert results['final'] == {} and results['per_seed'][0]['final'] == {}
  assert (f'{log} has no train record of the final step 4 and {results_path} '
          'is not a complete result of that step') in warned(caplog)


def test_damaged_log_lines_are_dropped_with_a_warning_and_the_run_resumes(
    trained, tmp_path, caplog):
  workdir = copy_run(trained, tmp_path)
  log = os.path.join(workdir, 'metrics.jsonl')
  with open(log, 'rb') as f:
    lines = f.readlines()
  with open(log, 'wb') as f:
    f.writelines([lines[0], b'{"train/loss": 1.0}\n',
                  b'{"step": 3, "x": "\xff"}\n', b'{"step": 3, "tra\n',
                  *lines[1:]])
  with caplog.at_level(logging.WARNING):
    results = train.train_and_evaluate(tiny_config(num_steps=6), workdir,
                                       dataset=tiny_dataset())
  assert results['num_steps'] == 6
  assert (f'{log}: dropped 3 damaged line(s), kept the other records: line 2 '
          '(no integer "step"); line 3 (not UTF-8); line 4 (invalid JSON)'
          ) in warned(caplog)
  assert train_steps(workdir) == [2, 4, 6]


# ----------------------------------------------------------------------------
# 8. A directory that holds another kind of run (issue 26).


def _write(path, text=''):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'w') as f:
    f.write(text)


_REPRODUCTION_CONFIG = json.dumps({'base_train': {}, 'datasets': ['x']})


@pytest.mark.parametrize('files,kind', [
    ({}, None),
    ({'config.json': _REPRODUCTION_CONFIG}, workdir_lib.REPRODUCTION),
    ({'config.json': '{"train": {}, "model": {}}'}, workdir_lib.TRAINING),
    ({'config.json': '{"tr', 'cells/a/cell.json': '{}'},
     workdir_lib.REPRODUCTION),
    ({'config.json': '{"tr', 'metrics.jsonl': ''}, workdir_lib.TRAINING),
    ({'noise_control.json': '[]'}, workdir_lib.EVALUATION),
    ({'reconstructions_seed0.png': ''}, workdir_lib.EVALUATION),
    ({'notes.txt': ''}, None),
])
def test_directory_kind(tmp_path, files, kind):
  for name, text in files.items():
    _write(str(tmp_path / name), text)
  found = workdir_lib.directory_kind(str(tmp_path))
  assert (found and found[0]) == kind


@pytest.mark.parametrize('files,holds', [
    ({'config.json': _REPRODUCTION_CONFIG},
     'a reproduction (its config.json is a reproduction config)'),
    ({'noise_control.json': '[]'},
     'evaluation output (it has noise_control.json)'),
])
def test_train_evaluate_and_visualize_refuse_another_kind_of_directory(
    tmp_path, files, holds):
  directory = str(tmp_path / 'other')
  for name, text in files.items():
    _write(os.path.join(directory, name), text)
  before = snapshot(directory)
  message = re.escape(f'--workdir={directory} holds {holds}, not a training '
                      'run; nothing was written: give another --workdir')
  with pytest.raises(workdir_lib.WorkdirKindError, match=message):
    train.train_and_evaluate(tiny_config(), directory, dataset=tiny_dataset())
  with pytest.raises(workdir_lib.WorkdirKindError, match=message):
    evaluate.evaluate_workdir(directory, 'mig')
  with pytest.raises(workdir_lib.WorkdirKindError, match=message):
    visualize.visualize_workdir(directory)
  assert snapshot(directory) == before
  assert sorted(os.listdir(directory)) == sorted(files)


def test_visualize_refuses_a_run_as_out_and_evaluate_a_dir_without_one(
    trained, tmp_path):
  workdir = copy_run(trained, tmp_path)
  before = snapshot(workdir)
  with pytest.raises(workdir_lib.WorkdirKindError,
                     match=r'--out=.* holds a training run .*give another '
                     '--out'):
    visualize.visualize_workdir(workdir, out=workdir)
  assert snapshot(workdir) == before
  missing = str(tmp_path / 'missing')
  with pytest.raises(FileNotFoundError,
                     match=f'--workdir={missing}: no such directory'):
    evaluate.evaluate_workdir(missing, 'mig')
  assert not os.path.exists(missing)
  empty = str(tmp_path / 'empty')
  os.makedirs(empty)
  with pytest.raises(workdir_lib.WorkdirKindError,
                     match=f'--workdir={empty} does not hold a training run'):
    evaluate.evaluate_workdir(empty, 'mig')
  assert not os.listdir(empty)
