"""The one place a resolved config becomes model, optimisers and train step.

``build(config, dataset)`` ties the network, the optimisers, the objective's
hyperparameters (loss and pair sampler each get their own) and
``step.train_step`` together; the train loop's runner,
``analysis.experiment`` and the benchmark all train through the ``Setup``
it returns.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Mapping

import jax
import ml_collections
import optax

from disent_bias import configuration
from disent_bias import data as data_lib
from disent_bias import step as step_lib
from disent_bias.models import networks
from disent_bias.models import objectives as objectives_lib


@dataclasses.dataclass(frozen=True)
class Setup:
  """What trains a resolved config (``build``).

  Attributes:
    config: the resolved config (``configuration.resolve_config``).
    objective: the registered objective of ``config.model.name``.
    model: the VAE.
    optimizer: Adam of ``config.optimizer`` (params and objective extras).
    disc_optimizer: the discriminator's Adam (``objectives.DISC_OPTIMIZER``),
      None unless the objective has a discriminator.
    hparams: the loss's hyperparameters (``objective.loss_hparams``).
    pair_options: the pair sampler's options (``{}`` for single images).
    train_step: ``(state, batch, key) -> (state, metrics)``, the bound
      ``step.train_step``.
  """
  config: ml_collections.ConfigDict
  objective: objectives_lib.Objective
  model: networks.VAE
  optimizer: optax.GradientTransformation
  disc_optimizer: optax.GradientTransformation | None
  hparams: Mapping[str, Any]
  pair_options: Mapping[str, Any]
  train_step: Callable[..., tuple[step_lib.TrainState, dict[str, jax.Array]]]

  def init_state(self, key: jax.Array) -> step_lib.TrainState:
    """``step.create_train_state`` of one seed from its ``init_key``."""
    return step_lib.create_train_state(
        key, model=self.model, objective=self.objective, tx=self.optimizer,
        disc_tx=self.disc_optimizer,
        disc_hidden=self.config.model.disc_hidden,
        disc_layers=self.config.model.disc_layers)

  def make_batch(self, dataset: data_lib.GroundTruthData, key: jax.Array,
                 batch_size: int) -> dict[str, Any]:
    """``step.make_batch`` with the objective's pairs and their options."""
    return step_lib.make_batch(dataset, key, batch_size, self.objective.pairs,
                               **self.pair_options)


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
      ``config.json`` read back by ``train.restore_run``).
    dataset: gives the observation shape.

  Raises:
    ValueError: ``config`` is not resolved.
  """
  if not configuration.is_resolved(config):
    raise ValueError('setup.build needs a resolved config '
                     '(configuration.resolve_config)')
  objective = objectives_lib.get(config.model.name)
  model = make_model(config, dataset.observation_shape)
  hparams, pair_options = objective.split_hparams(config.model.hparams)
  tx = make_optimizer(config)
  disc_tx = (optax.adam(**objectives_lib.DISC_OPTIMIZER)
             if objective.has_disc else None)
  bound = functools.partial(
      step_lib.train_step, objective=objective, model=model, tx=tx, hparams=hparams,
      recon=config.model.recon, recon_weight=config.model.recon_weight,
      disc_tx=disc_tx)
  return Setup(config=config, objective=objective, model=model, optimizer=tx,
               disc_optimizer=disc_tx, hparams=hparams,
               pair_options=pair_options, train_step=bound)


__all__ = ['Setup', 'build', 'make_model', 'make_optimizer']
