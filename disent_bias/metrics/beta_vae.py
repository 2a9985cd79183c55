"""BetaVAE score (Higgins et al., 2017), disentanglement_lib semantics.

References:
  Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a
  Constrained Variational Framework", ICLR 2017, Sec. 3;
  disentanglement_lib ``evaluation/metrics/beta_vae.py``
  (``compute_beta_vae_sklearn``; batch 64, 10,000 / 5,000 points).
"""

from __future__ import annotations

import functools

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.metrics import factor_vae
from disent_bias.metrics import sampling
from disent_bias.metrics import utils


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _shared_factor_pairs(key: jax.Array, factor_sizes: tuple[int, ...],
                         candidates: tuple[int, ...], num_points: int,
                         batch_size: int):
  """Per point a factor index and two batches (B, K) agreeing on it.

  Returns:
    (int32 (V,), int32 (V, B, K), int32 (V, B, K)).
  """
  k_index, k_1, k_2 = jax.random.split(key, 3)
  num_factors = len(factor_sizes)
  pick = jax.random.randint(k_index, (num_points,), 0, len(candidates))
  index = jnp.asarray(candidates, jnp.int32)[pick]
  sizes = jnp.asarray(factor_sizes, jnp.int32)
  shape = (num_points, batch_size, num_factors)
  factors1 = jax.random.randint(k_1, shape, 0, sizes)
  factors2 = jax.random.randint(k_2, shape, 0, sizes)
  shared = jnp.arange(num_factors)[None, None, :] == index[:, None, None]
  factors2 = jnp.where(shared, factors1, factors2)
  return index, factors1.astype(jnp.int32), factors2.astype(jnp.int32)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5))
def _chunked_pairs(key: jax.Array, factor_sizes: tuple[int, ...],
                   candidates: tuple[int, ...], num_chunks: int,
                   per_chunk: int, batch_size: int):
  """``_shared_factor_pairs(fold_in(key, c))`` for c < num_chunks, stacked.

  A ``lax.map`` loop, as for the FactorVAE votes (``factor_vae.draw_votes``).
  """
  return jax.lax.map(
      lambda c: _shared_factor_pairs(jax.random.fold_in(key, c),
                                     factor_sizes, candidates, per_chunk,
                                     batch_size),
      jnp.arange(num_chunks))


def draw_points(key: jax.Array, factor_sizes: tuple[int, ...],
                candidates: tuple[int, ...], num_points: int,
                batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Batch pairs of ``num_points`` points (layout as ``factor_vae.draw_votes``).

  Returns:
    (int64 (V,) shared factor, int32 (V * B, K) first and second batches,
    point-major).
  """
  per_chunk = max(1, factor_vae.DRAW_POINTS // (2 * batch_size))
  num_chunks = -(-num_points // per_chunk)
  index, factors1, factors2 = _chunked_pairs(
      key, tuple(factor_sizes), candidates, num_chunks, per_chunk,
      batch_size)
  num_factors = len(factor_sizes)
  flat = lambda f: np.asarray(f).reshape(-1, batch_size, num_factors)[
      :num_points].reshape(num_points * batch_size, num_factors)
  index = np.asarray(index).reshape(-1)[:num_points].astype(np.int64)
  return index, flat(factors1), flat(factors2)


def draw(dataset, *, seed: int, batch_size: int = 64, num_train: int = 10000,
         num_eval: int = 5000) -> dict[str, np.ndarray]:
  """Every factor draw of ``beta_vae_score`` (a pure function of ``seed``).

  Returns:
    ``train1``, ``train2``, ``eval1``, ``eval2`` int32 (V * B, K) batch
    pairs and ``train_index`` / ``eval_index`` int64 (V,) shared factors.
  """
  if not factor_vae.varying_factors(dataset):
    raise ValueError(f'{dataset.name}: every factor has a single value')
  k_train, k_eval = jax.random.split(jax.random.key(seed))
  sizes = tuple(dataset.factor_sizes)
  candidates = factor_vae.varying_factors(dataset)
  out = {'batch_size': np.asarray(batch_size)}
  for name, key, num in (('train', k_train, num_train),
                         ('eval', k_eval, num_eval)):
    (out[f'{name}_index'], out[f'{name}1'],
     out[f'{name}2']) = draw_points(key, sizes, candidates, int(num),
                                    batch_size)
  return out


def _features(codes1: np.ndarray, codes2: np.ndarray,
              batch_size: int) -> np.ndarray:
  """(V, D) mean over each batch pair of |z1 - z2|."""
  diff = np.abs(codes1 - codes2)
  return diff.reshape(-1, batch_size, diff.shape[-1]).mean(axis=1)


def score_codes(draws: dict[str, np.ndarray], codes: dict[str, np.ndarray],
                seed: int) -> dict[str, float]:
  """BetaVAE score from the codes of ``draw``'s factor arrays."""
  batch_size = int(draws['batch_size'])
  train_x = _features(codes['train1'], codes['train2'], batch_size)
  eval_x = _features(codes['eval1'], codes['eval2'], batch_size)
  train_y, eval_y = draws['train_index'], draws['eval_index']
  model = utils.logistic_regression(seed)
  with utils.sklearn_clock():
    model.fit(train_x, train_y)
    train_pred = model.predict(train_x)
    eval_pred = model.predict(eval_x)
  train_accuracy = float(np.mean(train_pred == train_y))
  eval_accuracy = float(np.mean(eval_pred == eval_y))
  logging.info('BetaVAE score: train %.3f eval %.3f', train_accuracy,
               eval_accuracy)
  return {'train_accuracy': train_accuracy, 'eval_accuracy': eval_accuracy}


def beta_vae_score(dataset, representation_fn: sampling.RepresentationFn,
                   *, seed: int, batch_size: int = 64, num_train: int = 10000,
                   num_eval: int = 5000) -> dict[str, float]:
  """Accuracy of a linear classifier predicting the shared factor.

  Each point fixes one random factor, draws two batches of ``batch_size``
  points that agree on it, and uses the mean absolute code difference as a
  feature vector; a logistic regression (the reference's scikit-learn
  defaults: liblinear, one-vs-rest) predicts the fixed factor.

  Args:
    dataset: ``GroundTruthData``.
    representation_fn: numpy (n, *obs) -> numpy (n, D).
    seed: the result is a deterministic function of it.
    batch_size: points per batch of a pair.
    num_train: training points for the classifier.
    num_eval: evaluation points.

  Returns:
    ``train_accuracy`` and ``eval_accuracy``.
  """
  draws = draw(dataset, seed=seed, batch_size=batch_size,
               num_train=num_train, num_eval=num_eval)
  codes, = sampling.encode_draws(dataset, representation_fn, [draws])
  return score_codes(draws, codes, seed)
