"""The train loop's finiteness checks and their failure messages.

A non-finite loss term stops the run at the first bad step
(``check_finite``); a state that is not finite is never checkpointed
(``params_finite``); both messages say where the last good checkpoint is
(``last_good_text``).
"""

from __future__ import annotations

import os
from typing import Callable, Mapping

import jax
import numpy as np

from disent_bias.training import step as step_lib


def check_finite(metrics: Mapping[str, np.ndarray], first_step: int,
                 last_good: Callable[[], int | None], workdir: str) -> None:
  """Raises FloatingPointError at the first step with a non-finite term.

  ``metrics`` values have shape (S, T, ...); step ``first_step + t + 1`` is
  the step count after update t. ``last_good`` returns the newest verified
  checkpoint (called only on failure: it restores that checkpoint).
  """
  bad = None
  for value in metrics.values():
    value = np.asarray(value)
    finite = np.isfinite(
        value.reshape(value.shape[0], value.shape[1], -1)).all(-1)
    if not finite.all():
      seeds, steps = np.nonzero(~finite)
      t = int(steps.min())
      if bad is None or t < bad[0]:
        bad = (t, int(seeds[steps == t][0]))
  if bad is None:
    return
  t, s = bad
  terms = ', '.join(f'{k}={np.asarray(v)[s, t]:.6g}' for k, v in metrics.items()
                    if np.asarray(v).ndim == 2)
  raise FloatingPointError(
      f'non-finite loss at step {first_step + t + 1} (seed index {s}): '
      f'{terms}; {last_good_text(last_good(), workdir)}')


def last_good_text(step: int | None, workdir: str) -> str:
  """Where the last good checkpoint is, for a failure message."""
  if step is None:
    return 'no verified checkpoint was written'
  return (f'last good checkpoint (verified): step {step} in '
          f'{os.path.join(workdir, "checkpoints")}')


def params_finite(state: step_lib.TrainState) -> bool:
  """Whether every floating leaf of the trained state (network parameters,
  the objective's trainable parameters and own state) is finite."""
  leaves = jax.device_get(
      jax.tree.leaves((state.params, state.objective_state)))
  return all(np.isfinite(x).all() for x in leaves
             if np.issubdtype(x.dtype, np.inexact))


__all__ = ['check_finite', 'last_good_text', 'params_finite']
