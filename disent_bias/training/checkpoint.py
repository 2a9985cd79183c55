"""Orbax checkpoints of the train state (``workdir/checkpoints``), verified.

Orbax writes each checkpoint to a temporary directory and renames it when
complete, so a process killed while saving leaves the previous checkpoint as
the newest one. It records no checksum of the arrays, though: a truncated,
missing or altered file is either a raw TensorStore error or, worse, restored
silently. So ``save`` records a SHA-256 digest of the saved values in a file
of its own, ``workdir/checkpoint_digests/<step>.json`` (written atomically,
before Orbax finishes), and ``restore`` recomputes it from the restored values
and refuses a checkpoint that does not match (``DamagedCheckpointError``).
One file per step, each written once, so a damaged digest file costs the
verification of that step only. Older versions kept one table,
``workdir/checkpoint_digests.json``: it is still read, and the next ``save``
moves its entries into per-step files. ``restore_newest_good`` skips damaged
checkpoints, newest first, with a warning naming each, and can move them to
``workdir/damaged_checkpoints/``.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from absl import logging
import jax
import numpy as np
import orbax.checkpoint as ocp

from disent_bias.utils import errors
from disent_bias.utils import workdir as workdir_lib

DIGESTS_DIR = 'checkpoint_digests'
LEGACY_DIGESTS_FILE = 'checkpoint_digests.json'  # Older versions' table.
DAMAGED_DIR = 'damaged_checkpoints'


class DamagedCheckpointError(errors.UserError, ValueError):
  """A checkpoint that cannot be read or does not match its digest."""


def manager(workdir: str, max_to_keep: int = 3,
            read_only: bool = False) -> ocp.CheckpointManager:
  """A ``CheckpointManager`` on ``workdir/checkpoints``."""
  directory = os.path.join(os.path.abspath(workdir), 'checkpoints')
  options = ocp.CheckpointManagerOptions(
      max_to_keep=max_to_keep, create=not read_only, read_only=read_only)
  return ocp.CheckpointManager(directory, options=options)


def steps_on_disk(workdir: str) -> list[int]:
  """Steps of the complete checkpoints in ``workdir`` (no Orbax, no writes)."""
  directory = os.path.join(workdir, 'checkpoints')
  if not os.path.isdir(directory):
    return []
  return sorted(int(n) for n in os.listdir(directory) if n.isdigit())


def tree_digest(tree: Any) -> str:
  """SHA-256 over every leaf's path, dtype, shape and bytes (host values)."""
  digest = hashlib.sha256()
  leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
  for path, leaf in leaves:
    value = np.ascontiguousarray(jax.device_get(leaf))
    digest.update(f'{jax.tree_util.keystr(path)}:{value.dtype}:'
                  f'{value.shape}:'.encode())
    digest.update(value.tobytes())
  return digest.hexdigest()


def _workdir(mngr: ocp.CheckpointManager) -> str:
  return os.path.dirname(str(mngr.directory))


def _digest_path(mngr: ocp.CheckpointManager, step: int) -> str:
  return os.path.join(_workdir(mngr), DIGESTS_DIR, f'{step}.json')


def _legacy_path(mngr: ocp.CheckpointManager) -> str:
  return os.path.join(_workdir(mngr), LEGACY_DIGESTS_FILE)


def _legacy_digests(mngr: ocp.CheckpointManager) -> dict[str, str]:
  """The table of older versions (``{step: digest}``; {} when absent or
  torn, the latter with a warning)."""
  table = workdir_lib.read_json_or_none(_legacy_path(mngr))
  return table if isinstance(table, dict) else {}


def recorded_digest(mngr: ocp.CheckpointManager,
                    step: int) -> tuple[str, str] | None:
  """The digest recorded when ``step`` was saved and the file holding it.

  From ``checkpoint_digests/<step>.json``, else from the table of older
  versions; None when neither has it (a torn file is named in a warning).
  """
  path = _digest_path(mngr, step)
  record = workdir_lib.read_json_or_none(path)
  if (isinstance(record, dict) and record.get('step') == step
      and isinstance(record.get('sha256'), str)):
    return record['sha256'], path
  digest = _legacy_digests(mngr).get(str(step), None)
  return (digest, _legacy_path(mngr)) if isinstance(digest, str) else None


def _write_digest(mngr: ocp.CheckpointManager, step: int,
                  digest: str) -> None:
  workdir_lib.write_json(_digest_path(mngr, step),
                         {'step': step, 'sha256': digest})


def _migrate_legacy_digests(mngr: ocp.CheckpointManager) -> None:
  """Moves the entries of the older versions' table into per-step files
  (the steps on disk without one), then removes the table."""
  if not os.path.exists(_legacy_path(mngr)):
    return
  on_disk = set(mngr.all_steps())
  for key, digest in _legacy_digests(mngr).items():
    if (key.isdigit() and int(key) in on_disk and
        not os.path.exists(_digest_path(mngr, int(key)))):
      _write_digest(mngr, int(key), digest)
  os.remove(_legacy_path(mngr))


def _prune_digests(mngr: ocp.CheckpointManager, keep: set[int]) -> None:
  """Removes the digest files of steps not in ``keep``."""
  directory = os.path.join(_workdir(mngr), DIGESTS_DIR)
  if not os.path.isdir(directory):
    return
  for name in os.listdir(directory):
    stem = name[:-len('.json')] if name.endswith('.json') else ''
    if stem.isdigit() and int(stem) not in keep:
      os.remove(os.path.join(directory, name))


def step_path(mngr: ocp.CheckpointManager, step: int) -> str:
  """The directory of checkpoint ``step``."""
  return os.path.join(str(mngr.directory), str(step))


def save(mngr: ocp.CheckpointManager, step: int, tree: Any) -> None:
  """Records the digest of ``tree``, then saves it at ``step`` (async).

  The digest files of steps no longer on disk are removed.
  """
  if jax.process_index() == 0:
    _migrate_legacy_digests(mngr)
    _prune_digests(mngr, set(mngr.all_steps()) | {step})
    _write_digest(mngr, step, tree_digest(tree))
  mngr.save(step, args=ocp.args.StandardSave(tree))


def restore(mngr: ocp.CheckpointManager, step: int, abstract: Any) -> Any:
  """Restores and verifies the pytree saved at ``step``.

  Args:
    mngr: the manager.
    step: a step of ``mngr.all_steps()``.
    abstract: structure, shapes and shardings (``jax.ShapeDtypeStruct``).

  Raises:
    FileNotFoundError: no checkpoint at ``step`` (names the steps on disk).
    DamagedCheckpointError: unreadable, or its values differ from the digest
      recorded at save time.
  """
  path = step_path(mngr, step)
  if step not in mngr.all_steps():
    steps = ', '.join(map(str, mngr.all_steps())) or 'none'
    raise FileNotFoundError(f'no checkpoint at step {step} in '
                            f'{mngr.directory}; steps on disk: {steps}')
  try:
    tree = mngr.restore(step, args=ocp.args.StandardRestore(abstract))
  except Exception as e:  # Orbax and TensorStore raise many kinds.
    reason = str(e).strip().splitlines()[0] if str(e).strip() else ''
    raise DamagedCheckpointError(
        f'checkpoint {path} is unreadable ({type(e).__name__}: '
        f'{reason[:200]})') from e
  recorded = recorded_digest(mngr, step)
  if recorded is None:
    logging.warning('checkpoint %s has no readable recorded digest (saved by '
                    'an older version, or %s is missing or damaged); not '
                    'verified', path, _digest_path(mngr, step))
  elif tree_digest(tree) != recorded[0]:
    raise DamagedCheckpointError(
        f'checkpoint {path} does not match the digest recorded when it was '
        f'saved ({recorded[1]}): its files were changed or damaged')
  return tree


def restore_newest_good(mngr: ocp.CheckpointManager, abstract: Any, *,
                        move_damaged: bool = False,
                        max_step: int | None = None
                        ) -> tuple[int | None, Any]:
  """The newest checkpoint that restores and verifies, skipping damaged ones.

  Args:
    mngr: the manager.
    abstract: see ``restore``.
    move_damaged: move each damaged checkpoint to
      ``workdir/damaged_checkpoints/`` (kept, out of Orbax's way, so the run
      can save that step again).
    max_step: ignore newer checkpoints.

  Returns:
    ``(step, tree)``, or ``(None, None)`` when no checkpoint is good.
  """
  for step in sorted(mngr.all_steps(), reverse=True):
    if max_step is not None and step > max_step:
      continue
    try:
      return step, restore(mngr, step, abstract)
    except DamagedCheckpointError as e:
      if move_damaged:
        target = _move_damaged(mngr, step)
        logging.warning('%s; skipped it and moved it to %s', e, target)
      else:
        logging.warning('%s; skipped it', e)
  return None, None


def _move_damaged(mngr: ocp.CheckpointManager, step: int) -> str:
  """Moves checkpoint ``step`` to ``damaged_checkpoints/<step>-<stamp>``."""
  target = os.path.join(_workdir(mngr), DAMAGED_DIR,
                        f'{step}-{workdir_lib.moved_aside_stamp()}')
  os.makedirs(os.path.dirname(target), exist_ok=True)
  os.replace(step_path(mngr, step), target)
  mngr.reload()
  return target
