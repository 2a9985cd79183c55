"""Training loop: train state, pure train step, multi-seed / multi-device loop.

Layout of a run (``train_and_evaluate(config, workdir)``):
- one key per seed, ``jax.random.key(config.seed + s)``, split once into
  ``init_key``, ``data_key``, ``step_key`` and ``eval_key``;
- batch ``i`` is a pure function of ``(data_key, i)``: procedural datasets
  (``dataset.is_pure``) are rendered inside the jitted step, file-backed ones
  on the host from the same factor indices; the step key is
  ``fold_in(step_key, step)``. A resumed run therefore needs no iterator
  state and retraces the uninterrupted run exactly;
- ``train.steps_per_call`` steps run per host call (``lax.scan``), and
  ``train.num_seeds`` independent models train at once (``jax.vmap`` over the
  state and keys) in one jitted function;
- the batch is sharded over all devices (``jax.sharding.Mesh`` axis
  ``'data'``), parameters are replicated. With ``config.distributed`` set
  (``jax.distributed``, several processes) the mesh spans every process's
  devices; every process runs the same loop, and only process 0 writes the
  workdir's files (Orbax checkpoints are written by all of them together).

Workdir: ``config.json`` (resolved config), ``metrics.jsonl``,
``checkpoints/`` (Orbax), ``images/step_<n>/`` (reconstructions, latent
traversals), ``tensorboard/`` (event files, with the ``tensorboard`` extra)
and ``results.json``. Scalars and images go through one
``logging_utils.MetricWriter``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import inspect
import json
import math
import os
import time
from typing import Any, Callable, Mapping

from absl import logging
import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
from jax.experimental import multihost_utils
import ml_collections
import numpy as np
import optax

from disent_bias import checkpoint
from disent_bias import data as data_lib
from disent_bias import logging_utils
from disent_bias import progress as progress_lib
from disent_bias import provenance
from disent_bias import stats
from disent_bias import traversals
from disent_bias import workdir as workdir_lib
from disent_bias.data import samplers
from disent_bias.models import losses
from disent_bias.models import networks
from disent_bias.models import objectives as objectives_lib

# Adam settings of the FactorVAE discriminator (SPEC section 3).
DISC_OPTIMIZER = dict(learning_rate=1e-4, b1=0.5, b2=0.9)
ARCHITECTURES = ('conv', 'mlp')
CONV_IMPLS = ('matmul', 'native')


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


# ----------------------------------------------------------------------------
# Config validation and resolution.


def _is_int(x) -> bool:
  return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _is_number(x) -> bool:
  number = (int, float, np.integer, np.floating)
  return isinstance(x, number) and not isinstance(x, bool)


def _check(condition: bool, message: str) -> None:
  if not condition:
    raise ValueError(f'invalid config: {message}')


def _check_type(value, predicate, name: str, expected: str,
                optional: bool = False) -> None:
  if optional and value is None:
    return
  if not predicate(value):
    raise TypeError(f'invalid config: {name} must be {expected}, got '
                    f'{value!r} ({type(value).__name__})')


def validate_config(config: ml_collections.ConfigDict) -> None:
  """Checks names, types and ranges of a config before anything compiles.

  Raises:
    ValueError: unknown model, dataset, variant, source, architecture,
      reconstruction or hyperparameter, or an impossible value.
    TypeError: a field of the wrong type.
  """
  _check_type(config.seed, _is_int, 'seed', 'an int')
  d, m, t, o = config.data, config.model, config.train, config.optimizer
  _check_type(m.name, lambda x: isinstance(x, str), 'model.name', 'a str')
  if m.name not in objectives_lib.OBJECTIVES:
    raise ValueError(f'invalid config: unknown model {m.name!r}; valid: '
                     f'{", ".join(sorted(objectives_lib.OBJECTIVES))}')
  _check_type(d.name, lambda x: isinstance(x, str), 'data.name', 'a str')
  try:
    known = data_lib.names()
  except ImportError:  # A dataset module is missing; load() will tell.
    known = None
  if known is not None and d.name not in known:
    raise ValueError(f'invalid config: unknown dataset {d.name!r}; valid: '
                     f'{", ".join(known)}')
  _check(d.variant in data_lib.VARIANTS,
         f'unknown data.variant {d.variant!r}; valid: '
         f'{", ".join(data_lib.VARIANTS)}')
  _check_type(d.epsilon, _is_number, 'data.epsilon', 'a float', optional=True)
  if d.epsilon is not None:
    _check(0.0 < d.epsilon <= 1.0,
           f'data.epsilon must be in (0, 1], got {d.epsilon}')
    _check(d.variant != 'original',
           f'data.epsilon={d.epsilon} is set but data.variant=\'original\' '
           'is not perturbed; set --config.data.variant=perturbed or noise, '
           'or drop data.epsilon')
  if d.source is not None:
    _check(d.source in data_lib.SOURCES,
           f'unknown data.source {d.source!r}; valid: '
           f'{", ".join(data_lib.SOURCES)}')
  _check_type(m.num_latents, _is_int, 'model.num_latents', 'an int',
              optional=True)
  if m.num_latents is not None:
    _check(m.num_latents >= 1,
           f'model.num_latents must be >= 1, got {m.num_latents}')
  if m.architecture is not None:
    _check(m.architecture in ARCHITECTURES,
           f'unknown model.architecture {m.architecture!r}; valid: '
           f'{", ".join(ARCHITECTURES)}')
  _check(all(_is_int(w) and w >= 1 for w in m.hidden),
         f'model.hidden must be positive ints, got {m.hidden}')
  conv_impl = m.get('conv_impl', 'matmul')
  _check(conv_impl in CONV_IMPLS,
         f'unknown model.conv_impl {conv_impl!r}; valid: '
         f'{", ".join(CONV_IMPLS)}')
  _check(m.recon in losses.RECONSTRUCTION,
         f'unknown model.recon {m.recon!r}; valid: '
         f'{", ".join(sorted(losses.RECONSTRUCTION))}')
  recon_weight = m.get('recon_weight', 1.0)
  _check_type(recon_weight, _is_number, 'model.recon_weight', 'a float')
  _check(recon_weight > 0,
         f'model.recon_weight must be > 0, got {recon_weight}')
  for name in ('disc_hidden', 'disc_layers'):
    value = m.get(name, 1)
    _check(_is_int(value) and value >= 1,
           f'model.{name} must be a positive int, got {value!r}')
  objective = objectives_lib.OBJECTIVES[m.name]
  for name, value in m.hparams.items():
    if value is None:
      continue
    _check(name in objective.hparams,
           f'model.hparams.{name}={value!r} is set but {m.name} takes '
           f'({", ".join(objective.hparams) or "no hyperparameters"})')
    _check_type(value, _is_number, f'model.hparams.{name}', 'a number')
    _check_hparam_range(name, value)
  for name in ('lr', 'b1', 'b2', 'eps'):
    _check_type(o[name], _is_number, f'optimizer.{name}', 'a float')
  _check(o.lr > 0 and o.eps > 0, 'optimizer.lr and optimizer.eps must be > 0, '
         f'got {o.lr} and {o.eps}')
  _check(0 <= o.b1 < 1 and 0 <= o.b2 < 1,
         f'optimizer.b1 and b2 must be in [0, 1), got {o.b1} and {o.b2}')
  for name, low in (('batch_size', 1), ('num_steps', 0), ('num_seeds', 1),
                    ('steps_per_call', 1)):
    _check_type(t[name], _is_int, f'train.{name}', 'an int')
    _check(t[name] >= low, f'train.{name} must be >= {low}, got {t[name]}')
  _check_type(t.inject_nan_at_step, _is_int, 'train.inject_nan_at_step',
              'an int', optional=True)
  for name in ('log_every_steps', 'eval_every_steps', 'checkpoint_every_steps',
               'keep_checkpoints'):
    _check_type(config[name], _is_int, name, 'an int')
    _check(config[name] >= 1, f'{name} must be >= 1, got {config[name]}')
  for name in ('num_images', 'traversal_steps', 'num_summary_images'):
    _check_type(config.eval[name], _is_int, f'eval.{name}', 'an int')
    _check(config.eval[name] >= 1,
           f'eval.{name} must be >= 1, got {config.eval[name]}')
  names = config.metrics.names
  _check_type(names, lambda x: isinstance(x, (list, tuple)) and all(
      isinstance(n, str) for n in x), 'metrics.names', 'a tuple of str')
  if names:
    known = _optional('disent_bias.metrics', 'METRICS')
    if known is not None:
      unknown = [n for n in names if n not in known]
      _check(not unknown, f'unknown metrics {unknown}; valid: '
             f'{", ".join(sorted(known))}')
    for name in ('num_train', 'num_test'):
      _check_type(config.metrics[name], _is_int, f'metrics.{name}', 'an int')
      _check(config.metrics[name] >= 1,
             f'metrics.{name} must be >= 1, got {config.metrics[name]}')


# Hyperparameters that may be negative: k < 1 draws k per pair (Ada-GVAE).
_SIGNED_HPARAMS = ('k',)


def _check_hparam_range(name: str, value) -> None:
  """Finite, and >= 0 except for the signed ones (a weight below 0 trains
  towards the opposite objective)."""
  _check(math.isfinite(value),
         f'model.hparams.{name} must be finite, got {value}')
  if name not in _SIGNED_HPARAMS:
    _check(value >= 0, f'model.hparams.{name} must be >= 0, got {value}')


def _function_defaults(fn: Callable) -> dict[str, Any]:
  return {p.name: p.default for p in inspect.signature(fn).parameters.values()
          if p.default is not inspect.Parameter.empty}


def resolve_hparams(config: ml_collections.ConfigDict) -> dict[str, Any]:
  """The selected objective's hyperparameters with their run-time values.

  Order: ``config.model.hparams`` (when not None), then
  ``config.model.presets[model][dataset]``, ``presets[model]['*']``, then the
  objective function's keyword default.

  Raises:
    ValueError: a hyperparameter with no value anywhere.
  """
  objective = objectives_lib.OBJECTIVES[config.model.name]
  presets = config.model.get('presets', None) or {}
  table = presets.get(config.model.name, None) or {}
  for_dataset = dict(table.get(config.data.name, None) or {})
  for_any = dict(table.get('*', None) or {})
  defaults = _function_defaults(objective.loss_fn)
  explicit = dict(config.model.hparams)
  values = {}
  for name in objective.hparams:
    for source in (explicit, for_dataset, for_any):
      if source.get(name, None) is not None:
        values[name] = source[name]
        break
    else:
      if name in defaults:  # The function default (may be None).
        values[name] = defaults[name]
        continue
      raise ValueError(
          f'no value for hyperparameter {name!r} of {config.model.name}: set '
          f'--config.model.hparams.{name}=... or add it to model.presets')
  return values


def resolve_config(config: ml_collections.ConfigDict,
                   dataset: data_lib.GroundTruthData
                   ) -> ml_collections.ConfigDict:
  """A copy of ``config`` with run-time defaults filled in.

  Fills ``model.hparams`` (the selected objective's names only),
  ``model.num_latents`` (number of factors) and ``model.architecture``
  (conv for (H, W, C) images, mlp otherwise).
  """
  resolved = ml_collections.ConfigDict(config.to_dict())
  values = resolve_hparams(config)
  hparams = {name: None for name in config.model.hparams}
  hparams.update(values)
  resolved.model.hparams = hparams
  if resolved.model.num_latents is None:
    resolved.model.num_latents = dataset.num_factors
  if resolved.model.architecture is None:
    resolved.model.architecture = (
        'conv' if len(dataset.observation_shape) == 3 else 'mlp')
  if resolved.model.architecture == 'conv':
    shape = dataset.observation_shape
    if len(shape) != 3 or shape[0] % 16 or shape[1] % 16:
      raise ValueError(
          f'invalid config: the conv architecture needs (H, W, C) images with '
          f'H and W multiples of 16 (64x64 in the paper), got {shape} for '
          f'{dataset.name}; use --config.model.architecture=mlp')
  return resolved


def load_dataset(config: ml_collections.ConfigDict) -> data_lib.GroundTruthData:
  """``disent_bias.data.load`` with the options of ``config.data``."""
  d = config.data
  options = {}
  if d.get('path', None) is not None:
    options['path'] = d.path
  if d.get('data_dir', None) is not None:
    options['data_dir'] = d.data_dir
  return data_lib.load(d.name, source=d.source, variant=d.variant,
                       epsilon=d.epsilon, **options)


# ----------------------------------------------------------------------------
# Model, optimiser, state.


def make_model(config: ml_collections.ConfigDict,
               dataset: data_lib.GroundTruthData) -> networks.VAE:
  """The VAE of a resolved config."""
  return networks.VAE(num_latents=config.model.num_latents,
                      observation_shape=tuple(dataset.observation_shape),
                      architecture=config.model.architecture,
                      hidden=tuple(config.model.hidden),
                      fast_conv=use_fast_conv(config))


def use_fast_conv(config: ml_collections.ConfigDict) -> bool:
  """Whether ``config.model.conv_impl`` selects the space-to-depth matmuls."""
  return config.model.get('conv_impl', 'matmul') == 'matmul'


def make_optimizer(config: ml_collections.ConfigDict
                   ) -> optax.GradientTransformation:
  o = config.optimizer
  return optax.adam(o.lr, b1=o.b1, b2=o.b2, eps=o.eps)


def make_disc_optimizer() -> optax.GradientTransformation:
  return optax.adam(**DISC_OPTIMIZER)


def disc_optimizer(objective: objectives_lib.Objective
                   ) -> optax.GradientTransformation | None:
  """The ``disc_tx`` of ``train_step``: None unless ``objective`` has one."""
  return make_disc_optimizer() if _has_disc(objective) else None


def _has_disc(objective) -> bool:
  return getattr(objective, 'disc_init', None) is not None


def _has_extra(objective) -> bool:
  return getattr(objective, 'init_extra', None) is not None


def create_train_state(config: ml_collections.ConfigDict,
                       dataset: data_lib.GroundTruthData,
                       key: jax.Array) -> TrainState:
  """Initialises model, objective extras, discriminator and optimisers.

  Args:
    config: a resolved config (``resolve_config``).
    dataset: gives the observation shape.
    key: the seed's ``init_key``.

  Returns:
    A ``TrainState`` at step 0 for one seed.
  """
  objective = objectives_lib.OBJECTIVES[config.model.name]
  model = make_model(config, dataset)
  model_key, extra_key, disc_key = jax.random.split(key, 3)
  dummy = jnp.zeros((1, *dataset.observation_shape), jnp.float32)
  params = model.init(model_key, dummy, method=_encode_decode)['params']
  num_latents = config.model.num_latents
  extra = (objective.init_extra(extra_key, num_latents)
           if _has_extra(objective) else {})
  opt_state = make_optimizer(config).init((params, extra))
  if _has_disc(objective):
    disc_params = objective.disc_init(
        disc_key, num_latents, hidden=config.model.get('disc_hidden', 1000),
        num_layers=config.model.get('disc_layers', 6))
    disc_opt_state = make_disc_optimizer().init(disc_params)
  else:
    disc_params, disc_opt_state = {}, {}
  return TrainState(step=jnp.zeros((), jnp.int32), params=params, extra=extra,
                    opt_state=opt_state, disc_params=disc_params,
                    disc_opt_state=disc_opt_state)


def _encode_decode(module: networks.VAE, x):
  """Touches encoder and decoder so ``init`` creates all parameters."""
  mu, _ = module.encode(x)
  return module.decode(mu)


def _global_norm(tree) -> jax.Array:
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
    hparams: the objective's resolved hyperparameters.
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
    if _has_extra(objective):
      kwargs['extra'] = extra
    if _has_disc(objective):
      kwargs['disc_params'] = state.disc_params
    return objective.loss_fn(params, batch, vae_key, step=state.step,
                             model=model, recon=recon,
                             recon_weight=recon_weight, **kwargs)

  trainable = (state.params, state.extra)
  (_, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(trainable)
  updates, opt_state = tx.update(grads, state.opt_state, trainable)
  params, extra = optax.apply_updates(trainable, updates)
  metrics = dict(aux)
  metrics['grad_norm'] = _global_norm(grads)
  metrics['param_norm'] = _global_norm(params)
  disc_params, disc_opt_state = state.disc_params, state.disc_opt_state
  if _has_disc(objective):
    (_, disc_aux), disc_grads = jax.value_and_grad(
        objective.disc_loss_fn, has_aux=True)(
            state.disc_params, state.params, batch, disc_key, model=model)
    disc_updates, disc_opt_state = disc_tx.update(
        disc_grads, state.disc_opt_state, state.disc_params)
    disc_params = optax.apply_updates(state.disc_params, disc_updates)
    for name, value in disc_aux.items():
      metrics[name if name.startswith('disc') else f'disc_{name}'] = value
  new_state = state.replace(step=state.step + 1, params=params, extra=extra,
                            opt_state=opt_state, disc_params=disc_params,
                            disc_opt_state=disc_opt_state)
  return new_state, metrics


# ----------------------------------------------------------------------------
# Batches.


def pair_options(objective: objectives_lib.Objective,
                 hparams: Mapping[str, Any]) -> dict[str, Any]:
  """The pair sampler's options of ``make_batch`` for an objective:
  ``{'rate'}`` for temporal pairs, ``{'k'}`` for shared pairs, else ``{}``."""
  if objective.pairs == 'temporal':
    return {'rate': float(hparams.get('rate', 1.0))}
  if objective.pairs == 'shared':
    k = hparams.get('k', 1)
    return {'k': None if k is None or k < 1 else int(k)}
  return {}


def sample_batch_factors(key: jax.Array, factor_sizes, batch_size: int,
                         pairs: str | None = None, **options
                         ) -> tuple[jax.Array, ...]:
  """Factor indices of one batch: ``(w,)`` or a pair ``(w, w2)``, int32 (B, K).

  ``pairs='temporal'`` uses ``laplace_transition_pairs`` (option ``rate``),
  ``'shared'`` uses ``shared_factor_pairs`` (option ``k``).
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
  """Batch ``{'image'[, 'image2']}`` for a key (jit-safe for pure datasets).

  For file-backed datasets call it outside jit; it returns numpy arrays.
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


# ----------------------------------------------------------------------------
# The multi-seed, multi-step, multi-device chunk.


@flax.struct.dataclass
class _SeedKeys:
  init: jax.Array
  data: jax.Array
  step: jax.Array
  eval: jax.Array


def seed_keys(seed: int, num_seeds: int) -> _SeedKeys:
  """Key streams of seeds ``seed .. seed + num_seeds - 1`` (leading S)."""
  def one(s):
    init, data, step, evaluation = jax.random.split(jax.random.key(s), 4)
    return _SeedKeys(init, data, step, evaluation)
  keys = [one(seed + s) for s in range(num_seeds)]
  return jax.tree.map(lambda *x: jnp.stack(x), *keys)


class _Run:
  """Static pieces of a run: dataset, model, objective, jitted functions."""

  def __init__(self, config: ml_collections.ConfigDict,
               dataset: data_lib.GroundTruthData, mesh: jax.sharding.Mesh):
    self.config = config
    self.dataset = dataset
    self.mesh = mesh
    self.objective = objectives_lib.OBJECTIVES[config.model.name]
    self.model = make_model(config, dataset)
    self.hparams = {k: v for k, v in config.model.hparams.items()
                    if k in self.objective.hparams}
    self.pair_options = pair_options(self.objective, self.hparams)
    self.num_seeds = config.train.num_seeds
    self.batch_size = config.train.batch_size
    self.replicated = jax.sharding.NamedSharding(
        mesh, jax.sharding.PartitionSpec())
    # Batches inside one seed: (B, ...) sharded over 'data'.
    self.batch_spec = jax.sharding.PartitionSpec('data')
    self.step_fn = functools.partial(
        _bound_train_step, **train_step_options(config, self.model))
    self._compiled = {}
    self.compile_seconds = 0.0
    self.encode = jax.jit(
        lambda p, x: self.model.apply({'params': p}, x, method='encode'))
    self.decode = jax.jit(
        lambda p, z: self.model.apply({'params': p}, z, method='decode'))
    self.render = (jax.jit(dataset.render) if dataset.is_pure
                   else dataset.render)

  def seed_keys(self, seed: int) -> _SeedKeys:
    """``seed_keys(seed, num_seeds)``, replicated over the mesh.

    Made inside jit, so every process of a multi-process run builds the
    same global array: ``device_put`` of one process's arrays onto a mesh
    with other processes' devices is refused. The keys are the same bits as
    ``seed_keys`` computed eagerly.
    """
    return jax.jit(functools.partial(seed_keys, seed, self.num_seeds),
                   out_shardings=self.replicated)()

  def sample_images(self, key: jax.Array, n: int) -> np.ndarray:
    factors = self.dataset.sample_factors(key, n)
    if not self.dataset.is_pure:
      factors = np.asarray(factors)
    return np.asarray(self.render(factors), np.float32)

  def init_state(self, keys: _SeedKeys) -> TrainState:
    init = jax.jit(jax.vmap(
        lambda k: create_train_state(self.config, self.dataset, k)),
                   out_shardings=self.replicated)
    return init(keys.init)

  def abstract_state(self, keys: _SeedKeys) -> TrainState:
    shapes = jax.eval_shape(jax.vmap(
        lambda k: create_train_state(self.config, self.dataset, k)), keys.init)
    return jax.tree.map(
        lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype,
                                       sharding=self.replicated), shapes)

  def _constrain(self, batch):
    return jax.tree.map(
        lambda x: jax.lax.with_sharding_constraint(
            x, jax.sharding.NamedSharding(self.mesh, self.batch_spec)), batch)

  def _chunk(self, state, keys, host_batches, *, length):
    """Runs ``length`` steps of all seeds; metrics have shape (S, T)."""
    inject = self.config.train.inject_nan_at_step

    def one_seed(state, keys, host_batches):
      def body(state, host_batch):
        if self.dataset.is_pure:
          batch = make_batch(self.dataset,
                             jax.random.fold_in(keys.data, state.step),
                             self.batch_size, self.objective.pairs,
                             **self.pair_options)
        else:
          batch = host_batch
        batch = self._constrain(batch)
        if inject is not None:
          batch = jax.tree.map(
              lambda x: jnp.where(state.step + 1 >= inject, jnp.nan, x), batch)
        return self.step_fn(state, batch, keys.step)
      return jax.lax.scan(body, state, host_batches, length=length)

    if self.num_seeds == 1:
      # Without vmap: a vmapped conv over batched weights becomes a grouped
      # convolution, which is much slower on CPU.
      first = lambda tree: jax.tree.map(lambda x: x[0], tree)
      out = one_seed(first(state), first(keys), first(host_batches))
      return jax.tree.map(lambda x: x[None], out)
    return jax.vmap(one_seed)(state, keys, host_batches)

  def host_batches(self, keys: _SeedKeys, start: int, length: int):
    """File-backed data: batches of steps start.., (S, T, B, ...)."""
    if self.dataset.is_pure:
      return None
    per_seed = []
    for s in range(self.num_seeds):
      data_key = jax.tree.map(lambda k: k[s], keys.data)
      steps = [make_batch(self.dataset, jax.random.fold_in(data_key, i),
                          self.batch_size, self.objective.pairs,
                          **self.pair_options)
               for i in range(start, start + length)]
      per_seed.append(jax.tree.map(lambda *x: np.stack(x), *steps))
    stacked = jax.tree.map(lambda *x: np.stack(x).astype(np.float32), *per_seed)
    sharding = jax.sharding.NamedSharding(
        self.mesh, jax.sharding.PartitionSpec(None, None, 'data'))
    return jax.tree.map(
        lambda x: jax.make_array_from_callback(x.shape, sharding,
                                               lambda idx: x[idx]), stacked)

  def compiled(self, length: int, state, keys, host_batches):
    """The jitted chunk of ``length`` steps, compiled once per length."""
    if length not in self._compiled:
      fn = jax.jit(functools.partial(self._chunk, length=length),
                   donate_argnums=(0,),
                   out_shardings=(self.replicated, self.replicated))
      logging_utils.log_detail(
          'compiling the train step (%d seed(s) x %d step(s) per call, %d '
          'device(s))...', self.num_seeds, length, self.mesh.size)
      start = time.time()
      self._compiled[length] = fn.lower(state, keys, host_batches).compile()
      seconds = time.time() - start
      logging_utils.log_detail('compiled in %.1f s', seconds)
      self.compile_seconds += seconds
    return self._compiled[length]


def train_step_options(config: ml_collections.ConfigDict,
                       model: nn.Module) -> dict[str, Any]:
  """The keyword arguments binding ``train_step`` to a resolved config.

  The one place a config becomes the step's objective, optimisers,
  hyperparameters and likelihood: the train loop, ``analysis.experiment`` and
  the benchmark all bind the step with it.
  """
  objective = objectives_lib.get(config.model.name)
  return dict(objective=objective, model=model, tx=make_optimizer(config),
              hparams=resolve_hparams(config), recon=config.model.recon,
              recon_weight=config.model.get('recon_weight', 1.0),
              disc_tx=disc_optimizer(objective))


def _bound_train_step(state, batch, key, **kwargs):
  # Looks train_step up at trace time so tests can wrap it (trace counting).
  return train_step(state, batch, key, **kwargs)


# ----------------------------------------------------------------------------
# Evaluation: images, model summary, representation, metrics.


def select_seed(tree: Any, seed_index: int) -> Any:
  """Slices seed ``seed_index`` out of a tree with a leading seed axis."""
  return jax.tree.map(lambda x: x[seed_index], tree)


def representation_fn(model: networks.VAE, params: Any,
                      batch_size: int = 256
                      ) -> Callable[[np.ndarray], np.ndarray]:
  """The posterior mean as a numpy function, jitted and batched.

  Args:
    model: the VAE.
    params: one model's parameters (no seed axis; see ``select_seed``).
    batch_size: images per jitted call (the last call is padded).

  Returns:
    ``fn(images (n, *obs)) -> float32 (n, D)``, with attributes ``jax_fn``
    (the pure ``(params, images) -> codes`` function, for callers that fuse
    rendering and encoding into one jitted function) and ``params``.
  """
  # Forward-only: XLA's native convolutions are faster here than the
  # matmul-based layers that speed up the gradient (same parameters).
  if model.architecture == 'conv':
    model = model.clone(fast_conv=False)

  def posterior_mean(p, x):
    return model.apply({'params': p}, x, method='encode')[0]

  encode = jax.jit(posterior_mean)

  def fn(images):
    images = np.asarray(images, np.float32)
    outputs = []
    for start in range(0, len(images), batch_size):
      chunk = images[start:start + batch_size]
      n = len(chunk)
      if n < batch_size:
        pad = np.zeros((batch_size - n, *chunk.shape[1:]), np.float32)
        chunk = np.concatenate([chunk, pad])
      outputs.append(np.asarray(encode(params, chunk))[:n])
    if not outputs:
      return np.zeros((0, model.num_latents), np.float32)
    return np.concatenate(outputs)

  fn.jax_fn = posterior_mean
  fn.params = params
  return fn


def _optional(module: str, name: str):
  """``module.name`` if the module and attribute exist, else None."""
  try:
    return getattr(importlib.import_module(module), name, None)
  except ImportError:
    return None


def _write_images(run: _Run, params, images: np.ndarray, step: int,
                  seed_index: int, writer: logging_utils.MetricWriter) -> None:
  """Reconstructions and KL-ordered latent traversals of one seed."""
  out = traversals.model_images(
      run.encode, run.decode, params, images, recon=run.config.model.recon,
      steps=run.config.eval.traversal_steps, rows=len(images))
  writer.write_images(step, {
      f'reconstructions_seed{seed_index}': traversals.reconstruction_grid(out),
      f'traversals_seed{seed_index}': traversals.traversal_grid(out)})


def _evaluate(run: _Run, state: TrainState, keys: _SeedKeys, step: int,
              writer: logging_utils.MetricWriter) -> dict[str, Any]:
  """Eval point: images and ``analysis.model_summary`` for every seed."""
  cfg = run.config.eval
  summary_fn = (_optional('disent_bias.analysis', 'model_summary')
                if cfg.get('model_summary', True) else None)
  per_seed = []
  for s in range(run.num_seeds):
    params = select_seed(state.params, s)
    eval_key = jax.tree.map(lambda k: k[s], keys.eval)
    image_key, summary_key = jax.random.split(eval_key)
    num = max(cfg.num_images, cfg.num_summary_images)
    images = run.sample_images(image_key, num)
    # Every process computes the images (the same jitted calls on the
    # global parameters in every process); only process 0's writer writes.
    _write_images(run, params, images[:cfg.num_images], step, s, writer)
    if summary_fn is not None:
      kwargs = {}
      accepted = inspect.signature(summary_fn).parameters
      if 'recon' in accepted:
        kwargs['recon'] = run.config.model.recon
      if 'variational' in accepted:
        kwargs['variational'] = run.objective.variational
      summary = summary_fn(run.model, params,
                           jnp.asarray(images[:cfg.num_summary_images]),
                           summary_key, **kwargs)
      per_seed.append({k: float(v) for k, v in summary.items()})
  return _reduce_seeds(per_seed, 'eval/')


def _reduce_seeds(per_seed: list[dict[str, Any]], prefix: str
                  ) -> dict[str, Any]:
  """Mean over seeds; with several seeds also ``_sd`` and ``_per_seed``.

  ``_sd`` is ``stats.seed_sd``, the sample sd over seeds (ddof=1).
  """
  if not per_seed:
    return {}
  out = {}
  for name in per_seed[0]:
    values = np.asarray([r[name] for r in per_seed], np.float64)
    out[prefix + name] = values.mean(0)
    if len(per_seed) > 1:
      if values.ndim == 1:
        out[prefix + name + '_sd'] = stats.seed_sd(values)
      out[prefix + name + '_per_seed'] = values
  return out


# ----------------------------------------------------------------------------
# The loop.


def _make_mesh() -> jax.sharding.Mesh:
  return jax.sharding.Mesh(np.asarray(jax.devices()), ('data',))


def maybe_initialize_distributed(config) -> None:
  """``jax.distributed.initialize`` with ``config.distributed``, if set.

  Must run before anything starts the JAX backend (``jax.devices()``,
  ``jax.process_index()``, any array); ``train_and_evaluate`` calls it
  first. A caller that touches JAX before that (a launcher that logs the
  process index, a ``dataset`` object built in advance) calls it first
  itself. Does nothing when ``config.distributed.coordinator_address`` is
  None or ``jax.distributed`` is already initialised.
  """
  dist = config.get('distributed', None)
  if dist is None or dist.get('coordinator_address', None) is None:
    return
  if jax.distributed.is_initialized():
    return
  jax.distributed.initialize(coordinator_address=dist.coordinator_address,
                             num_processes=dist.num_processes,
                             process_id=dist.process_id)


def _boundaries(config) -> tuple[int, ...]:
  return (config.log_every_steps, config.eval_every_steps,
          config.checkpoint_every_steps)


def _next_boundary(step: int, config) -> int:
  """The next step at which the loop logs, evaluates, checkpoints or ends."""
  nxt = config.train.num_steps
  for every in _boundaries(config):
    nxt = min(nxt, (step // every + 1) * every)
  return nxt


def _check_finite(metrics: dict[str, np.ndarray], first_step: int,
                  last_good: Callable[[], int | None], workdir: str) -> None:
  """Raises FloatingPointError at the first step with a non-finite term.

  ``metrics`` values have shape (S, T, ...); step ``first_step + t + 1`` is
  the step count after update t. ``last_good`` returns the newest verified
  checkpoint (called only on failure: it restores that checkpoint).
  """
  bad = None
  for name, value in metrics.items():
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
      f'{terms}; {_last_good_text(last_good(), workdir)}')


def _last_good_text(step: int | None, workdir: str) -> str:
  if step is None:
    return 'no verified checkpoint was written'
  return (f'last good checkpoint (verified): step {step} in '
          f'{os.path.join(workdir, "checkpoints")}')


def _verified_last_good(mngr, abstract, last_good: int | None) -> int | None:
  """The newest checkpoint up to ``last_good`` that restores and verifies."""
  mngr.wait_until_finished()
  if last_good is None:
    return None
  step, _ = checkpoint.restore_newest_good(mngr, abstract, max_step=last_good)
  return step


def _lock(workdir: str, is_main: bool):
  """The workdir lock (main process only: the others write nothing)."""
  return workdir_lib.lock(workdir) if is_main else contextlib.nullcontext()


def _prepare_workdir(config: ml_collections.ConfigDict, workdir: str,
                     restart: bool, is_main: bool) -> None:
  """Checks the stored config (or starts over), then writes ``config.json``."""
  if not is_main:
    return
  if restart:
    workdir_lib.start_over(workdir)
  else:
    steps = checkpoint.steps_on_disk(workdir)
    workdir_lib.check_config(workdir, json.loads(config.to_json()),
                             newest_step=steps[-1] if steps else None)
  workdir_lib.write_text(os.path.join(workdir, 'config.json'),
                         config.to_json(indent=2))


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str, *,
                       dataset: data_lib.GroundTruthData | None = None,
                       restart: bool = False) -> dict[str, Any]:
  """Trains ``config.train.num_seeds`` models, evaluates them, writes workdir.

  Rerunning with the same workdir resumes from the newest checkpoint that
  verifies (damaged ones are moved to ``workdir/damaged_checkpoints/``). The
  workdir contract (docs/workdir.md): one run at a time holds the workdir's
  lock, and a stored ``config.json`` that differs from ``config`` in a field
  that changes the trained parameters is refused before anything is written.

  Args:
    config: an experiment config (``experiments/configs/default.py``).
    workdir: output directory (created).
    dataset: optional dataset object replacing ``config.data`` (tests and
      notebooks with a custom ``GroundTruthData``).
    restart: start over: the previous run's files move to
      ``workdir/replaced/<time>/`` instead of being resumed or checked.

  Returns:
    The contents of ``results.json``.

  Raises:
    ValueError / TypeError: an invalid config (before any compilation).
    workdir.ConfigMismatchError: the workdir was made by a different config.
    workdir.WorkdirBusyError: another process is running in ``workdir``.
    FloatingPointError: a non-finite loss (the last good checkpoint is kept).
  """
  total_start = time.time()
  validate_config(config)
  # Before the dataset: building one may start the JAX backend (procedural
  # renderers hold jnp arrays), and jax.distributed must start first.
  maybe_initialize_distributed(config)
  if dataset is None:
    dataset = load_dataset(config)
  config = resolve_config(config, dataset)
  mesh = _make_mesh()
  if config.train.batch_size % mesh.size:
    raise ValueError(
        f'invalid config: train.batch_size={config.train.batch_size} must be '
        f'divisible by the number of devices ({mesh.size})')
  is_main = jax.process_index() == 0
  os.makedirs(workdir, exist_ok=True)
  with _lock(workdir, is_main):
    _prepare_workdir(config, workdir, restart, is_main)
    if jax.process_count() > 1:
      # The other processes read the checkpoints only after process 0 has
      # checked the workdir or moved the previous run away (restart).
      multihost_utils.sync_global_devices('disent_bias: workdir prepared')
    return _train_and_evaluate(config, workdir, dataset, mesh, is_main,
                               total_start)


def _train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                        dataset: data_lib.GroundTruthData,
                        mesh: jax.sharding.Mesh, is_main: bool,
                        total_start: float) -> dict[str, Any]:
  """``train_and_evaluate`` in a checked, locked workdir."""
  num_devices = mesh.size
  logging_utils.log_detail('workdir: %s', workdir)
  logging_utils.log_detail('devices: %s', jax.devices())
  logging_utils.log_detail('dataset: %s', dataset)
  logging_utils.log_detail('resolved config:\n%s', config)

  run = _Run(config, dataset, mesh)
  keys = run.seed_keys(config.seed)
  mngr = checkpoint.manager(workdir, max_to_keep=config.keep_checkpoints)
  writer = logging_utils.MetricWriter.for_workdir(workdir, enabled=is_main)
  abstract = _to_tree(run.abstract_state(keys))
  latest, tree = checkpoint.restore_newest_good(mngr, abstract,
                                                move_damaged=is_main)
  if latest is not None:
    logging_utils.log_detail('resuming from the checkpoint at step %d', latest)
    state = _from_tree(tree)
  else:
    state = run.init_state(keys)
  # Records after the resumed step are rewritten (all of them without a
  # checkpoint), and so is the final eval of a finished run.
  writer.truncate_after(latest or 0,
                        drop_evals=latest == config.train.num_steps)
  step = int(jax.device_get(state.step)[0])
  last_good = latest
  num_steps = config.train.num_steps
  spc = config.train.steps_per_call
  logging_utils.log_detail(
      'training %s on %s for %d steps (%d seed(s), batch %d)',
      config.model.name, dataset.name, num_steps, run.num_seeds,
      run.batch_size)

  pending, pending_start = [], step
  log_buffer, log_start_step = [], step
  train_seconds, log_seconds, steps_timed = 0.0, 0.0, 0
  last_record = {}
  try:
    while step < num_steps:
      boundary = _next_boundary(step, config)
      tic, compile_before = time.time(), run.compile_seconds
      while step < boundary:
        length = spc if boundary - step >= spc else 1
        batches = run.host_batches(keys, step, length)
        fn = run.compiled(length, state, keys, batches)
        state, metrics = fn(state, keys, batches)
        pending.append(metrics)
        step += length
      host = jax.device_get(pending)
      host = {k: np.concatenate([m[k] for m in host], axis=1) for k in host[0]}
      # Compilation is excluded from the step rate.
      elapsed = time.time() - tic - (run.compile_seconds - compile_before)
      train_seconds += elapsed
      log_seconds += elapsed
      steps_timed += step - pending_start
      _check_finite(host, pending_start,
                    lambda: _verified_last_good(mngr, abstract, last_good),
                    workdir)
      log_buffer.append(host)
      pending, pending_start = [], step

      if step % config.log_every_steps == 0 or step == num_steps:
        merged = {k: np.concatenate([b[k] for b in log_buffer], axis=1)
                  for k in log_buffer[0]}
        rate = (step - log_start_step) / max(log_seconds, 1e-9)
        last_record = _train_record(merged, step, rate)
        writer.write_scalars(step, {k: v for k, v in last_record.items()
                                    if k != 'step'})
        eta = progress_lib.eta_seconds(step, num_steps, rate)
        logging_utils.log_detail(
            'step %d/%d  loss %.4f  %.2f steps/s  ETA %s', step, num_steps,
            last_record['train/loss'], rate, progress_lib.format_seconds(eta))
        log_buffer, log_start_step, log_seconds = [], step, 0.0
      if step % config.eval_every_steps == 0 and step != num_steps:
        record = _evaluate(run, state, keys, step, writer)
        if record:
          writer.write_scalars(step, record)
          logging_utils.log_detail('eval at step %d: %s', step, _short(record))
      if step % config.checkpoint_every_steps == 0 or step == num_steps:
        if not _params_finite(state):
          good = _verified_last_good(mngr, abstract, last_good)
          raise FloatingPointError(
              f'non-finite parameters at step {step}; '
              f'{_last_good_text(good, workdir)}')
        checkpoint.save(mngr, step, _to_tree(state))
        last_good = step
  finally:
    # A failed run still completes the checkpoint saves it started.
    mngr.wait_until_finished()
  if not last_record:  # Resumed after the last step: report the last log.
    records = [r for r in logging_utils.read_jsonl(writer.path)
               if 'train/loss' in r] if os.path.exists(writer.path) else []
    last_record = records[-1] if records else {}

  eval_record = _evaluate(run, state, keys, step, writer)
  if eval_record:
    writer.write_scalars(step, eval_record)
  writer.close()
  scores = _score(run, state, config)
  timings = {
      'compile_seconds': run.compile_seconds,
      'train_seconds': train_seconds,
      'steps_per_second': (steps_timed / train_seconds if train_seconds
                           else None),
      'total_seconds': time.time() - total_start,
      'num_devices': num_devices,
  }
  results = {
      'model': config.model.name,
      'dataset': dataset.name,
      'variant': dataset.variant,
      'seeds': [config.seed + s for s in range(run.num_seeds)],
      'num_steps': step,
      'final': {k: v for k, v in last_record.items() if k.startswith('train/')},
      'eval': eval_record,
      'metrics': scores,
      'timings': timings,
      'config': config.to_dict(),
      'provenance': provenance.provenance(),
  }
  results = logging_utils.to_jsonable(results)
  if is_main:
    workdir_lib.write_json(os.path.join(workdir, 'results.json'), results)
  logging_utils.log_detail('done: %s', _short(results['final']))
  mngr.close()
  return results


def _score(run: _Run, state: TrainState, config) -> dict[str, Any]:
  """``metrics.evaluate_representation`` for every seed (if available)."""
  names = tuple(config.metrics.names)
  if not names:
    return {}
  evaluate = _optional('disent_bias.metrics', 'evaluate_representation')
  if evaluate is None:
    logging.warning('disent_bias.metrics.evaluate_representation is not '
                    'available; skipping metrics %s', names)
    return {}
  per_seed = []
  for s in range(run.num_seeds):
    fn = representation_fn(run.model, select_seed(state.params, s))
    scores = evaluate(run.dataset, fn, names, seed=config.seed + s,
                      num_train=config.metrics.num_train,
                      num_test=config.metrics.num_test)
    per_seed.append(logging_utils.to_jsonable(scores))
    logging_utils.log_detail('metrics seed %d: %s', config.seed + s,
                             _short(per_seed[-1]))
  numeric = [{k: v for k, v in r.items() if isinstance(v, (int, float))
              and not isinstance(v, bool)} for r in per_seed]
  out = _reduce_seeds(numeric, '') if run.num_seeds > 1 else dict(per_seed[0])
  if run.num_seeds > 1:
    out['per_seed'] = per_seed
  return out


def _train_record(metrics: dict[str, np.ndarray], step: int, rate: float
                  ) -> dict[str, Any]:
  """Mean over the log interval; over seeds mean (+ sd and per seed)."""
  per_seed = [{k: np.asarray(v[s]).mean(0) for k, v in metrics.items()}
              for s in range(next(iter(metrics.values())).shape[0])]
  record = {'step': step, 'steps_per_second': rate}
  record.update(_reduce_seeds(per_seed, 'train/'))
  return logging_utils.to_jsonable(record)


def _to_tree(state: TrainState) -> dict[str, Any]:
  """The state as a dict for Orbax, without empty fields."""
  tree = {f.name: getattr(state, f.name) for f in
          dataclasses.fields(state)}
  return {k: v for k, v in tree.items() if jax.tree.leaves(v)}


def _from_tree(tree: Mapping[str, Any]) -> TrainState:
  """Inverse of ``_to_tree``: absent (empty) fields become ``{}``."""
  return TrainState(**{f.name: tree.get(f.name, {})
                       for f in dataclasses.fields(TrainState)})


def _params_finite(state: TrainState) -> bool:
  leaves = jax.device_get(
      jax.tree.leaves((state.params, state.extra, state.disc_params)))
  return all(np.isfinite(x).all() for x in leaves
             if np.issubdtype(x.dtype, np.inexact))


def _short(record: Mapping[str, Any]) -> str:
  return ', '.join(f'{k}={v:.4g}' for k, v in record.items()
                   if isinstance(v, (int, float)))


def restore(workdir: str, step: int | None = None, *,
            dataset: data_lib.GroundTruthData | None = None
            ) -> tuple[ml_collections.ConfigDict, networks.VAE, Any,
                       data_lib.GroundTruthData]:
  """Loads a trained run: ``restore_run`` without the step."""
  restored = restore_run(workdir, step, dataset=dataset)
  return (restored.config, restored.model, restored.params,
          restored.dataset)


@dataclasses.dataclass(frozen=True)
class Restored:
  """A trained run loaded from its workdir (``restore_run``)."""
  step: int
  config: ml_collections.ConfigDict
  model: networks.VAE
  params: Any  # Leading seed axis of size config.train.num_seeds.
  dataset: data_lib.GroundTruthData


def restore_run(workdir: str, step: int | None = None, *,
                dataset: data_lib.GroundTruthData | None = None) -> Restored:
  """Loads a trained run and says which checkpoint step it is.

  Args:
    workdir: a ``train_and_evaluate`` workdir.
    step: checkpoint step; the newest that verifies when None.
    dataset: the dataset object if the run was given one explicitly.

  Returns:
    A ``Restored``: the step loaded, config, model, ``params`` with a leading
    seed axis of size ``config.train.num_seeds`` (``select_seed`` picks one),
    and the dataset.

  Raises:
    FileNotFoundError: no config.json, no checkpoint, or none at ``step``
      (the message lists the steps on disk).
    checkpoint.DamagedCheckpointError: the checkpoint at ``step`` is damaged.
  """
  path = os.path.join(workdir, 'config.json')
  if not os.path.exists(path):
    raise FileNotFoundError(f'no config.json in {workdir!r}; is it a workdir '
                            'written by train_and_evaluate?')
  config = ml_collections.ConfigDict(workdir_lib.read_json(path))
  config.model.hidden = tuple(config.model.hidden)
  config.metrics.names = tuple(config.metrics.names)
  mngr = checkpoint.manager(workdir, read_only=True)
  steps = mngr.all_steps()
  if not steps:
    raise FileNotFoundError(f'no checkpoint in {workdir}/checkpoints')
  if step is not None and step not in steps:
    raise FileNotFoundError(
        f'no checkpoint at step {step} in {workdir}/checkpoints; steps on '
        f'disk: {", ".join(map(str, sorted(steps)))}')
  if dataset is None:
    dataset = load_dataset(config)
  run = _Run(config, dataset, _make_mesh())
  keys = run.seed_keys(config.seed)
  abstract = _to_tree(run.abstract_state(keys))
  if step is None:
    step, tree = checkpoint.restore_newest_good(mngr, abstract)
    if step is None:
      raise checkpoint.DamagedCheckpointError(
          f'no checkpoint in {workdir}/checkpoints restores and verifies '
          '(see the warnings above)')
  else:
    tree = checkpoint.restore(mngr, step, abstract)
  mngr.close()
  return Restored(step=int(step), config=config, model=run.model,
                  params=tree['params'], dataset=dataset)


__all__ = ['TrainState', 'create_train_state', 'train_step', 'make_batch',
           'sample_batch_factors', 'pair_options', 'train_step_options',
           'seed_keys', 'train_and_evaluate', 'maybe_initialize_distributed',
           'restore', 'restore_run', 'Restored', 'representation_fn',
           'select_seed', 'validate_config', 'resolve_config',
           'resolve_hparams', 'load_dataset', 'make_model']
