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


def _points(dataset, representation_fn, key, num_points, batch_size, what):
  """Features (V, D) = mean |z1 - z2| over a batch pair, and labels (V,)."""
  per_chunk = max(1, sampling.BATCH_SIZE // (2 * batch_size))
  candidates = factor_vae.varying_factors(dataset)
  features, labels = [], []
  progress = sampling.Progress(what, num_points)
  done = 0
  for chunk in range(-(-num_points // per_chunk)):
    index, factors1, factors2 = _shared_factor_pairs(
        jax.random.fold_in(key, chunk), tuple(dataset.factor_sizes),
        candidates, per_chunk, batch_size)
    count = min(per_chunk, num_points - done)
    both = jnp.concatenate([factors1[:count], factors2[:count]], axis=0)
    flat = both.reshape(2 * count * batch_size, -1)
    codes = sampling.encode(representation_fn, sampling.observe(dataset, flat),
                            flat.shape[0])
    codes = codes.reshape(2, count, batch_size, -1)
    features.append(np.mean(np.abs(codes[0] - codes[1]), axis=1))
    labels.append(np.asarray(index[:count], dtype=np.int64))
    done += count
    progress.update(done)
  return np.concatenate(features), np.concatenate(labels)


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
  if not factor_vae.varying_factors(dataset):
    raise ValueError(f'{dataset.name}: every factor has a single value')
  k_train, k_eval = jax.random.split(jax.random.key(seed))
  train_x, train_y = _points(dataset, representation_fn, k_train, num_train,
                             batch_size, 'BetaVAE train points')
  eval_x, eval_y = _points(dataset, representation_fn, k_eval, num_eval,
                           batch_size, 'BetaVAE eval points')
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
