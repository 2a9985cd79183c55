"""Encode images with a trained model: ``disent_bias.encode``.

The source is a training workdir (its stored config and newest checkpoint
that verifies, ``stored_run.restore_run``), a ``stored_run.Restored``, or a
``(model, params)`` pair whose params may be a ``step.TrainState`` and may
carry the leading seed axis of a multi-seed run (``runner.select_seed``).
Encoding is ``scoring.posterior_fn`` over fixed-size batches
(``scoring.apply_batched``): the same jitted encoder the metrics use.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.models import networks
from disent_bias.training import runner
from disent_bias.training import scoring
from disent_bias.training import stored_run

# A workdir, a ``stored_run.Restored``, or ``(model, params or TrainState)``.
Source = Any


def model_and_params(source: Source, seed: int = 0, step: int | None = None
                     ) -> tuple[networks.VAE, Any]:
  """The model and one seed's parameters (no seed axis) of ``source``.

  Args:
    source: a training workdir path, a ``stored_run.Restored``, or a
      ``(model, params)`` pair; params may be a ``TrainState`` (its
      ``params`` are used) and may have a leading seed axis.
    seed: seed index within a multi-seed run (0 .. num_seeds - 1).
    step: checkpoint step of a workdir; the newest that verifies when None.

  Raises:
    FileNotFoundError / workdir.WorkdirKindError: not a training workdir.
    ValueError: a seed index out of range, ``step`` without a workdir, or
      params that do not fit the model.
    TypeError: a source of another kind.
  """
  if isinstance(source, (str, os.PathLike)):
    source = stored_run.restore_run(os.fspath(source), step)
  elif step is not None:
    raise ValueError(f'step={step} needs a workdir source, got '
                     f'{type(source).__name__}')
  if hasattr(source, 'model') and hasattr(source, 'params'):
    model, params = source.model, source.params
  elif isinstance(source, (tuple, list)) and len(source) == 2:
    model, params = source
  else:
    raise TypeError('encode needs a training workdir, a stored_run.Restored or a '
                    f'(model, params) pair, got {type(source).__name__}')
  if not isinstance(model, networks.VAE):
    raise TypeError(f'encode needs a networks.VAE model, got '
                    f'{type(model).__name__}')
  params = getattr(params, 'params', params)  # A TrainState.
  return model, _one_seed(model, params, seed)


def _one_seed(model: networks.VAE, params: Any, seed: int) -> Any:
  """``params`` without a seed axis: seed ``seed`` sliced out if it has one."""
  dummy = jnp.zeros((1, *model.observation_shape), jnp.float32)
  expected = jax.eval_shape(model.init, jax.random.key(0), dummy)['params']
  want = [x.shape for x in jax.tree.leaves(expected)]
  got = [np.shape(x) for x in jax.tree.leaves(params)]
  if len(got) != len(want):
    raise ValueError(f'params with {len(got)} arrays do not fit the model '
                     f'({len(want)} arrays)')
  if got == want:
    num_seeds = 1
  elif all(g[1:] == w and g[:1] == got[0][:1] for g, w in zip(got, want)):
    num_seeds = got[0][0]
  else:
    raise ValueError('params do not fit the model: shapes '
                     f'{got[:2]}... for {want[:2]}...')
  if not 0 <= seed < num_seeds:
    raise ValueError(f'seed index {seed} out of range: the run has '
                     f'{num_seeds} seed(s), 0 .. {num_seeds - 1}')
  if got == want:
    return params
  return runner.select_seed(params, seed)


def encode(source: Source, images: np.ndarray, *, seed: int = 0,
           batch_size: int = 256, step: int | None = None,
           log_variance: bool = False
           ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
  """Posterior means (and log-variances) of images under a trained model.

  Args:
    source: a training workdir, a ``stored_run.Restored`` or ``(model, params)``
      (``model_and_params``).
    images: float (n, *obs) in [0, 1], the model's observation shape.
    seed: seed index within a multi-seed run.
    batch_size: images per jitted call (the last is padded).
    step: checkpoint step of a workdir; newest when None.
    log_variance: also return the posterior log-variances.

  Returns:
    float32 numpy means (n, D); with ``log_variance``, ``(means, logvars)``.

  Raises:
    ValueError: images of another shape than the model's observations, and
      the errors of ``model_and_params``.
  """
  model, params = model_and_params(source, seed, step)
  images = np.asarray(images, np.float32)
  if images.shape[1:] != tuple(model.observation_shape):
    raise ValueError(f'images must have shape (n, '
                     f'{", ".join(map(str, model.observation_shape))}) for '
                     f'this model, got {images.shape}')
  mu, logvar = scoring.apply_batched(scoring.posterior_fn(model), params,
                                     images, batch_size)
  return (mu, logvar) if log_variance else mu


__all__ = ['encode', 'model_and_params']
