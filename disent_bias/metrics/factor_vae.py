"""FactorVAE score (Kim & Mnih, 2018), disentanglement_lib semantics.

References:
  Kim & Mnih, "Disentangling by Factorising", ICML 2018, Sec. 4;
  disentanglement_lib ``evaluation/metrics/factor_vae.py`` with the study
  settings (batch 64, 10,000 points for the variances, 10,000 / 5,000 votes,
  ``prune_dims.threshold = 0.05``).
"""

from __future__ import annotations

import functools

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.metrics import sampling


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _fixed_factor_batches(key: jax.Array, factor_sizes: tuple[int, ...],
                          candidates: tuple[int, ...], num_votes: int,
                          batch_size: int) -> tuple[jax.Array, jax.Array]:
  """Per vote a factor index and a batch (B, K) sharing that factor's value.

  Returns:
    (int32 (V,) factor indices, int32 (V, B, K) factors).
  """
  k_index, k_factors = jax.random.split(key)
  num_factors = len(factor_sizes)
  pick = jax.random.randint(k_index, (num_votes,), 0, len(candidates))
  index = jnp.asarray(candidates, jnp.int32)[pick]
  factors = jax.random.randint(
      k_factors, (num_votes, batch_size, num_factors), 0,
      jnp.asarray(factor_sizes, jnp.int32))
  fixed = jnp.arange(num_factors)[None, None, :] == index[:, None, None]
  factors = jnp.where(fixed, factors[:, :1, :], factors)
  return index, factors.astype(jnp.int32)


def varying_factors(dataset) -> tuple[int, ...]:
  """Indices of factors with more than one value (the ones worth fixing)."""
  return tuple(j for j, s in enumerate(dataset.factor_sizes) if s > 1)


def _votes(dataset, representation_fn, key, num_points, batch_size,
           global_variances, active, what) -> np.ndarray:
  """(K, D) counts: factor fixed in a batch vs code of least variance."""
  num_codes = global_variances.shape[0]
  votes = np.zeros((dataset.num_factors, num_codes), dtype=np.int64)
  active_index = np.flatnonzero(active)
  per_chunk = max(1, sampling.BATCH_SIZE // batch_size)
  progress = sampling.Progress(what, num_points)
  done = 0
  for chunk in range(-(-num_points // per_chunk)):
    index, factors = _fixed_factor_batches(
        jax.random.fold_in(key, chunk), tuple(dataset.factor_sizes),
        varying_factors(dataset), per_chunk, batch_size)
    count = min(per_chunk, num_points - done)
    index = np.asarray(index[:count])
    flat = factors[:count].reshape(count * batch_size, -1)
    codes = sampling.encode(representation_fn,
                            sampling.observe(dataset, flat), flat.shape[0])
    codes = codes.reshape(count, batch_size, num_codes)
    local = np.var(codes, axis=1, ddof=1)
    ratio = local[:, active] / global_variances[active]
    argmin = active_index[np.argmin(ratio, axis=1)]
    np.add.at(votes, (index, argmin), 1)
    done += count
    progress.update(done)
  return votes


def factor_vae_score(dataset, representation_fn: sampling.RepresentationFn,
                     *, seed: int, batch_size: int = 64,
                     num_train: int = 10000, num_eval: int = 5000,
                     num_variance_estimate: int = 10000,
                     threshold: float = 0.05) -> dict[str, float]:
  """Majority-vote accuracy of predicting the fixed factor from the codes.

  Codes are scaled by their global standard deviation (from
  ``num_variance_estimate`` uniform points, ddof=1); codes whose std is below
  ``threshold`` are pruned. Each vote fixes one random factor in a batch of
  ``batch_size`` points and votes for the active code of least scaled
  variance; the classifier maps each code to its most frequent factor.

  Args:
    dataset: ``GroundTruthData``.
    representation_fn: numpy (n, *obs) -> numpy (n, D).
    seed: the result is a deterministic function of it.
    batch_size: points per vote.
    num_train: votes for the classifier.
    num_eval: votes for the evaluation accuracy.
    num_variance_estimate: points for the global variances.
    threshold: minimum std of an active code (on the std, as the reference).

  Returns:
    ``train_accuracy``, ``eval_accuracy`` and ``num_active_dims`` (the number
    of codes kept; the reference reports the mask length instead). With no
    active code both accuracies are 0, as in the reference. Factors with a
    single value are never chosen as the fixed one (fixing them is a no-op).
  """
  if not varying_factors(dataset):
    raise ValueError(f'{dataset.name}: every factor has a single value')
  key = jax.random.key(seed)
  k_var, k_train, k_eval = jax.random.split(key, 3)
  logging.info('FactorVAE score: global variances from %d points',
               num_variance_estimate)
  codes, _ = sampling.sample_codes(dataset, representation_fn,
                                   num_variance_estimate, k_var)
  global_variances = np.var(codes, axis=0, ddof=1)
  active = np.sqrt(global_variances) >= threshold
  if not active.any():
    logging.warning('FactorVAE score: no code has std >= %g', threshold)
    return {'train_accuracy': 0., 'eval_accuracy': 0., 'num_active_dims': 0}
  train_votes = _votes(dataset, representation_fn, k_train, num_train,
                       batch_size, global_variances, active,
                       'FactorVAE train votes')
  classifier = np.argmax(train_votes, axis=0)
  other = np.arange(train_votes.shape[1])
  train_accuracy = np.sum(train_votes[classifier, other]) / np.sum(train_votes)
  eval_votes = _votes(dataset, representation_fn, k_eval, num_eval,
                      batch_size, global_variances, active,
                      'FactorVAE eval votes')
  eval_accuracy = np.sum(eval_votes[classifier, other]) / np.sum(eval_votes)
  logging.info('FactorVAE score: train %.3f eval %.3f', train_accuracy,
               eval_accuracy)
  return {'train_accuracy': float(train_accuracy),
          'eval_accuracy': float(eval_accuracy),
          'num_active_dims': int(active.sum())}
