"""The workdir contract (docs/workdir.md), one test per fault of issue 17:
runs and their checkpoints.

Each test damages a workdir the way a user or a crash would (a changed
config, a second process, a stop before the first checkpoint, a truncated or
altered checkpoint) and checks that nothing is lost and the message says
what to do. The trained workdir (``trained``, tests/conftest.py) is made once
per module and copied (a 4-step run of the tiny ``train_test`` config,
checkpoints at steps 2 and 4). The workdir's other files (JSON, the metrics
log, directories of another kind) are in workdir_files_test.py.
"""

import glob
import json
import logging
import os
import shutil
import signal
import subprocess
import sys

import jax
import numpy as np
import pytest

from disent_bias.training import checkpoint
from disent_bias.training import stored_run
from disent_bias.training import train
from disent_bias.utils import workdir as workdir_lib
from tiny_run import tiny_config
from tiny_run import tiny_dataset
from workdir_faults import copy_run
from workdir_faults import snapshot
from workdir_faults import train_steps
from workdir_faults import warned

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Tiny programs: compile time dominates (tests/conftest.py). A failed Orbax
# restore leaves an asyncio callback that reports a closed event loop when it
# is collected; that noise is not a failure of these tests.
pytestmark = [
    pytest.mark.usefixtures('fast_compiles_module'),
    pytest.mark.filterwarnings(
        'ignore::pytest.PytestUnraisableExceptionWarning'),
]


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
  workdir = copy_run(trained, tmp_path)
  before = snapshot(workdir)
  with pytest.raises(workdir_lib.ConfigMismatchError,
                     match=rf'different config .*{named}: .*--restart'):
    train.train_and_evaluate(_changed(field, value), workdir,
                             dataset=tiny_dataset())
  assert snapshot(workdir) == before


def test_shortening_below_the_newest_checkpoint_is_refused(trained, tmp_path):
  workdir = copy_run(trained, tmp_path)
  before = snapshot(workdir)
  with pytest.raises(workdir_lib.ConfigMismatchError,
                     match=r'train.num_steps=2 is below the newest checkpoint '
                     r'.*\(step 4\).*num_steps=4 or more'):
    train.train_and_evaluate(tiny_config(num_steps=2), workdir,
                             dataset=tiny_dataset())
  assert snapshot(workdir) == before


def test_restart_moves_the_old_run_aside(trained, tmp_path):
  workdir = copy_run(trained, tmp_path)
  before = snapshot(workdir)
  config = tiny_config(num_steps=4)
  config.seed = 1
  results = train.train_and_evaluate(config, workdir, dataset=tiny_dataset(),
                                     restart=True)
  assert results['seeds'] == [1]
  assert json.load(open(os.path.join(workdir, 'config.json')))['seed'] == 1
  (old,) = glob.glob(os.path.join(workdir, 'replaced', '*'))
  assert snapshot(old) == before


def test_torn_config_json_with_checkpoints_is_refused(trained, tmp_path):
  workdir = copy_run(trained, tmp_path)
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
  assert f'taking over the lock of process {holder.pid}' in warned(caplog)


# ----------------------------------------------------------------------------
# 3. A rerun that starts before the first checkpoint.


def test_rerun_after_a_stop_before_the_first_checkpoint_logs_each_step_once(
    tmp_path):
  workdir = str(tmp_path)
  config = tiny_config(num_steps=8, inject_nan_at_step=5)
  config.checkpoint_every_steps = 100
  with pytest.raises(FloatingPointError, match='no verified checkpoint'):
    train.train_and_evaluate(config, workdir, dataset=tiny_dataset())
  assert train_steps(workdir) == [2, 4]
  config.train.inject_nan_at_step = None
  train.train_and_evaluate(config, workdir, dataset=tiny_dataset())
  assert train_steps(workdir) == [2, 4, 6, 8]


# ----------------------------------------------------------------------------
# 4. A damaged newest checkpoint.


def _data_file(workdir, step):
  """The file that holds the arrays of a checkpoint (Orbax's OCDBT store)."""
  (path,) = glob.glob(os.path.join(workdir, 'checkpoints', str(step),
                                   'default', 'd', '*'))
  return path


def test_truncated_newest_checkpoint_is_skipped_and_kept(
    trained, tmp_path, caplog):
  workdir = copy_run(trained, tmp_path)
  with open(_data_file(workdir, 4), 'r+b') as f:
    f.truncate(100)
  with caplog.at_level(logging.INFO):
    results = train.train_and_evaluate(tiny_config(num_steps=6), workdir,
                                       dataset=tiny_dataset())
  checkpoints = os.path.join(workdir, 'checkpoints')
  assert f'checkpoint {checkpoints}/4 is unreadable' in warned(caplog)
  assert 'resuming from the checkpoint at step 2' in caplog.text
  assert results['num_steps'] == 6
  assert train_steps(workdir) == [2, 4, 6]
  (kept,) = glob.glob(os.path.join(workdir, 'damaged_checkpoints', '4-*'))
  assert os.path.isfile(os.path.join(kept, '_CHECKPOINT_METADATA'))
  assert checkpoint.steps_on_disk(workdir) == [2, 4, 6]


@pytest.mark.parametrize('damage', ['flip', 'replace'])
def test_altered_checkpoint_is_not_restored(trained, tmp_path, caplog, damage):
  workdir = copy_run(trained, tmp_path)
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
  assert f'checkpoint {step_dir}' in warned(caplog)
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
  workdir = copy_run(trained, tmp_path)
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
