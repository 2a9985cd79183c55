"""Draw factors, render observations and encode them in bounded batches.

``representation_fn`` maps numpy observations (n, *obs) to numpy codes (n, D)
(for a VAE: the posterior mean from a jitted, batched encoder pass).
"""

from __future__ import annotations

import functools
import time
from typing import Callable

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

RepresentationFn = Callable[[np.ndarray], np.ndarray]

# Observations rendered and encoded at a time; bounds memory (1000 64x64x3
# float32 images are 49 MB).
BATCH_SIZE = 1000


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
  """Codes (n, D) of given factors (n, K), rendered ``batch_size`` at a time."""
  n = factors.shape[0]
  chunks = []
  for start in range(0, n, batch_size):
    part = factors[start:start + batch_size]
    chunks.append(encode(representation_fn, observe(dataset, part),
                         part.shape[0]))
  return np.concatenate(chunks, axis=0)


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
  logging.info('encoded %d points of %s in %.1fs', num_points, dataset.name,
               time.perf_counter() - start)
  return codes, factors


class Progress:
  """Logs progress with rate and ETA at most every ``every_s`` seconds."""

  def __init__(self, what: str, total: int, every_s: float = 15.):
    self.what, self.total, self.every_s = what, total, every_s
    self.start = self.last = time.perf_counter()

  def update(self, done: int):
    now = time.perf_counter()
    if now - self.last < self.every_s and done < self.total:
      return
    self.last = now
    rate = done / max(now - self.start, 1e-9)
    eta = (self.total - done) / max(rate, 1e-9)
    logging.info('%s: %d/%d (%.0f/s, ETA %.0fs)', self.what, done,
                 self.total, rate, eta)
