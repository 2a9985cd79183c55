"""Tests of the verified Orbax checkpoints: round trip and injected damage."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias import checkpoint


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


def _damage(mngr, step):
  """Records a wrong digest for ``step``, as if its files had changed."""
  path = os.path.join(os.path.dirname(str(mngr.directory)),
                      checkpoint.DIGESTS_FILE)
  with open(path) as f:
    digests = json.load(f)
  digests[str(step)] = '0' * 64
  with open(path, 'w') as f:
    json.dump(digests, f)


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
  assert os.path.exists(tmp_path / checkpoint.DIGESTS_FILE)


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
