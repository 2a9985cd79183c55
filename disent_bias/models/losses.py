"""Per-example loss terms: (B, ...) arrays in, (B,) values out (nats)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _sum_per_example(x: jax.Array) -> jax.Array:
  return x.reshape((x.shape[0], -1)).sum(-1)


def bernoulli_nll(logits: jax.Array, targets: jax.Array) -> jax.Array:
  """Sigmoid cross-entropy with logits, summed over all but the batch axis.

  Args:
    logits: float32 (B, ...) decoder outputs.
    targets: float32 (B, ...) in [0, 1] (non-binary targets are allowed; the
      loss then has an irreducible entropy term).

  Returns:
    float32 (B,) in nats.
  """
  if logits.shape != targets.shape:
    raise ValueError(f'Shape mismatch: got {logits.shape} and {targets.shape}.')
  per = jnp.maximum(logits, 0) - logits * targets + jnp.log1p(
      jnp.exp(-jnp.abs(logits)))
  return _sum_per_example(per)


def l2(outputs: jax.Array, targets: jax.Array) -> jax.Array:
  """Squared error summed over all but the batch axis: float32 (B,)."""
  if outputs.shape != targets.shape:
    raise ValueError(f'Shape mismatch: got {outputs.shape} and {targets.shape}.')
  return _sum_per_example(jnp.square(outputs - targets))


def gaussian_kl(mu: jax.Array, logvar: jax.Array) -> jax.Array:
  """KL(N(mu, exp(logvar)) || N(0, I)) per example, in nats.

  Args:
    mu: float32 (B, D) posterior means.
    logvar: float32 (B, D) posterior log-variances.

  Returns:
    float32 (B,), summed over the D latents.
  """
  return gaussian_kl_per_latent(mu, logvar).sum(-1)


def gaussian_kl_per_latent(mu: jax.Array, logvar: jax.Array) -> jax.Array:
  """KL(N(mu, exp(logvar)) || N(0, 1)) per latent: float32 (B, D)."""
  if mu.shape != logvar.shape:
    raise ValueError(f'Shape mismatch: got {mu.shape} and {logvar.shape}.')
  return 0.5 * (jnp.square(mu) + jnp.exp(logvar) - logvar - 1.0)


def reparameterize(key: jax.Array, mu: jax.Array, logvar: jax.Array) -> jax.Array:
  """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I): same shape as mu."""
  return mu + jnp.exp(0.5 * logvar) * jax.random.normal(key, mu.shape, mu.dtype)


RECONSTRUCTION = {'bernoulli': bernoulli_nll, 'l2': l2}
