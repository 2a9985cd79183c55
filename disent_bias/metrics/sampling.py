"""Draw factors, render observations and encode them in bounded batches.

``representation_fn`` maps numpy observations (n, *obs) to numpy codes (n, D)
(for a VAE: the posterior mean from a jitted, batched encoder pass). When it
also carries ``jax_fn`` (a pure ``(params, images) -> codes`` function) and
``params``, and the dataset renders in jnp (``is_pure``), rendering and
encoding run inside one jitted function (``FactorEncoder``): no image leaves
the device.

The sampling scores encode many repeated points (FactorVAE and BetaVAE at
disentanglement_lib's sizes draw about 2.9M points from dSprites' 737,280),
so ``encode_draws`` encodes each distinct grid point once and looks the codes
up; the representation is a function of the image, so this changes no score.
"""

from __future__ import annotations

import functools
import time
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.utils import logging_utils
from disent_bias.utils import progress as progress_lib

RepresentationFn = Callable[[np.ndarray], np.ndarray]

# Observations rendered and encoded at a time on the host path; bounds memory
# (1000 64x64x3 float32 images are 49 MB).
BATCH_SIZE = 1000
# Fused path: images per step of the jitted loop and steps per jitted call
# (the last call is padded, so every call reuses one compilation). Chunks of
# 64 encode dSprites with the conv encoder 1.2x faster than chunks of 256
# and 1.9x faster than 4,096 (docs/metrics.md "Encoding").
FUSED_CHUNK = 64
FUSED_STEPS = 128


@functools.lru_cache(maxsize=8)
def _jitted_render(dataset) -> Callable:
  return jax.jit(dataset.render)


def observe(dataset, factors) -> np.ndarray:
  """Observations (n, *obs) of int (n, K) factors, as numpy float32.

  Pure (procedural) datasets render inside one jitted call padded to a fixed
  batch shape, so every batch reuses one compilation; file-backed datasets
  look the images up on the host.
  """
  n = factors.shape[0]
  if not dataset.is_pure:
    return np.asarray(dataset.render(np.asarray(factors)))
  size = max(n, 1)
  # Round the batch up to a multiple of 64 to keep the number of shapes small.
  padded = -(-size // 64) * 64
  factors = jnp.asarray(factors, dtype=jnp.int32)
  if padded != n:
    factors = jnp.concatenate(
        [factors, jnp.zeros((padded - n, factors.shape[1]), jnp.int32)])
  return np.asarray(_jitted_render(dataset)(factors))[:n]


def encode(representation_fn: RepresentationFn, observations: np.ndarray,
           n: int) -> np.ndarray:
  """Applies ``representation_fn`` and checks it returns (n, D) codes."""
  codes = np.asarray(representation_fn(observations))
  if codes.ndim != 2 or codes.shape[0] != n:
    raise ValueError(
        f'representation_fn must map {n} observations to (n, D) codes, '
        f'got shape {codes.shape}')
  return codes.astype(np.float64)


def codes_of_factors(dataset, representation_fn: RepresentationFn, factors,
                     *, batch_size: int = BATCH_SIZE) -> np.ndarray:
  """Codes (n, D) of given factors (n, K) (``FactorEncoder``)."""
  return FactorEncoder(dataset, representation_fn,
                       batch_size=batch_size)(factors)


def sample_codes(dataset, representation_fn: RepresentationFn,
                 num_points: int, key: jax.Array, *,
                 batch_size: int = BATCH_SIZE
                 ) -> tuple[np.ndarray, np.ndarray]:
  """Uniformly sampled factors and their codes.

  Args:
    dataset: a ``GroundTruthData``.
    representation_fn: numpy (n, *obs) -> numpy (n, D).
    num_points: N.
    key: PRNG key; the sample is a pure function of it.
    batch_size: observations rendered and encoded at a time.

  Returns:
    (codes float64 (N, D), factors int64 (N, K)).
  """
  start = time.perf_counter()
  factors = np.asarray(dataset.sample_factors(key, int(num_points)),
                       dtype=np.int64)
  codes = codes_of_factors(dataset, representation_fn, factors,
                           batch_size=batch_size)
  logging_utils.log_detail('encoded %d points of %s in %.1fs', num_points,
                           dataset.name, time.perf_counter() - start)
  return codes, factors


@functools.lru_cache(maxsize=8)
def _fused(dataset, jax_fn: Callable, chunk: int, steps: int) -> Callable:
  """jit: (params, int32 factors (steps * chunk, K)) -> codes (steps * chunk, D).

  ``lax.map`` over ``steps`` chunks bounds the memory of the rendered images.
  """

  def run(params, factors):
    def one(part):
      return jax_fn(params, dataset.render(part)).astype(jnp.float32)
    codes = jax.lax.map(one, factors.reshape(steps, chunk, factors.shape[-1]))
    return codes.reshape(steps * chunk, codes.shape[-1])

  return jax.jit(run)


class FactorEncoder:
  """Codes (n, D) float64 of int factor rows (n, K).

  Fused (one jitted render + encode per ``FUSED_STEPS * FUSED_CHUNK`` rows)
  when the dataset is pure and ``representation_fn`` has ``jax_fn`` and
  ``params``; otherwise renders ``batch_size`` rows at a time (``observe``)
  and calls ``representation_fn``.
  """

  def __init__(self, dataset, representation_fn: RepresentationFn, *,
               batch_size: int = BATCH_SIZE):
    self.dataset = dataset
    self.representation_fn = representation_fn
    self.batch_size = batch_size
    self.fused = bool(dataset.is_pure and
                      callable(getattr(representation_fn, 'jax_fn', None)) and
                      hasattr(representation_fn, 'params'))

  def __call__(self, factors, what: str = 'encoding') -> np.ndarray:
    factors = np.asarray(factors)
    n = factors.shape[0]
    if not self.fused:
      progress = progress_lib.RateLogger(what, n)
      chunks = []
      for start in range(0, n, self.batch_size):
        part = factors[start:start + self.batch_size]
        chunks.append(encode(self.representation_fn,
                             observe(self.dataset, part), part.shape[0]))
        progress.update(start + part.shape[0])
      if not chunks:
        return encode(self.representation_fn,
                      observe(self.dataset, factors), 0)
      return np.concatenate(chunks, axis=0)
    chunk = min(FUSED_CHUNK, -(-max(n, 1) // 64) * 64)
    # Steps per call rounded up to a power of two: calls of other sizes
    # reuse a few compilations (each chunk computes the same either way).
    steps = min(FUSED_STEPS, 1 << (-(-max(n, 1) // chunk) - 1).bit_length())
    per_call = chunk * steps
    fn = _fused(self.dataset, self.representation_fn.jax_fn, chunk, steps)
    params = self.representation_fn.params
    progress = progress_lib.RateLogger(what, n)
    chunks = []
    for start in range(0, max(n, 1), per_call):
      part = np.asarray(factors[start:start + per_call], np.int32)
      count = part.shape[0]
      if count < per_call:
        part = np.concatenate(
            [part, np.zeros((per_call - count, part.shape[1]), np.int32)])
      chunks.append(np.asarray(fn(params, part))[:count])
      progress.update(start + count)
    codes = np.concatenate(chunks, axis=0).astype(np.float64)
    if codes.ndim != 2 or codes.shape[0] != n:
      raise ValueError(f'representation_fn.jax_fn must map images to (n, D) '
                       f'codes, got shape {codes.shape}')
    return codes


def encode_draws(dataset, representation_fn: RepresentationFn,
                 draws: list[dict[str, np.ndarray]], *,
                 stats: dict | None = None) -> list[dict[str, np.ndarray]]:
  """Codes of every factor array of several draws; each grid point once.

  Args:
    dataset: ``GroundTruthData``.
    representation_fn: numpy (n, *obs) -> numpy (n, D), optionally with
      ``jax_fn`` / ``params`` for the fused path (``FactorEncoder``).
    draws: dicts whose 2-D int entries (n, K) are factor rows to encode (1-D
      entries, e.g. labels, are skipped).
    stats: if given, receives ``num_drawn`` (rows over all draws) and
      ``num_encoded`` (distinct grid points, the images actually encoded).

  Returns:
    Per draw a dict with the same keys as its 2-D entries: float64 (n, D).
  """
  encoder = FactorEncoder(dataset, representation_fn)
  names = [[k for k, v in d.items() if np.ndim(v) == 2] for d in draws]
  arrays = [np.asarray(d[k]) for d, ks in zip(draws, names) for k in ks]
  num_drawn = sum(a.shape[0] for a in arrays)
  # Deduplicate by grid index (int32 in StateSpace.factors_to_index).
  if dataset.num_points < 2**31 and num_drawn:
    keys = np.concatenate([dataset.factors_to_index(a) for a in arrays])
    unique, first, inverse = np.unique(keys, return_index=True,
                                       return_inverse=True)
    rows = np.concatenate(arrays)[first]
    del keys, first
    table = encoder(rows, f'encoding {len(unique)} distinct points')
    lookup = lambda a, b: table[inverse[a:b]]
    num_encoded = len(unique)
  else:
    codes = encoder(np.concatenate(arrays) if arrays else
                    np.zeros((0, dataset.num_factors), np.int32))
    lookup = lambda a, b: codes[a:b]
    num_encoded = num_drawn
  if stats is not None:
    stats.update(num_drawn=num_drawn, num_encoded=num_encoded)
  logging_utils.log_detail('encoded %d distinct of %d drawn points',
                           num_encoded, num_drawn)
  out, start = [], 0
  for d, ks in zip(draws, names):
    part = {}
    for k in ks:
      n = d[k].shape[0]
      part[k] = lookup(start, start + n)
      start += n
    out.append(part)
  return out
