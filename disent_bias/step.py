"""The pure pieces of training: train state, one optimisation step, batches.

Nothing here reads a config: ``setup.build`` binds these functions to a
resolved one. Every function is pure and jit-safe (``make_batch`` for pure
datasets), so the runner can ``vmap`` them over seeds and ``lax.scan`` them
over steps.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from disent_bias import data as data_lib
from disent_bias.data import samplers
from disent_bias.models import networks
from disent_bias.models import objectives as objectives_lib


@flax.struct.dataclass
class TrainState:
  """Everything a train step updates (one seed; multi-seed adds a leading axis).

  Attributes:
    step: int32 () number of completed steps.
    params: model (VAE) parameters.
    extra: extra trainable parameters of the objective (``init_extra``), or
      ``{}``; optimised with the main optimiser.
    opt_state: optax state of (params, extra).
    disc_params: discriminator parameters (FactorVAE) or ``{}``.
    disc_opt_state: optax state of the discriminator or ``{}``.
  """
  step: jax.Array
  params: Any
  extra: Any
  opt_state: Any
  disc_params: Any
  disc_opt_state: Any


def create_train_state(key: jax.Array, *, model: networks.VAE,
                       objective: objectives_lib.Objective,
                       tx: optax.GradientTransformation,
                       disc_tx: optax.GradientTransformation | None = None,
                       disc_hidden: int = 1000, disc_layers: int = 6
                       ) -> TrainState:
  """Initialises model, objective extras, discriminator and optimisers.

  Args:
    key: the seed's ``init_key``; split into model, extra and disc keys.
    model: the VAE (its ``observation_shape`` and ``num_latents``).
    objective: the registered objective.
    tx: the main optimiser (model params and objective extras).
    disc_tx: the discriminator optimiser (objectives with one).
    disc_hidden: discriminator width (``model.disc_hidden``).
    disc_layers: discriminator depth (``model.disc_layers``).

  Returns:
    A ``TrainState`` at step 0 for one seed.
  """
  model_key, extra_key, disc_key = jax.random.split(key, 3)
  dummy = jnp.zeros((1, *model.observation_shape), jnp.float32)
  params = model.init(model_key, dummy, method=_encode_decode)['params']
  num_latents = model.num_latents
  extra = (objective.init_extra(extra_key, num_latents)
           if objective.has_extra else {})
  opt_state = tx.init((params, extra))
  if objective.has_disc:
    disc_params = objective.disc_init(disc_key, num_latents,
                                      hidden=disc_hidden,
                                      num_layers=disc_layers)
    disc_opt_state = disc_tx.init(disc_params)
  else:
    disc_params, disc_opt_state = {}, {}
  return TrainState(step=jnp.zeros((), jnp.int32), params=params, extra=extra,
                    opt_state=opt_state, disc_params=disc_params,
                    disc_opt_state=disc_opt_state)


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
               key: jax.Array, *, objective: objectives_lib.Objective,
               model: nn.Module, tx: optax.GradientTransformation,
               hparams: Mapping[str, Any], recon: str = 'bernoulli',
               recon_weight: float = 1.0,
               disc_tx: optax.GradientTransformation | None = None,
               ) -> tuple[TrainState, dict[str, jax.Array]]:
  """One optimisation step of one model (pure; vmappable over seeds).

  Args:
    state: the current state.
    batch: ``{'image': (B, *obs)}`` (+ ``'image2'`` for pair objectives).
    key: the seed's ``step_key``; the step's key is ``fold_in(key, step)``.
    objective: the registered objective.
    model: the VAE module.
    tx: the main optimiser (model params and objective extras).
    hparams: the loss's resolved hyperparameters (``objective.loss_hparams``).
    recon: reconstruction loss name.
    recon_weight: the reconstruction term's weight in the loss
      (``model.recon_weight``).
    disc_tx: the discriminator optimiser (FactorVAE).

  Returns:
    The new state and a flat dict of float32 metrics: the objective's aux
    terms, ``grad_norm`` and ``param_norm``, and ``disc_*`` terms when the
    objective has a discriminator.
  """
  step_key = jax.random.fold_in(key, state.step)
  vae_key, disc_key = jax.random.split(step_key)

  def loss_fn(trainable):
    params, extra = trainable
    kwargs = dict(hparams)
    if objective.has_extra:
      kwargs['extra'] = extra
    if objective.has_disc:
      kwargs['disc_params'] = state.disc_params
    return objective.loss_fn(params, batch, vae_key, step=state.step,
                             model=model, recon=recon,
                             recon_weight=recon_weight, **kwargs)

  trainable = (state.params, state.extra)
  (_, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(trainable)
  updates, opt_state = tx.update(grads, state.opt_state, trainable)
  params, extra = optax.apply_updates(trainable, updates)
  metrics = dict(aux)
  metrics['grad_norm'] = global_norm(grads)
  metrics['param_norm'] = global_norm(params)
  disc_params, disc_opt_state = state.disc_params, state.disc_opt_state
  if objective.has_disc:
    disc_params, disc_opt_state, disc_metrics = _disc_step(
        state, batch, disc_key, objective=objective, model=model,
        disc_tx=disc_tx)
    metrics.update(disc_metrics)
  new_state = state.replace(step=state.step + 1, params=params, extra=extra,
                            opt_state=opt_state, disc_params=disc_params,
                            disc_opt_state=disc_opt_state)
  return new_state, metrics


def _disc_step(state: TrainState, batch: Mapping[str, jax.Array],
               key: jax.Array, *, objective: objectives_lib.Objective,
               model: nn.Module, disc_tx: optax.GradientTransformation
               ) -> tuple[Any, Any, dict[str, jax.Array]]:
  """The discriminator's update (FactorVAE) on the step's pre-update params.

  Returns the new discriminator params and optimiser state, and its aux
  terms named ``disc_*``.
  """
  (_, disc_aux), disc_grads = jax.value_and_grad(
      objective.disc_loss_fn, has_aux=True)(
          state.disc_params, state.params, batch, key, model=model)
  disc_updates, disc_opt_state = disc_tx.update(
      disc_grads, state.disc_opt_state, state.disc_params)
  disc_params = optax.apply_updates(state.disc_params, disc_updates)
  metrics = {name if name.startswith('disc') else f'disc_{name}': value
             for name, value in disc_aux.items()}
  return disc_params, disc_opt_state, metrics


def sample_batch_factors(key: jax.Array, factor_sizes: Sequence[int],
                         batch_size: int, pairs: str | None = None,
                         **options) -> tuple[jax.Array, ...]:
  """Factor indices of one batch: ``(w,)`` or a pair ``(w, w2)``, int32 (B, K).

  ``pairs='temporal'`` uses ``laplace_transition_pairs`` (option ``rate``),
  ``'shared'`` uses ``shared_factor_pairs`` (option ``k``); the options are
  the objective's (``Objective.split_hparams``).
  """
  if pairs is None:
    return (samplers.uniform_factors(key, factor_sizes, batch_size),)
  if pairs == 'temporal':
    return samplers.laplace_transition_pairs(key, factor_sizes, batch_size,
                                             rate=options['rate'])
  if pairs == 'shared':
    return samplers.shared_factor_pairs(key, factor_sizes, batch_size,
                                        k=options['k'])
  raise ValueError(f'unknown pairs {pairs!r}; valid: None, temporal, shared')


def make_batch(dataset: data_lib.GroundTruthData, key: jax.Array,
               batch_size: int, pairs: str | None = None,
               **options) -> dict[str, Any]:
  """Batch ``{'image'[, 'image2']}`` (B, *obs) for a key.

  Jit-safe for pure datasets; for file-backed ones call it outside jit (it
  returns numpy arrays).
  """
  factors = sample_batch_factors(key, dataset.factor_sizes, batch_size, pairs,
                                 **options)
  if not dataset.is_pure:
    factors = [np.asarray(f) for f in factors]
  images = [dataset.render(f) for f in factors]
  batch = {'image': images[0]}
  if len(images) > 1:
    batch['image2'] = images[1]
  return batch


def to_tree(state: TrainState) -> dict[str, Any]:
  """The state as a dict for Orbax, without empty fields."""
  tree = {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
  return {k: v for k, v in tree.items() if jax.tree.leaves(v)}


def from_tree(tree: Mapping[str, Any]) -> TrainState:
  """Inverse of ``to_tree``: absent (empty) fields become ``{}``."""
  return TrainState(**{f.name: tree.get(f.name, {})
                        for f in dataclasses.fields(TrainState)})


__all__ = ['TrainState', 'create_train_state', 'train_step', 'global_norm',
           'sample_batch_factors', 'make_batch', 'to_tree', 'from_tree']
