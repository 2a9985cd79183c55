"""Small in-memory multi-seed experiments for the analysis and its tests.

``train_seeds`` runs the project's ``train.train_step`` for several seeds at
once (``jax.vmap`` over seeds, ``lax.scan`` over steps, one compilation) and
returns the parameters with a leading seed axis; nothing is written to disk
and there are no eval points. It is meant for CPU-scale checks (the toy tier,
the 2019 mechanism check) where the full ``train.train_and_evaluate`` loop's
checkpoints, images and metric suite would cost more than the training.
``seed_mig`` and ``seed_decoder_dto`` score the trained seeds.
"""

from __future__ import annotations

import jax
import ml_collections
import numpy as np

from disent_bias import metrics
from disent_bias import train
from disent_bias.analysis import dataset as dataset_lib
from disent_bias.analysis import model as model_lib
from disent_bias.models import objectives as objectives_lib


def train_seeds(config: ml_collections.ConfigDict, dataset, *,
                num_seeds: int, num_steps: int, seed: int = 0):
  """Trains ``num_seeds`` models of ``config`` on a pure dataset.

  Args:
    config: an experiment config (``experiments/configs``); its model,
      objective, hyperparameters, optimiser and batch size are used.
    dataset: a procedural (pure) ``GroundTruthData``.
    num_seeds: models trained at once.
    num_steps: optimisation steps.
    seed: seed s uses ``fold_in(key(seed), s)``.

  Returns:
    ``(model, params, losses)``: the ``networks.VAE``, its parameters with a
    leading seed axis, and the training loss float32 (num_seeds, num_steps).
  """
  model, runs = train_variants(config, [dataset], num_seeds=num_seeds,
                               num_steps=num_steps, seed=seed)
  return (model,) + runs[0]


def train_variants(config: ml_collections.ConfigDict, datasets, *,
                   num_seeds: int, num_steps: int, seed: int = 0):
  """``train_seeds`` on several variants of one grid in a single program.

  The models of all datasets are vmapped together (one compilation, one
  scan); dataset v's seeds use the same keys as ``train_seeds`` on it alone,
  so each run is the one ``train_seeds`` gives (up to float rounding).

  Args:
    config: as in ``train_seeds`` (its data section is not used).
    datasets: pure ``GroundTruthData`` with the same factor sizes and
      observation shape (e.g. the original, perturbed and noise variants).
    num_seeds, num_steps, seed: as in ``train_seeds``, per dataset.

  Returns:
    ``(model, runs)``: the shared ``networks.VAE`` and, per dataset,
    ``(params, losses)`` as ``train_seeds`` returns them.
  """
  datasets = list(datasets)
  if not all(d.is_pure for d in datasets):
    raise ValueError('training in memory needs procedural (pure) datasets')
  first = datasets[0]
  for d in datasets[1:]:
    if (d.factor_sizes != first.factor_sizes or
        d.observation_shape != first.observation_shape):
      raise ValueError(f'{d} and {first} differ in grid or observations')
  config = train.resolve_config(config, first)
  objective = objectives_lib.get(config.model.name)
  model = train.make_model(config, first)
  tx = train.make_optimizer(config)
  hparams = train.resolve_hparams(config)
  pair_options = train._pair_options(objective, hparams)  # pylint: disable=protected-access
  batch_size = config.train.batch_size
  recon = config.model.recon
  renders = [d.render for d in datasets]

  def one(key, which):
    if len(datasets) == 1:
      dataset = first
    else:
      dataset = first.replace(
          render_fn=lambda f: jax.lax.switch(which, renders, f))
    init_key, step_key, data_key = jax.random.split(key, 3)
    state = train.create_train_state(config, first, init_key)

    def body(state, batch_key):
      batch = train.make_batch(dataset, batch_key, batch_size,
                               objective.pairs, **pair_options)
      state, aux = train.train_step(state, batch, step_key,
                                    objective=objective, model=model, tx=tx,
                                    hparams=hparams, recon=recon)
      return state, aux['loss']

    state, losses = jax.lax.scan(body, state,
                                 jax.random.split(data_key, num_steps))
    return state.params, losses

  keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(seed), s))(
      np.arange(num_seeds))
  keys = jax.numpy.tile(keys, len(datasets))
  which = np.repeat(np.arange(len(datasets), dtype=np.int32), num_seeds)
  params, losses = jax.jit(jax.vmap(one))(keys, which)
  losses = np.asarray(losses)
  runs = []
  for v in range(len(datasets)):
    part = slice(v * num_seeds, (v + 1) * num_seeds)
    runs.append((jax.tree.map(lambda a, p=part: a[p], params), losses[part]))
  return model, runs


def _seed(params, s):
  return jax.tree.map(lambda a: a[s], params)


def seed_mig(model, params, dataset, *, num_points: int = 3000,
             seed: int = 1) -> np.ndarray:
  """MIG of every seed's posterior means on a grid sample: (num_seeds,)."""
  factors = dataset_lib.sample_points(dataset, num_points, seed)
  images = np.asarray(jax.jit(dataset.render)(factors))
  num_seeds = jax.tree.leaves(params)[0].shape[0]
  out = []
  for s in range(num_seeds):
    stats = model_lib.posterior_stats(model, _seed(params, s), images)
    out.append(float(metrics.mig(stats['mu'], factors)))
  return np.asarray(out)


def seed_decoder_dto(model, params, dataset, *, recon: str,
                     active_only: bool = True, num_points: int = 64,
                     seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
  """Median decoder DtO per seed at posterior means, and active counts.

  Args:
    model, params: as returned by ``train_seeds``.
    dataset: the training data.
    recon: the likelihood (Jacobian metric, ``model.decoder_jacobian``).
    active_only: score only the active latents (passive ones have nearly
      zero decoder columns and would make the local PCA degenerate); False
      scores all latents (a plain autoencoder has no posterior variance).
    num_points: grid points (posterior means) per seed.
    seed: seed of the grid sample.

  Returns:
    ``(dto (num_seeds,), num_active (num_seeds,))``.
  """
  factors = dataset_lib.sample_points(dataset, num_points, seed)
  images = np.asarray(jax.jit(dataset.render)(factors))
  num_seeds = jax.tree.leaves(params)[0].shape[0]
  dto, active = [], []
  for s in range(num_seeds):
    p = _seed(params, s)
    stats = model_lib.posterior_stats(model, p, images)
    latents = (np.flatnonzero(stats['active']) if active_only
               else np.arange(stats['mu'].shape[-1]))
    dto.append(float(np.median(model_lib.decoder_dto(
        model, p, stats['mu'], latents=latents, recon=recon))))
    active.append(len(latents))
  return np.asarray(dto), np.asarray(active)
