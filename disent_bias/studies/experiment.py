"""Small in-memory multi-seed experiments for the analysis and its tests.

``train_seeds`` runs the project's train step (``setup.build``) for several
seeds at once (``jax.vmap`` over seeds, ``lax.scan`` over steps, one
compilation) and returns the parameters with a leading seed axis; nothing is
written to disk and there are no eval points. It is meant for CPU-scale checks (the toy tier,
the 2019 mechanism check) where the full ``train.train_and_evaluate`` loop's
checkpoints, images and metric suite would cost more than the training.
``seed_mig`` and ``seed_decoder_dto`` score the trained seeds.
``train_supervised`` trains the same encoder to regress the factors, the
MIG ceiling of a dataset variant; ``readout_mig`` probes features (images or
codes) with a least-squares readout of the factors.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from disent_bias import metrics
from disent_bias.analysis import dataset as dataset_lib
from disent_bias.analysis import model as model_lib
from disent_bias.training import configuration
from disent_bias.training import runner
from disent_bias.training import setup as setup_lib


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
  datasets = _check_variants(datasets)
  first = datasets[0]
  setup = setup_lib.build(configuration.resolve_config(config, first), first)
  batch_size = setup.config.train.batch_size

  def one(key, dataset):
    init_key, step_key, data_key = jax.random.split(key, 3)
    state = setup.init_state(init_key)

    def body(state, batch_key):
      batch = setup.make_batch(dataset, batch_key, batch_size)
      state, aux = setup.train_step(state, batch, step_key)
      return state, aux['loss']

    state, losses = jax.lax.scan(body, state,
                                 jax.random.split(data_key, num_steps))
    return state.params, losses

  return setup.model, _vmapped_runs(one, datasets, num_seeds, seed)


def train_supervised(config: ml_collections.ConfigDict, datasets, *,
                     num_seeds: int, num_steps: int, seed: int = 0):
  """The config's encoder trained to regress the factors: a MIG ceiling.

  The posterior-mean head of the config's network is trained with squared
  error on the factor indices scaled to ``(k + 0.5) / size - 0.5`` (latent
  i regresses factor i; extra latents are left free), with the
  config's optimiser and batch size, on uniform grid samples. Its MIG on a
  dataset variant is what an encoder of this architecture reaches when it is
  told the factors, so an unsupervised model's MIG divided by it separates
  information the variant's images no longer carry (i.i.d. noise removes
  some, and then every encoder loses MIG) from a loss of disentanglement.

  Args:
    config, datasets, num_seeds, num_steps, seed: as in ``train_variants``
      (the objective and its hyperparameters are not used).

  Returns:
    ``(model, runs)``: the ``networks.VAE`` (only its encoder is trained)
    and, per dataset, ``(params, losses)`` with a leading seed axis; the
    losses are the mean squared errors, float32 (num_seeds, num_steps).
  """
  datasets = _check_variants(datasets)
  first = datasets[0]
  setup = setup_lib.build(configuration.resolve_config(config, first), first)
  model, tx = setup.model, setup.optimizer
  batch_size = setup.config.train.batch_size
  sizes = jnp.asarray(first.factor_sizes, jnp.float32)
  if model.num_latents < len(first.factor_sizes):
    raise ValueError(f'the supervised encoder needs at least one latent per '
                     f'factor: {model.num_latents} latents, '
                     f'{len(first.factor_sizes)} factors')

  def one(key, dataset):
    init_key, data_key = jax.random.split(key)
    params = setup.init_state(init_key).params

    def loss_fn(params, factors):
      images = dataset.render(factors)
      mu, _ = model.apply({'params': params}, images, method='encode')
      target = (factors + 0.5) / sizes - 0.5
      return jnp.mean((mu[:, :sizes.shape[0]] - target) ** 2)

    def body(carry, batch_key):
      params, opt_state = carry
      factors = first.sample_factors(batch_key, batch_size)
      loss, grads = jax.value_and_grad(loss_fn)(params, factors)
      updates, opt_state = tx.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), loss

    (params, _), losses = jax.lax.scan(
        body, (params, tx.init(params)), jax.random.split(data_key, num_steps))
    return params, losses

  return model, _vmapped_runs(one, datasets, num_seeds, seed)


def _check_variants(datasets) -> list:
  """Pure datasets with one grid and observation shape, as a list."""
  datasets = list(datasets)
  if not all(d.is_pure for d in datasets):
    raise ValueError('training in memory needs procedural (pure) datasets')
  first = datasets[0]
  for d in datasets[1:]:
    if (d.factor_sizes != first.factor_sizes or
        d.observation_shape != first.observation_shape):
      raise ValueError(f'{d} and {first} differ in grid or observations')
  return datasets


def _vmapped_runs(one, datasets, num_seeds: int, seed: int) -> list:
  """``one(key, dataset) -> (params, losses)`` for every seed and dataset.

  All runs are vmapped into one program; dataset v's seed s uses
  ``fold_in(key(seed), s)`` whatever the other datasets are, and sees its
  dataset through a ``lax.switch`` over the renderers.
  """
  first = datasets[0]
  renders = [d.render for d in datasets]

  def run(key, which):
    if len(datasets) == 1:
      return one(key, first)
    return one(key, first.replace(
        render_fn=lambda f: jax.lax.switch(which, renders, f)))

  keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(seed), s))(
      np.arange(num_seeds))
  keys = jnp.tile(keys, len(datasets))
  which = np.repeat(np.arange(len(datasets), dtype=np.int32), num_seeds)
  params, losses = jax.jit(jax.vmap(run))(keys, which)
  # On the host, slicing out datasets and seeds is free (an eager slice of a
  # device array compiles a small program per leaf shape).
  params, losses = jax.device_get((params, losses))
  runs = []
  for v in range(len(datasets)):
    part = slice(v * num_seeds, (v + 1) * num_seeds)
    runs.append((jax.tree.map(lambda a, p=part: a[p], params), losses[part]))
  return runs


def seed_mig(model, params, dataset, *, num_points: int = 3000,
             seed: int = 1) -> np.ndarray:
  """MIG of every seed's posterior means on a grid sample: (num_seeds,)."""
  factors = dataset_lib.sample_points(dataset, num_points, seed)
  images = np.asarray(jax.jit(dataset.render)(factors))
  num_seeds = jax.tree.leaves(params)[0].shape[0]
  out = []
  for s in range(num_seeds):
    stats = model_lib.posterior_stats(model, runner.select_seed(params, s),
                                      images)
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
    p = runner.select_seed(params, s)
    stats = model_lib.posterior_stats(model, p, images)
    latents = (np.flatnonzero(stats['active']) if active_only
               else np.arange(stats['mu'].shape[-1]))
    dto.append(float(np.median(model_lib.decoder_dto(
        model, p, stats['mu'], latents=latents, recon=recon))))
    active.append(len(latents))
  return np.asarray(dto), np.asarray(active)


def polynomial_features(x: np.ndarray, degree: int) -> np.ndarray:
  """[1, x, x_i x_j, x_i x_j x_k, ...] up to ``degree``, (N, F) -> (N, P).

  The design matrix of ``readout_mig``'s polynomial readout: every monomial
  of degree <= ``degree`` once (P = C(F + degree, degree)).
  """
  columns = [np.ones((len(x), 1))]
  for d in range(1, degree + 1):
    for index in itertools.combinations_with_replacement(range(x.shape[1]), d):
      columns.append(np.prod(x[:, index], axis=1, keepdims=True))
  return np.concatenate(columns, axis=1)


def readout_mig(features_train: np.ndarray, factors_train: np.ndarray,
                features_test: np.ndarray, factors_test: np.ndarray, *,
                degree: int = 1, ridge: float = 1e-3) -> float:
  """MIG of the factors read out of features by ridge regression.

  A probe of how much the features hold about each factor, whatever their
  rotation: the factor indices are regressed on polynomial features (of the
  standardised inputs) of ``degree`` on the train split, and the MIG of the
  predictions on the test split is returned (each prediction is one code).

  Args:
    features_train, features_test: (N, F) features, e.g. flattened images
      (degree 1: a linear probe) or a model's codes (degree 3).
    factors_train, factors_test: (N, K) integer factor indices.
    degree: polynomial degree of the readout.
    ridge: L2 penalty on the readout weights.

  Returns:
    The MIG of the (N_test, K) predictions.
  """
  f_train = np.asarray(features_train, np.float64).reshape(
      len(features_train), -1)
  f_test = np.asarray(features_test, np.float64).reshape(len(features_test), -1)
  mean, std = f_train.mean(0), f_train.std(0) + 1e-8
  a = polynomial_features((f_train - mean) / std, degree)
  b = polynomial_features((f_test - mean) / std, degree)
  weights = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]),
                            a.T @ np.asarray(factors_train, np.float64))
  return metrics.mig(b @ weights, factors_test)
