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
def fixed_factor_batches(key: jax.Array, factor_sizes: tuple[int, ...],
                         candidates: tuple[int, ...], num_votes: int,
                         batch_size: int) -> tuple[jax.Array, jax.Array]:
  """Per vote a factor index and a batch (B, K) sharing that factor's value.

  One PRNG key's worth of votes; ``draw_votes`` stacks them per chunk.

  Args:
    key: PRNG key.
    factor_sizes: the grid (K sizes); static.
    candidates: factor indices that may be fixed; static.
    num_votes: V; static.
    batch_size: B; static.

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


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5))
def _chunked_fixed_factor_batches(key: jax.Array,
                                  factor_sizes: tuple[int, ...],
                                  candidates: tuple[int, ...],
                                  num_chunks: int, per_chunk: int,
                                  batch_size: int):
  """``fixed_factor_batches(fold_in(key, c))`` for c < num_chunks, stacked.

  A ``lax.map`` loop: one small compiled program (a ``vmap`` over the chunks
  compiles for about 15 CPU s, a Python loop dispatches thousands of calls).

  Returns:
    (int32 (C, per_chunk), int32 (C, per_chunk, B, K)).
  """
  return jax.lax.map(
      lambda c: fixed_factor_batches(jax.random.fold_in(key, c),
                                     factor_sizes, candidates, per_chunk,
                                     batch_size),
      jnp.arange(num_chunks))


def varying_factors(dataset) -> tuple[int, ...]:
  """Indices of factors with more than one value (the ones worth fixing)."""
  return tuple(j for j, s in enumerate(dataset.factor_sizes) if s > 1)


# Layout of the vote draws: each PRNG key (``fold_in(key, chunk)``) draws the
# votes of ``DRAW_POINTS // batch_size`` consecutive votes. Fixed so that the
# draws, hence the scores, do not depend on how the points are encoded.
DRAW_POINTS = 1000


def draw_votes(key: jax.Array, factor_sizes: tuple[int, ...],
               candidates: tuple[int, ...], num_votes: int,
               batch_size: int) -> tuple[np.ndarray, np.ndarray]:
  """Fixed-factor batches of ``num_votes`` votes.

  Returns:
    (int64 (V,) fixed factor per vote, int32 (V * B, K) factors, vote-major).
  """
  per_chunk = max(1, DRAW_POINTS // batch_size)
  num_chunks = -(-num_votes // per_chunk)
  index, factors = _chunked_fixed_factor_batches(
      key, tuple(factor_sizes), candidates, num_chunks, per_chunk,
      batch_size)
  index = np.asarray(index).reshape(-1)[:num_votes].astype(np.int64)
  factors = np.asarray(factors).reshape(-1, batch_size, len(factor_sizes))
  return index, factors[:num_votes].reshape(num_votes * batch_size, -1)


def draw(dataset, *, seed: int, batch_size: int = 64,
         num_train: int = 10000, num_eval: int = 5000,
         num_variance_estimate: int = 10000) -> dict[str, np.ndarray]:
  """Every factor draw of ``factor_vae_score`` (a pure function of ``seed``).

  Returns:
    ``variance`` int (N_var, K); ``train`` / ``eval`` int32 (V * B, K)
    factors and ``train_index`` / ``eval_index`` int64 (V,) fixed factors.
  """
  if not varying_factors(dataset):
    raise ValueError(f'{dataset.name}: every factor has a single value')
  k_var, k_train, k_eval = jax.random.split(jax.random.key(seed), 3)
  sizes, candidates = tuple(dataset.factor_sizes), varying_factors(dataset)
  out = {'variance': np.asarray(
      dataset.sample_factors(k_var, int(num_variance_estimate)), np.int64)}
  for name, key, num in (('train', k_train, num_train),
                         ('eval', k_eval, num_eval)):
    out[f'{name}_index'], out[name] = draw_votes(key, sizes, candidates,
                                                 int(num), batch_size)
  out['batch_size'] = np.asarray(batch_size)
  return out


def _vote_counts(codes: np.ndarray, index: np.ndarray, batch_size: int,
                 num_factors: int, global_variances: np.ndarray,
                 active: np.ndarray) -> np.ndarray:
  """(K, D) counts: factor fixed in a batch vs active code of least variance."""
  num_codes = global_variances.shape[0]
  codes = codes.reshape(index.shape[0], batch_size, num_codes)
  local = np.var(codes[:, :, active], axis=1, ddof=1)
  argmin = np.flatnonzero(active)[
      np.argmin(local / global_variances[active], axis=1)]
  votes = np.zeros((num_factors, num_codes), dtype=np.int64)
  np.add.at(votes, (index, argmin), 1)
  return votes


def score_codes(draws: dict[str, np.ndarray], codes: dict[str, np.ndarray],
                num_factors: int, threshold: float = 0.05
                ) -> dict[str, float]:
  """FactorVAE score from the codes of ``draw``'s factor arrays."""
  global_variances = np.var(codes['variance'], axis=0, ddof=1)
  active = np.sqrt(global_variances) >= threshold
  if not active.any():
    logging.warning('FactorVAE score: no code has std >= %g', threshold)
    return {'train_accuracy': 0., 'eval_accuracy': 0., 'num_active_dims': 0}
  batch_size = int(draws['batch_size'])
  train_votes = _vote_counts(codes['train'], draws['train_index'], batch_size,
                             num_factors, global_variances, active)
  eval_votes = _vote_counts(codes['eval'], draws['eval_index'], batch_size,
                            num_factors, global_variances, active)
  classifier = np.argmax(train_votes, axis=0)
  other = np.arange(train_votes.shape[1])
  train_accuracy = np.sum(train_votes[classifier, other]) / np.sum(train_votes)
  eval_accuracy = np.sum(eval_votes[classifier, other]) / np.sum(eval_votes)
  logging.info('FactorVAE score: train %.3f eval %.3f', train_accuracy,
               eval_accuracy)
  return {'train_accuracy': float(train_accuracy),
          'eval_accuracy': float(eval_accuracy),
          'num_active_dims': int(active.sum())}


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
  draws = draw(dataset, seed=seed, batch_size=batch_size,
               num_train=num_train, num_eval=num_eval,
               num_variance_estimate=num_variance_estimate)
  codes, = sampling.encode_draws(dataset, representation_fn, [draws])
  return score_codes(draws, codes, dataset.num_factors, threshold)
