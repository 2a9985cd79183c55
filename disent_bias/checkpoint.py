"""Orbax checkpoints of the train state (``workdir/checkpoints``), verified.

Orbax writes each checkpoint to a temporary directory and renames it when
complete, so a process killed while saving leaves the previous checkpoint as
the newest one. It records no checksum of the arrays, though: a truncated,
missing or altered file is either a raw TensorStore error or, worse, restored
silently. So ``save`` records a SHA-256 digest of the saved values in
``workdir/checkpoint_digests.json`` (written atomically, before Orbax
finishes), and ``restore`` recomputes it from the restored values and
refuses a checkpoint that does not match (``DamagedCheckpointError``).
``restore_newest_good`` skips damaged checkpoints, newest first, with a
warning naming each, and can move them to ``workdir/damaged_checkpoints/``.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from absl import logging
import jax
import numpy as np
import orbax.checkpoint as ocp

from disent_bias import errors
from disent_bias import workdir as workdir_lib

DIGESTS_FILE = 'checkpoint_digests.json'
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


def _digests_path(mngr: ocp.CheckpointManager) -> str:
  return os.path.join(_workdir(mngr), DIGESTS_FILE)


def _read_digests(mngr: ocp.CheckpointManager) -> dict[str, str]:
  return workdir_lib.read_json_or_none(_digests_path(mngr)) or {}


def step_path(mngr: ocp.CheckpointManager, step: int) -> str:
  """The directory of checkpoint ``step``."""
  return os.path.join(str(mngr.directory), str(step))


def save(mngr: ocp.CheckpointManager, step: int, tree: Any) -> None:
  """Records the digest of ``tree``, then saves it at ``step`` (async)."""
  if jax.process_index() == 0:
    kept = {str(s) for s in mngr.all_steps()}
    digests = {k: v for k, v in _read_digests(mngr).items() if k in kept}
    digests[str(step)] = tree_digest(tree)
    workdir_lib.write_json(_digests_path(mngr), digests)
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
  expected = _read_digests(mngr).get(str(step), None)
  if expected is None:
    logging.warning('checkpoint %s has no recorded digest (saved by an older '
                    'version or before the digest was written); not verified',
                    path)
  elif tree_digest(tree) != expected:
    raise DamagedCheckpointError(
        f'checkpoint {path} does not match the digest recorded when it was '
        f'saved ({DIGESTS_FILE}): its files were changed or damaged')
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
