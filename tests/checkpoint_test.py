"""Tests of the verified Orbax checkpoints: round trip and injected damage."""

import json
import logging
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias.training import checkpoint


def _tree(value: float):
  return {'w': jnp.full((3, 2), value, jnp.float32),
          'step': jnp.asarray(int(value), jnp.int32)}


def _abstract(tree):
  return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), tree)


def _saved(workdir, steps):
  mngr = checkpoint.manager(str(workdir), max_to_keep=5)
  for step in steps:
    checkpoint.save(mngr, step, _tree(float(step)))
  mngr.wait_until_finished()
  return mngr


def _digest_file(workdir, step):
  return os.path.join(workdir, checkpoint.DIGESTS_DIR, f'{step}.json')


def _damage(mngr, step):
  """Records a wrong digest for ``step``, as if its files had changed."""
  path = _digest_file(os.path.dirname(str(mngr.directory)), step)
  with open(path, 'w') as f:
    json.dump({'step': step, 'sha256': '0' * 64}, f)


def _as_legacy_table(workdir):
  """Rewrites the per-step digest files as the older versions' one table."""
  directory = os.path.join(workdir, checkpoint.DIGESTS_DIR)
  table = {}
  for name in os.listdir(directory):
    with open(os.path.join(directory, name)) as f:
      record = json.load(f)
    table[str(record['step'])] = record['sha256']
  shutil.rmtree(directory)
  with open(os.path.join(workdir, checkpoint.LEGACY_DIGESTS_FILE), 'w') as f:
    json.dump(table, f)


def test_tree_digest_depends_on_values_dtypes_and_paths():
  base = checkpoint.tree_digest(_tree(1.0))
  assert base == checkpoint.tree_digest(_tree(1.0))
  assert base != checkpoint.tree_digest(_tree(2.0))
  other_dtype = {'w': jnp.full((3, 2), 1.0, jnp.float16),
                 'step': jnp.asarray(1, jnp.int32)}
  assert base != checkpoint.tree_digest(other_dtype)
  renamed = {'v': _tree(1.0)['w'], 'step': _tree(1.0)['step']}
  assert base != checkpoint.tree_digest(renamed)


def test_save_restore_round_trip(tmp_path):
  mngr = _saved(tmp_path, [1, 2])
  assert checkpoint.steps_on_disk(str(tmp_path)) == [1, 2]
  restored = checkpoint.restore(mngr, 2, _abstract(_tree(0.0)))
  np.testing.assert_array_equal(restored['w'], np.full((3, 2), 2.0))
  assert int(restored['step']) == 2
  assert checkpoint.step_path(mngr, 2) == str(tmp_path / 'checkpoints' / '2')


def test_steps_on_disk_without_checkpoints(tmp_path):
  assert checkpoint.steps_on_disk(str(tmp_path)) == []


def test_missing_step_names_the_steps_on_disk(tmp_path):
  mngr = _saved(tmp_path, [1])
  with pytest.raises(FileNotFoundError, match='steps on disk: 1'):
    checkpoint.restore(mngr, 5, _abstract(_tree(0.0)))


def test_digest_mismatch_is_a_damaged_checkpoint(tmp_path):
  mngr = _saved(tmp_path, [1])
  _damage(mngr, 1)
  with pytest.raises(checkpoint.DamagedCheckpointError, match='digest'):
    checkpoint.restore(mngr, 1, _abstract(_tree(0.0)))


def test_newest_good_skips_and_moves_the_damaged_one(tmp_path):
  mngr = _saved(tmp_path, [1, 2])
  _damage(mngr, 2)
  step, tree = checkpoint.restore_newest_good(
      mngr, _abstract(_tree(0.0)), move_damaged=True)
  assert step == 1
  np.testing.assert_array_equal(tree['w'], np.full((3, 2), 1.0))
  # Step 2 is moved aside whole; step 1 and the digests stay.
  (moved,) = os.listdir(tmp_path / checkpoint.DAMAGED_DIR)
  assert moved.startswith('2-')
  assert os.listdir(tmp_path / checkpoint.DAMAGED_DIR / moved)
  assert checkpoint.steps_on_disk(str(tmp_path)) == [1]
  assert mngr.all_steps() == [1]
  assert os.path.exists(_digest_file(tmp_path, 1))


def test_newest_good_keeps_damaged_in_place_unless_asked(tmp_path):
  mngr = _saved(tmp_path, [1, 2])
  _damage(mngr, 2)
  step, _ = checkpoint.restore_newest_good(mngr, _abstract(_tree(0.0)))
  assert step == 1
  assert checkpoint.steps_on_disk(str(tmp_path)) == [1, 2]
  assert not os.path.exists(tmp_path / checkpoint.DAMAGED_DIR)


def test_newest_good_respects_max_step_and_may_find_none(tmp_path):
  mngr = _saved(tmp_path, [1, 2])
  step, _ = checkpoint.restore_newest_good(mngr, _abstract(_tree(0.0)),
                                           max_step=1)
  assert step == 1
  _damage(mngr, 1)
  assert checkpoint.restore_newest_good(
      mngr, _abstract(_tree(0.0)), max_step=1) == (None, None)


def test_each_step_has_its_own_digest_file_kept_with_its_checkpoint(
    tmp_path):
  mngr = checkpoint.manager(str(tmp_path), max_to_keep=2)
  for step in (1, 2, 3):
    checkpoint.save(mngr, step, _tree(float(step)))
  mngr.wait_until_finished()
  checkpoint.save(mngr, 4, _tree(4.0))  # Prunes the digest of step 1.
  mngr.wait_until_finished()
  assert mngr.all_steps() == [3, 4]
  assert sorted(os.listdir(tmp_path / checkpoint.DIGESTS_DIR)) == [
      '2.json', '3.json', '4.json']
  with open(_digest_file(tmp_path, 4)) as f:
    assert json.load(f) == {'step': 4,
                            'sha256': checkpoint.tree_digest(_tree(4.0))}


def test_a_torn_digest_file_costs_the_verification_of_its_step_only(
    tmp_path, caplog):
  mngr = _saved(tmp_path, [1, 2])
  with open(_digest_file(tmp_path, 2), 'w') as f:
    f.write('{"step": 2, "sha')
  checkpoint.save(mngr, 3, _tree(3.0))
  mngr.wait_until_finished()
  abstract = _abstract(_tree(0.0))
  for step in (1, 3):
    assert checkpoint.recorded_digest(mngr, step)[0] == (
        checkpoint.tree_digest(_tree(float(step))))
    checkpoint.restore(mngr, step, abstract)
  with caplog.at_level(logging.WARNING):
    checkpoint.restore(mngr, 2, abstract)
  assert f'{_digest_file(tmp_path, 2)} is not valid JSON' in caplog.text
  assert 'no readable recorded digest' in caplog.text
  _damage(mngr, 1)
  with pytest.raises(checkpoint.DamagedCheckpointError, match='digest'):
    checkpoint.restore(mngr, 1, abstract)


def test_the_older_versions_table_is_read_then_moved_into_step_files(
    tmp_path):
  mngr = _saved(tmp_path, [1, 2])
  _as_legacy_table(str(tmp_path))
  legacy = str(tmp_path / checkpoint.LEGACY_DIGESTS_FILE)
  abstract = _abstract(_tree(0.0))
  assert checkpoint.recorded_digest(mngr, 2) == (
      checkpoint.tree_digest(_tree(2.0)), legacy)
  checkpoint.restore(mngr, 2, abstract)
  with open(legacy) as f:
    table = json.load(f)
  with open(legacy, 'w') as f:
    json.dump(dict(table, **{'1': '0' * 64}), f)
  with pytest.raises(checkpoint.DamagedCheckpointError,
                     match=f'digest recorded when it was saved \\({legacy}\\)'):
    checkpoint.restore(mngr, 1, abstract)
  with open(legacy, 'w') as f:
    json.dump(table, f)
  checkpoint.save(mngr, 3, _tree(3.0))
  mngr.wait_until_finished()
  assert not os.path.exists(legacy)
  for step in (1, 2, 3):
    assert checkpoint.recorded_digest(mngr, step) == (
        checkpoint.tree_digest(_tree(float(step))),
        _digest_file(str(tmp_path), step))
