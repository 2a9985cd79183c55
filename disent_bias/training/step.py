"""The pure pieces of training: train state, one optimisation step, batches.

Nothing here reads a config: ``setup.build`` binds these functions to a
resolved one. Every function is pure and jit-safe (``make_batch`` for pure
datasets), so the runner can ``vmap`` them over seeds and ``lax.scan`` them
over steps.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax

from disent_bias import data as data_lib
from disent_bias.models import networks
from disent_bias.models import objective_base as base


@flax.struct.dataclass
class TrainState:
  """Everything a train step updates (one seed; multi-seed adds a leading axis).

  Attributes:
    step: int32 () number of completed steps.
    params: model (VAE) parameters.
    opt_state: optax state of the main optimiser over
      ``(params, objective_state.trainable)``.
    objective_state: the objective's ``ObjectiveState``.
  """
  step: jax.Array
  params: Any
  opt_state: Any
  objective_state: base.ObjectiveState


def create_train_state(key: jax.Array, *, objective: base.Objective,
                       tx: optax.GradientTransformation, ctx: base.Context
                       ) -> TrainState:
  """Initialises the model, the objective's state and the main optimiser.

  Args:
    key: the seed's ``init_key``; split into the model's key, the key of the
      objective's trainable parameters and that of its own state.
    objective: the registered objective.
    tx: the main optimiser (model params and the objective's trainable ones).
    ctx: the objective's context (``ctx.model`` is the VAE).

  Returns:
    A ``TrainState`` at step 0 for one seed.
  """
  model_key, trainable_key, own_key = jax.random.split(key, 3)
  model = ctx.model
  dummy = jnp.zeros((1, *model.observation_shape), jnp.float32)
  params = model.init(model_key, dummy, method=_encode_decode)['params']
  objective_state = objective.init(trainable_key, own_key, ctx)
  return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                    opt_state=tx.init((params, objective_state.trainable)),
                    objective_state=objective_state)


def _encode_decode(module: networks.VAE, x):
  """Touches encoder and decoder so ``init`` creates all parameters."""
  mu, _ = module.encode(x)
  return module.decode(mu)


def global_norm(tree: Any) -> jax.Array:
  """``optax.global_norm``; float32 0 for an empty tree."""
  leaves = jax.tree.leaves(tree)
  if not leaves:
    return jnp.zeros((), jnp.float32)
  return optax.global_norm(tree)


def train_step(state: TrainState, batch: Mapping[str, jax.Array],
               key: jax.Array, *, objective: base.Objective,
               tx: optax.GradientTransformation, hparams: Any,
               ctx: base.Context) -> tuple[TrainState, dict[str, jax.Array]]:
  """One optimisation step of one model (pure; vmappable over seeds).

  The main optimiser updates ``(params, objective_state.trainable)`` by the
  gradient of the objective's loss; then the objective updates its own
  state (``Objective.update``) on the pre-update params.

  Args:
    state: the current state.
    batch: ``{'image': (B, *obs)}`` (+ ``'image2'`` for pair objectives).
    key: the seed's ``step_key``; the step's key is ``fold_in(key, step)``,
      split into the loss's key and the objective update's key.
    objective: the registered objective.
    tx: the main optimiser.
    hparams: the objective's hyperparameters (its ``hparams`` dataclass).
    ctx: the objective's context (model, reconstruction and its weight).

  Returns:
    The new state and a flat dict of float32 metrics: the objective's aux
    terms, ``grad_norm`` (of all trained leaves), ``param_norm`` (of the
    network parameters) and the metrics of the objective's update.
  """
  step_key = jax.random.fold_in(key, state.step)
  loss_key, update_key = jax.random.split(step_key)

  def loss_fn(trainable):
    params, extra = trainable
    objective_state = state.objective_state.replace(trainable=extra)
    return objective.loss(params, objective_state, batch, loss_key,
                          step=state.step, hparams=hparams, ctx=ctx)

  trainable = (state.params, state.objective_state.trainable)
  (_, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(trainable)
  updates, opt_state = tx.update(grads, state.opt_state, trainable)
  params, extra = optax.apply_updates(trainable, updates)
  metrics = dict(aux)
  metrics['grad_norm'] = global_norm(grads)
  metrics['param_norm'] = global_norm(params)
  own, own_metrics = objective.update_own(
      state.objective_state.own, state.params, batch, update_key,
      hparams=hparams, ctx=ctx)
  metrics.update(own_metrics)
  objective_state = base.ObjectiveState(trainable=extra, own=own)
  new_state = state.replace(step=state.step + 1, params=params,
                            opt_state=opt_state,
                            objective_state=objective_state)
  return new_state, metrics


def make_batch(dataset: data_lib.GroundTruthData, key: jax.Array,
               batch_size: int,
               sample_factors: Callable[..., tuple[jax.Array, ...]]
               ) -> dict[str, Any]:
  """Batch ``{'image'[, 'image2']}`` (B, *obs) for a key.

  ``sample_factors(key, factor_sizes, batch_size)`` draws the factors: the
  objective's sampler with its hyperparameters bound (``setup.Setup``).
  Jit-safe for pure datasets; for file-backed ones call it outside jit (it
  returns numpy arrays).
  """
  factors = sample_factors(key, dataset.factor_sizes, batch_size)
  if not dataset.is_pure:
    factors = [np.asarray(f) for f in factors]
  images = [dataset.render(f) for f in factors]
  batch = {'image': images[0]}
  if len(images) > 1:
    batch['image2'] = images[1]
  return batch


# The stored (checkpoint) names of the state: the layout every version has
# written, so old checkpoints restore. The objective's trainable parameters
# are stored as 'extra', each entry of its own state under its own name
# (FactorVAE's two are the old discriminator fields); empty ones are left out.
_CORE = ('step', 'params', 'opt_state')
_TRAINABLE = 'extra'


def to_tree(state: TrainState) -> dict[str, Any]:
  """The state as a flat dict for Orbax, without empty entries."""
  own = state.objective_state.own
  clash = set(own) & {*_CORE, _TRAINABLE}
  if clash:
    raise ValueError(f'objective state names {sorted(clash)} clash with the '
                     'train state\'s')
  tree = {'step': state.step, 'params': state.params,
          _TRAINABLE: state.objective_state.trainable,
          'opt_state': state.opt_state, **own}
  return {k: v for k, v in tree.items() if jax.tree.leaves(v)}


def from_tree(tree: Mapping[str, Any]) -> TrainState:
  """Inverse of ``to_tree`` (also of checkpoints written before the objective
  state existed: same names); absent (empty) entries become ``{}``."""
  own = {k: v for k, v in tree.items() if k not in (*_CORE, _TRAINABLE)}
  objective_state = base.ObjectiveState(
      trainable=tree.get(_TRAINABLE, {}), own=own)
  return TrainState(step=tree['step'], params=tree['params'],
                    opt_state=tree.get('opt_state', {}),
                    objective_state=objective_state)


__all__ = ['TrainState', 'create_train_state', 'train_step', 'global_norm',
           'make_batch', 'to_tree', 'from_tree']
