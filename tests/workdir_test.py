"""The workdir contract (docs/workdir.md), one test per fault of issue 17.

Each test damages a workdir the way a user or a crash would (a changed
config, a second process, a kill, a truncated or altered checkpoint, a torn
JSON file) and checks that nothing is lost and the message says what to do.
The trained workdir is made once per module and copied (a 4-step run of the
tiny ``train_test`` config, checkpoints at steps 2 and 4).
"""

import glob
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys

import jax
import numpy as np
import pytest

from disent_bias.tools import evaluate
from disent_bias.tools import visualize
from disent_bias.training import checkpoint
from disent_bias.training import stored_run
from disent_bias.training import train
from disent_bias.utils import workdir as workdir_lib
from tiny_run import tiny_config
from tiny_run import tiny_dataset

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Tiny programs: compile time dominates (tests/conftest.py). A failed Orbax
# restore leaves an asyncio callback that reports a closed event loop when it
# is collected; that noise is not a failure of these tests.
pytestmark = [
    pytest.mark.usefixtures('fast_compiles_module'),
    pytest.mark.filterwarnings(
        'ignore::pytest.PytestUnraisableExceptionWarning'),
]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """A finished 4-step run; tests copy it (``_copy``)."""
  path = str(tmp_path_factory.mktemp('trained'))
  train.train_and_evaluate(tiny_config(num_steps=4), path,
                           dataset=tiny_dataset())
  return path


def _copy(source, tmp_path):
  target = str(tmp_path / 'run')
  shutil.copytree(source, target)
  return target


def _snapshot(workdir):
  """Every file of the workdir with its bytes (not the hidden lock files)."""
  out = {}
  for path in glob.glob(os.path.join(workdir, '**', '*'), recursive=True):
    if os.path.isfile(path):
      with open(path, 'rb') as f:
        out[os.path.relpath(path, workdir)] = f.read()
  return out


def _train_steps(workdir):
  records = [json.loads(line)
             for line in open(os.path.join(workdir, 'metrics.jsonl'))]
  return [r['step'] for r in records if 'train/loss' in r]


def _warnings(caplog):
  return '\n'.join(r.getMessage() for r in caplog.records
                   if r.levelno >= logging.WARNING)


# ----------------------------------------------------------------------------
# 1. A rerun with a different config.


def _changed(field, value):
  config = tiny_config(num_steps=4)
  config.update_from_flattened_dict({field: value})
  return config


@pytest.mark.parametrize('field,value,named', [
    ('model.name', 'annealed_vae', 'model.name'),
    ('model.name', 'factor_vae', 'model.name'),
    ('model.hparams.beta', 8.0, 'model.hparams.beta'),
    ('optimizer.lr', 1e-3, 'optimizer.lr'),
    ('seed', 1, 'seed'),
])
def test_changed_config_is_refused_before_anything_is_written(
    trained, tmp_path, field, value, named):
  workdir = _copy(trained, tmp_path)
  before = _snapshot(workdir)
  with pytest.raises(workdir_lib.ConfigMismatchError,
                     match=rf'different config .*{named}: .*--restart'):
    train.train_and_evaluate(_changed(field, value), workdir,
                             dataset=tiny_dataset())
  assert _snapshot(workdir) == before


def test_shortening_below_the_newest_checkpoint_is_refused(trained, tmp_path):
  workdir = _copy(trained, tmp_path)
  before = _snapshot(workdir)
  with pytest.raises(workdir_lib.ConfigMismatchError,
                     match=r'train.num_steps=2 is below the newest checkpoint '
                     r'.*\(step 4\).*num_steps=4 or more'):
    train.train_and_evaluate(tiny_config(num_steps=2), workdir,
                             dataset=tiny_dataset())
  assert _snapshot(workdir) == before


def test_restart_moves_the_old_run_aside(trained, tmp_path):
  workdir = _copy(trained, tmp_path)
  before = _snapshot(workdir)
  config = tiny_config(num_steps=4)
  config.seed = 1
  results = train.train_and_evaluate(config, workdir, dataset=tiny_dataset(),
                                     restart=True)
  assert results['seeds'] == [1]
  assert json.load(open(os.path.join(workdir, 'config.json')))['seed'] == 1
  (old,) = glob.glob(os.path.join(workdir, 'replaced', '*'))
  assert _snapshot(old) == before


def test_torn_config_json_with_checkpoints_is_refused(trained, tmp_path):
  workdir = _copy(trained, tmp_path)
  path = os.path.join(workdir, 'config.json')
  with open(path, 'r+') as f:
    f.truncate(40)
  with pytest.raises(workdir_lib.ConfigMismatchError,
                     match=r'config.json is not valid JSON .*torn.*--restart'):
    train.train_and_evaluate(tiny_config(num_steps=4), workdir,
                             dataset=tiny_dataset())


# ----------------------------------------------------------------------------
# 2. Two runs on one workdir.

_HOLD_LOCK = """
import sys, time
from disent_bias.utils import workdir
with workdir.lock(sys.argv[1]):
  print('locked', flush=True)
  time.sleep(300)
"""


def test_second_run_is_refused_and_a_dead_holders_lock_is_taken_over(
    tmp_path, caplog):
  workdir = str(tmp_path / 'run')
  holder = subprocess.Popen([sys.executable, '-c', _HOLD_LOCK, workdir],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == 'locked'
    config = tiny_config(num_steps=4)
    config.seed = 1
    with pytest.raises(workdir_lib.WorkdirBusyError,
                       match=rf'in use by process {holder.pid} .*one run per '
                       'workdir'):
      train.train_and_evaluate(config, workdir, dataset=tiny_dataset())
    assert not os.path.exists(os.path.join(workdir, 'config.json'))
  finally:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
  with caplog.at_level(logging.WARNING):
    with workdir_lib.lock(workdir):
      pass
  assert f'taking over the lock of process {holder.pid}' in _warnings(caplog)


# ----------------------------------------------------------------------------
# 3. A rerun that starts before the first checkpoint.


def test_rerun_after_a_stop_before_the_first_checkpoint_logs_each_step_once(
    tmp_path):
  workdir = str(tmp_path)
  config = tiny_config(num_steps=8, inject_nan_at_step=5)
  config.checkpoint_every_steps = 100
  with pytest.raises(FloatingPointError, match='no verified checkpoint'):
    train.train_and_evaluate(config, workdir, dataset=tiny_dataset())
  assert _train_steps(workdir) == [2, 4]
  config.train.inject_nan_at_step = None
  train.train_and_evaluate(config, workdir, dataset=tiny_dataset())
  assert _train_steps(workdir) == [2, 4, 6, 8]


# ----------------------------------------------------------------------------
# 4. A damaged newest checkpoint.


def _data_file(workdir, step):
  """The file that holds the arrays of a checkpoint (Orbax's OCDBT store)."""
  (path,) = glob.glob(os.path.join(workdir, 'checkpoints', str(step),
                                   'default', 'd', '*'))
  return path


def test_truncated_newest_checkpoint_is_skipped_and_kept(
    trained, tmp_path, caplog):
  workdir = _copy(trained, tmp_path)
  with open(_data_file(workdir, 4), 'r+b') as f:
    f.truncate(100)
  with caplog.at_level(logging.INFO):
    results = train.train_and_evaluate(tiny_config(num_steps=6), workdir,
                                       dataset=tiny_dataset())
  checkpoints = os.path.join(workdir, 'checkpoints')
  assert f'checkpoint {checkpoints}/4 is unreadable' in _warnings(caplog)
  assert 'resuming from the checkpoint at step 2' in caplog.text
  assert results['num_steps'] == 6
  assert _train_steps(workdir) == [2, 4, 6]
  (kept,) = glob.glob(os.path.join(workdir, 'damaged_checkpoints', '4-*'))
  assert os.path.isfile(os.path.join(kept, '_CHECKPOINT_METADATA'))
  assert checkpoint.steps_on_disk(workdir) == [2, 4, 6]


@pytest.mark.parametrize('damage', ['flip', 'replace'])
def test_altered_checkpoint_is_not_restored(trained, tmp_path, caplog, damage):
  workdir = _copy(trained, tmp_path)
  step_dir = os.path.join(workdir, 'checkpoints', '4')
  if damage == 'flip':
    path = _data_file(workdir, 4)
    data = bytearray(open(path, 'rb').read())
    data[len(data) // 2] ^= 0xFF
    open(path, 'wb').write(bytes(data))
    message = rf'checkpoint {step_dir} is unreadable'
  else:  # Valid Orbax files of other values (another step's).
    shutil.rmtree(step_dir)
    shutil.copytree(os.path.join(workdir, 'checkpoints', '2'), step_dir)
    message = rf'checkpoint {step_dir} does not match the digest'
  with pytest.raises(checkpoint.DamagedCheckpointError, match=message):
    stored_run.restore(workdir, 4, dataset=tiny_dataset())
  with caplog.at_level(logging.WARNING):
    _, _, params, _ = stored_run.restore(workdir, dataset=tiny_dataset())
  assert f'checkpoint {step_dir}' in _warnings(caplog)
  # The fallback is step 2, as saved, and restore_run (what evaluate and
  # visualize load) says so.
  _, _, expected, _ = stored_run.restore(workdir, 2, dataset=tiny_dataset())
  jax.tree.map(np.testing.assert_array_equal, params, expected)
  assert stored_run.restore_run(workdir, dataset=tiny_dataset()).step == 2


def test_nan_error_names_a_verified_checkpoint(tmp_path, monkeypatch):
  save = checkpoint.save

  def save_then_damage(mngr, step, tree):
    save(mngr, step, tree)
    if step == 6:  # Damaged after the save: the NaN guard must notice.
      mngr.wait_until_finished()
      os.remove(os.path.join(checkpoint.step_path(mngr, step), 'default',
                             'manifest.ocdbt'))

  monkeypatch.setattr(checkpoint, 'save', save_then_damage)
  config = tiny_config(num_steps=10, inject_nan_at_step=7)
  with pytest.raises(FloatingPointError,
                     match=r'step 7 .*last good checkpoint \(verified\): '
                     r'step 4 in'):
    train.train_and_evaluate(config, str(tmp_path), dataset=tiny_dataset())


def test_missing_step_lists_the_steps_on_disk(trained):
  with pytest.raises(FileNotFoundError,
                     match=r'no checkpoint at step 3 .*steps on disk: 2, 4'):
    stored_run.restore(trained, 3, dataset=tiny_dataset())


def _as_old_digest_table(workdir):
  """The per-step digest files as the one table older versions wrote."""
  directory = os.path.join(workdir, checkpoint.DIGESTS_DIR)
  table = {str(r['step']): r['sha256'] for r in (
      workdir_lib.read_json(os.path.join(directory, name))
      for name in os.listdir(directory))}
  shutil.rmtree(directory)
  workdir_lib.write_json(
      os.path.join(workdir, checkpoint.LEGACY_DIGESTS_FILE), table)


@pytest.mark.parametrize('layout', ['torn_step_file', 'old_table'])
def test_older_checkpoints_stay_verified_after_a_resume(
    trained, tmp_path, caplog, layout):
  """A torn digest file (issue 26) costs its own step's verification only;
  a run stored with the older versions' single table resumes verified."""
  workdir = _copy(trained, tmp_path)
  digests = os.path.join(workdir, checkpoint.DIGESTS_DIR)
  if layout == 'torn_step_file':
    with open(os.path.join(digests, '4.json'), 'w') as f:
      f.write('{"step": 4, "sha2')
  else:
    _as_old_digest_table(workdir)
  train.train_and_evaluate(tiny_config(num_steps=6), workdir,
                           dataset=tiny_dataset())
  assert not os.path.exists(os.path.join(workdir,
                                         checkpoint.LEGACY_DIGESTS_FILE))
  verified = [2, 6] if layout == 'torn_step_file' else [2, 4, 6]
  mngr = checkpoint.manager(workdir, read_only=True)
  caplog.clear()
  with caplog.at_level(logging.WARNING):
    for step in verified:
      assert checkpoint.recorded_digest(mngr, step)[1] == os.path.join(
          digests, f'{step}.json')
      stored_run.restore(workdir, step, dataset=tiny_dataset())
  assert 'no readable recorded digest' not in caplog.text
  shutil.rmtree(os.path.join(workdir, 'checkpoints', '2'))
  shutil.copytree(os.path.join(workdir, 'checkpoints', '6'),
                  os.path.join(workdir, 'checkpoints', '2'))
  with pytest.raises(checkpoint.DamagedCheckpointError,
                     match='does not match the digest'):
    stored_run.restore(workdir, 2, dataset=tiny_dataset())


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
          in _warnings(caplog))
  assert all(name in _warnings(caplog) for name in stale)


@pytest.mark.parametrize('content', ['', '{"model": "beta_v'])
def test_torn_json_is_named(tmp_path, caplog, content):
  path = str(tmp_path / 'results.json')
  with open(path, 'w') as f:
    f.write(content)
  with pytest.raises(ValueError, match=rf'{path} is (empty|not valid JSON)'):
    workdir_lib.read_json(path)
  with caplog.at_level(logging.WARNING):
    assert workdir_lib.read_json_or_none(path) is None
  assert path in _warnings(caplog)


def test_torn_results_of_a_finished_run_are_rewritten_without_training(
    trained, tmp_path):
  workdir = _copy(trained, tmp_path)
  with open(os.path.join(workdir, 'results.json'), 'r+') as f:
    f.truncate(30)
  results = train.train_and_evaluate(tiny_config(num_steps=4), workdir,
                                     dataset=tiny_dataset())
  assert results['timings']['train_seconds'] == 0.0
  assert workdir_lib.read_json(os.path.join(workdir, 'results.json'))[
      'num_steps'] == 4
  assert _train_steps(workdir) == [2, 4]


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
  workdir = _copy(trained, tmp_path)
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
          f'terms are kept from {results_path}') in _warnings(caplog)


def test_final_train_terms_never_come_from_an_earlier_step(
    trained, tmp_path, caplog):
  workdir = _copy(trained, tmp_path)
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
          'is not a complete result of that step') in _warnings(caplog)


def test_damaged_log_lines_are_dropped_with_a_warning_and_the_run_resumes(
    trained, tmp_path, caplog):
  workdir = _copy(trained, tmp_path)
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
          ) in _warnings(caplog)
  assert _train_steps(workdir) == [2, 4, 6]


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
  before = _snapshot(directory)
  message = re.escape(f'--workdir={directory} holds {holds}, not a training '
                      'run; nothing was written: give another --workdir')
  with pytest.raises(workdir_lib.WorkdirKindError, match=message):
    train.train_and_evaluate(tiny_config(), directory, dataset=tiny_dataset())
  with pytest.raises(workdir_lib.WorkdirKindError, match=message):
    evaluate.evaluate_workdir(directory, 'mig')
  with pytest.raises(workdir_lib.WorkdirKindError, match=message):
    visualize.visualize_workdir(directory)
  assert _snapshot(directory) == before
  assert sorted(os.listdir(directory)) == sorted(files)


def test_visualize_refuses_a_run_as_out_and_evaluate_a_dir_without_one(
    trained, tmp_path):
  workdir = _copy(trained, tmp_path)
  before = _snapshot(workdir)
  with pytest.raises(workdir_lib.WorkdirKindError,
                     match=r'--out=.* holds a training run .*give another '
                     '--out'):
    visualize.visualize_workdir(workdir, out=workdir)
  assert _snapshot(workdir) == before
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
