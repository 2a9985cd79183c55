"""The one place a resolved config becomes model, optimisers and train step.

``build(config, dataset)`` ties the network, the optimiser, the objective
with its typed hyperparameters (read by its loss and its batch sampler) and
``step.train_step`` together; the train loop's runner,
``studies.experiment`` and the benchmark all train through the ``Setup``
it returns.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Sequence

import jax
import ml_collections
import optax

from disent_bias import data as data_lib
from disent_bias.models import networks
from disent_bias.models import objective_base
from disent_bias.models import objectives as objectives_lib
from disent_bias.training import configuration
from disent_bias.training import step as step_lib


@dataclasses.dataclass(frozen=True)
class Setup:
  """What trains a resolved config (``build``).

  Attributes:
    config: the resolved config (``configuration.resolve_config``).
    objective: the registered objective of ``config.model.name``.
    model: the VAE.
    optimizer: Adam of ``config.optimizer`` (params and the objective's
      trainable parameters).
    hparams: the objective's hyperparameters (its ``hparams`` dataclass).
    context: the objective's context (model, reconstruction, its weight,
      ``config.model``).
    train_step: ``(state, batch, key) -> (state, metrics)``, the bound
      ``step.train_step``.
  """
  config: ml_collections.ConfigDict
  objective: objective_base.Objective
  model: networks.VAE
  optimizer: optax.GradientTransformation
  hparams: Any
  context: objective_base.Context
  train_step: Callable[..., tuple[step_lib.TrainState, dict[str, jax.Array]]]

  def init_state(self, key: jax.Array) -> step_lib.TrainState:
    """``step.create_train_state`` of one seed from its ``init_key``."""
    return step_lib.create_train_state(key, objective=self.objective,
                                       tx=self.optimizer, ctx=self.context)

  def sample_factors(self, key: jax.Array, factor_sizes: Sequence[int],
                     batch_size: int) -> tuple[jax.Array, ...]:
    """The objective's factor sampler with its hyperparameters:
    ``(w,)`` or a pair ``(w, w2)``, int32 (B, K)."""
    return self.objective.sample_factors(key, factor_sizes, batch_size,
                                         self.hparams)

  def make_batch(self, dataset: data_lib.GroundTruthData, key: jax.Array,
                 batch_size: int) -> dict[str, Any]:
    """``step.make_batch`` with the objective's sampler."""
    return step_lib.make_batch(dataset, key, batch_size, self.sample_factors)


def make_model(config: ml_collections.ConfigDict,
               observation_shape) -> networks.VAE:
  """The VAE of a resolved config for observations of ``observation_shape``."""
  return networks.VAE(num_latents=config.model.num_latents,
                      observation_shape=tuple(observation_shape),
                      architecture=config.model.architecture,
                      hidden=tuple(config.model.hidden),
                      fast_conv=config.model.conv_impl == 'matmul',
                      dtype=networks.COMPUTE_DTYPES[
                          config.model.compute_dtype])


def make_optimizer(config: ml_collections.ConfigDict
                   ) -> optax.GradientTransformation:
  """Adam with ``config.optimizer``'s settings."""
  o = config.optimizer
  return optax.adam(o.lr, b1=o.b1, b2=o.b2, eps=o.eps)


def build(config: ml_collections.ConfigDict,
          dataset: data_lib.GroundTruthData) -> Setup:
  """The ``Setup`` of a resolved config on a dataset.

  Args:
    config: a resolved config (``configuration.resolve_config``, or a
      ``config.json`` read back by ``stored_run.restore_run``).
    dataset: gives the observation shape.

  Raises:
    ValueError: ``config`` is not resolved.
  """
  objective = objectives_lib.get(config.model.name)
  if not configuration.is_resolved(config, objective):
    raise ValueError('setup.build needs a resolved config '
                     '(configuration.resolve_config)')
  model = make_model(config, dataset.observation_shape)
  hparams = objective.hparams(**config.model.hparams)
  context = objective_base.Context(model=model, recon=config.model.recon,
                                   recon_weight=config.model.recon_weight,
                                   model_config=config.model.to_dict())
  tx = make_optimizer(config)
  bound = functools.partial(step_lib.train_step, objective=objective, tx=tx,
                            hparams=hparams, ctx=context)
  return Setup(config=config, objective=objective, model=model, optimizer=tx,
               hparams=hparams, context=context, train_step=bound)


__all__ = ['Setup', 'build', 'make_model', 'make_optimizer']
