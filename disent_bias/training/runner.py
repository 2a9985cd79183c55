"""The multi-seed, multi-step, multi-device chunk of the train loop.

One key per seed, ``jax.random.key(config.seed + s)``, split once into
``init``, ``data``, ``step`` and ``eval`` keys (``seed_keys``). ``Run``
jits ``train.steps_per_call`` steps (``lax.scan``) of ``train.num_seeds``
models (``jax.vmap``) into one function; the batch is sharded over the
mesh's ``'data'`` axis and parameters are replicated. Batch ``i`` of a seed
is a pure function of ``(data_key, i)``: rendered inside the jitted step for
procedural datasets, on the host for file-backed ones.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import flax
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from disent_bias import data as data_lib
from disent_bias.training import setup as setup_lib
from disent_bias.training import step as step_lib
from disent_bias.utils import logging_utils


@flax.struct.dataclass
class SeedKeys:
  """The key streams of a run's seeds, each with a leading seed axis (S,)."""
  init: jax.Array
  data: jax.Array
  step: jax.Array
  eval: jax.Array


def seed_keys(seed: int, num_seeds: int) -> SeedKeys:
  """Key streams of seeds ``seed .. seed + num_seeds - 1`` (leading S)."""
  def one(s):
    init, data, step, evaluation = jax.random.split(jax.random.key(s), 4)
    return SeedKeys(init, data, step, evaluation)
  keys = [one(seed + s) for s in range(num_seeds)]
  return jax.tree.map(lambda *x: jnp.stack(x), *keys)


def select_seed(tree: Any, seed_index: int) -> Any:
  """Slices seed ``seed_index`` out of a tree with a leading seed axis."""
  return jax.tree.map(lambda x: x[seed_index], tree)


def make_mesh() -> jax.sharding.Mesh:
  """A one-axis (``'data'``) mesh over every device of every process."""
  return jax.sharding.Mesh(np.asarray(jax.devices()), ('data',))


def maybe_initialize_distributed(config: ml_collections.ConfigDict) -> None:
  """``jax.distributed.initialize`` with ``config.distributed``, if set.

  Must run before anything starts the JAX backend (``jax.devices()``,
  ``jax.process_index()``, any array); ``train.train_and_evaluate`` calls
  it first. A caller that touches JAX before that (a launcher that logs the
  process index, a ``dataset`` object built in advance) calls it first
  itself. Does nothing when ``config.distributed.coordinator_address`` is
  None or ``jax.distributed`` is already initialised.
  """
  dist = config.distributed
  if dist.coordinator_address is None or jax.distributed.is_initialized():
    return
  jax.distributed.initialize(coordinator_address=dist.coordinator_address,
                             num_processes=dist.num_processes,
                             process_id=dist.process_id)


class Run:
  """Static pieces of a run: setup, dataset, mesh and the jitted chunks."""

  def __init__(self, setup: setup_lib.Setup,
               dataset: data_lib.GroundTruthData, mesh: jax.sharding.Mesh):
    self.setup = setup
    self.config = setup.config
    self.dataset = dataset
    self.mesh = mesh
    self.objective = setup.objective
    self.model = setup.model
    self.num_seeds = self.config.train.num_seeds
    self.batch_size = self.config.train.batch_size
    self.replicated = jax.sharding.NamedSharding(
        mesh, jax.sharding.PartitionSpec())
    # Batches inside one seed: (B, ...) sharded over 'data'.
    self.batch_spec = jax.sharding.PartitionSpec('data')
    self._compiled = {}
    self.compile_seconds = 0.0
    model = self.model
    self.encode = jax.jit(
        lambda p, x: model.apply({'params': p}, x, method='encode'))
    self.decode = jax.jit(
        lambda p, z: model.apply({'params': p}, z, method='decode'))
    self.render = (jax.jit(dataset.render) if dataset.is_pure
                   else dataset.render)

  def seed_keys(self, seed: int) -> SeedKeys:
    """``seed_keys(seed, num_seeds)``, replicated over the mesh.

    Made inside jit, so every process of a multi-process run builds the
    same global array: ``device_put`` of one process's arrays onto a mesh
    with other processes' devices is refused. The keys are the same bits as
    ``seed_keys`` computed eagerly.
    """
    return jax.jit(functools.partial(seed_keys, seed, self.num_seeds),
                   out_shardings=self.replicated)()

  def sample_images(self, key: jax.Array, n: int) -> np.ndarray:
    """``n`` images float32 (n, *obs) of uniformly drawn factors."""
    factors = self.dataset.sample_factors(key, n)
    if not self.dataset.is_pure:
      factors = np.asarray(factors)
    return np.asarray(self.render(factors), np.float32)

  def init_state(self, keys: SeedKeys) -> step_lib.TrainState:
    """The step-0 states of all seeds (leading S), replicated."""
    init = jax.jit(jax.vmap(self.setup.init_state),
                   out_shardings=self.replicated)
    return init(keys.init)

  def abstract_state(self, keys: SeedKeys) -> step_lib.TrainState:
    """Shapes, dtypes and shardings of ``init_state`` (for restoring)."""
    shapes = jax.eval_shape(jax.vmap(self.setup.init_state), keys.init)
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
          batch = self.setup.make_batch(
              self.dataset, jax.random.fold_in(keys.data, state.step),
              self.batch_size)
        else:
          batch = host_batch
        batch = self._constrain(batch)
        if inject is not None:
          batch = jax.tree.map(
              lambda x: jnp.where(state.step + 1 >= inject, jnp.nan, x), batch)
        return self.setup.train_step(state, batch, keys.step)
      return jax.lax.scan(body, state, host_batches, length=length)

    if self.num_seeds == 1:
      # Without vmap: a vmapped conv over batched weights becomes a grouped
      # convolution, which is much slower on CPU.
      first = lambda tree: jax.tree.map(lambda x: x[0], tree)
      out = one_seed(first(state), first(keys), first(host_batches))
      return jax.tree.map(lambda x: x[None], out)
    return jax.vmap(one_seed)(state, keys, host_batches)

  def host_batches(self, keys: SeedKeys, start: int, length: int):
    """File-backed data: batches of steps start.., (S, T, B, ...)."""
    if self.dataset.is_pure:
      return None
    per_seed = []
    for s in range(self.num_seeds):
      data_key = select_seed(keys.data, s)
      steps = [self.setup.make_batch(self.dataset,
                                     jax.random.fold_in(data_key, i),
                                     self.batch_size)
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


__all__ = ['SeedKeys', 'seed_keys', 'select_seed', 'make_mesh',
           'maybe_initialize_distributed', 'Run']
