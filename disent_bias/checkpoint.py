"""Orbax checkpoints of the train state (``workdir/checkpoints``)."""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp


def manager(workdir: str, max_to_keep: int = 3,
            read_only: bool = False) -> ocp.CheckpointManager:
  """A ``CheckpointManager`` on ``workdir/checkpoints``.

  Checkpoints are written to a temporary directory and renamed when
  complete, so a process killed while saving leaves the previous checkpoint
  as the latest one.
  """
  directory = os.path.join(os.path.abspath(workdir), 'checkpoints')
  options = ocp.CheckpointManagerOptions(
      max_to_keep=max_to_keep, create=not read_only, read_only=read_only)
  return ocp.CheckpointManager(directory, options=options)


def save(mngr: ocp.CheckpointManager, step: int, tree: Any) -> None:
  """Saves a pytree of arrays at ``step`` (asynchronously)."""
  mngr.save(step, args=ocp.args.StandardSave(tree))


def restore(mngr: ocp.CheckpointManager, step: int, abstract: Any) -> Any:
  """Restores the pytree saved at ``step`` with the structure, shapes and
  shardings of ``abstract`` (a tree of ``jax.ShapeDtypeStruct``)."""
  return mngr.restore(step, args=ocp.args.StandardRestore(abstract))


def abstract_like(tree: Any) -> Any:
  """``jax.ShapeDtypeStruct`` leaves (with shardings) for a tree of arrays."""
  return jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype,
                                     sharding=getattr(x, 'sharding', None)),
      tree)
