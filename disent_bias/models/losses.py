"""Loss terms as small pure functions with stated shapes (nats).

Per-example terms take (B, ...) arrays and return (B,) values (summed over
pixels or latents); per-latent terms return (B, D). A few regularisers are
functions of the whole batch (the minibatch TC estimator, the DIP covariance)
and say so. Objectives (``objectives.py``) take the batch mean.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

_LOG_2PI = math.log(2.0 * math.pi)


def _check_same_shape(a: jax.Array, b: jax.Array) -> None:
  if a.shape != b.shape:
    raise ValueError(f'Shape mismatch: got {a.shape} and {b.shape}.')


def _sum_per_example(x: jax.Array) -> jax.Array:
  return x.reshape((x.shape[0], -1)).sum(-1)


# Reconstruction.


def bernoulli_nll(logits: jax.Array, targets: jax.Array) -> jax.Array:
  """Sigmoid cross-entropy with logits, summed over all but the batch axis.

  Args:
    logits: float32 (B, ...) decoder outputs.
    targets: float32 (B, ...) in [0, 1] (non-binary targets are allowed; the
      loss then has an irreducible entropy term).

  Returns:
    float32 (B,) in nats.
  """
  _check_same_shape(logits, targets)
  per = jnp.maximum(logits, 0) - logits * targets + jnp.log1p(
      jnp.exp(-jnp.abs(logits)))
  return _sum_per_example(per)


def l2(outputs: jax.Array, targets: jax.Array) -> jax.Array:
  """Squared error summed over all but the batch axis: float32 (B,).

  .. note:: ``outputs`` are used as they are (no sigmoid), which suits vector
     data; there is no 0.5 factor.
  """
  _check_same_shape(outputs, targets)
  return _sum_per_example(jnp.square(outputs - targets))


RECONSTRUCTION = {'bernoulli': bernoulli_nll, 'l2': l2}


def decoded_mean(outputs: jax.Array, recon: str) -> jax.Array:
  """The observation a decoder output stands for under ``recon``.

  The Bernoulli mean ``sigmoid(logits)`` for ``'bernoulli'``, the output
  itself for ``'l2'``: same shape as ``outputs``.
  """
  if recon not in RECONSTRUCTION:
    raise ValueError(f'unknown recon {recon!r}; valid: '
                     f'{", ".join(sorted(RECONSTRUCTION))}')
  return jax.nn.sigmoid(outputs) if recon == 'bernoulli' else outputs


# Gaussian posteriors.


def reparameterize(key: jax.Array, mu: jax.Array, logvar: jax.Array) -> jax.Array:
  """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I): same shape as mu."""
  return mu + jnp.exp(0.5 * logvar) * jax.random.normal(key, mu.shape, mu.dtype)


def gaussian_kl_per_latent(mu: jax.Array, logvar: jax.Array) -> jax.Array:
  """KL(N(mu, exp(logvar)) || N(0, 1)) per latent: float32 (B, D), nats."""
  _check_same_shape(mu, logvar)
  return 0.5 * (jnp.square(mu) + jnp.exp(logvar) - logvar - 1.0)


def gaussian_kl(mu: jax.Array, logvar: jax.Array) -> jax.Array:
  """KL(N(mu, exp(logvar)) || N(0, I)) per example, in nats.

  Args:
    mu: float32 (B, D) posterior means.
    logvar: float32 (B, D) posterior log-variances.

  Returns:
    float32 (B,), summed over the D latents.
  """
  return gaussian_kl_per_latent(mu, logvar).sum(-1)


def gaussian_kl_between(mu1: jax.Array, logvar1: jax.Array, mu2: jax.Array,
                        logvar2: jax.Array) -> jax.Array:
  """KL(N(mu1, exp(logvar1)) || N(mu2, exp(logvar2))) per latent.

  Args:
    mu1, logvar1, mu2, logvar2: float32 (B, D).

  Returns:
    float32 (B, D), nats. (disentanglement_lib's weak ``compute_kl`` is twice
    this; Ada-GVAE's threshold is invariant to the factor.)
  """
  for a in (logvar1, mu2, logvar2):
    _check_same_shape(mu1, a)
  return 0.5 * (jnp.exp(logvar1 - logvar2) + jnp.square(mu2 - mu1) *
                jnp.exp(-logvar2) - 1.0 + logvar2 - logvar1)


def gaussian_entropy_per_latent(logvar: jax.Array) -> jax.Array:
  """Differential entropy of N(., exp(logvar)) per latent: same shape, nats."""
  return 0.5 * (logvar + _LOG_2PI + 1.0)


def gaussian_log_density(samples: jax.Array, mean: jax.Array,
                         logvar: jax.Array) -> jax.Array:
  """Elementwise log N(samples; mean, exp(logvar)); broadcasts, nats."""
  return -0.5 * (jnp.square(samples - mean) * jnp.exp(-logvar) + logvar +
                 _LOG_2PI)


# beta-TCVAE.


def total_correlation(z: jax.Array, mu: jax.Array,
                      logvar: jax.Array) -> jax.Array:
  """Minibatch-weighted estimate of TC, one value per example.

  ``log q(z_i) - sum_d log q(z_id)`` with the aggregate posterior q estimated
  from the batch, ``log q(z_i) ~ logsumexp_j log q(z_i | x_j)`` (and the same
  per dimension). As in disentanglement_lib's ``total_correlation``, the
  ``log(B N)`` normalisers are dropped (they only shift the value by a
  constant). A function of the whole batch: every example's value depends on
  all posteriors.

  Args:
    z: float32 (B, D) samples, ``z_i ~ q(z | x_i)``.
    mu: float32 (B, D) posterior means.
    logvar: float32 (B, D) posterior log-variances.

  Returns:
    float32 (B,); its mean is the estimator (nats).

  References:
    Chen et al., Isolating Sources of Disentanglement in VAEs, NeurIPS 2018,
    eq. (4) and Appendix C.1 (minibatch weighted sampling).
  """
  _check_same_shape(z, mu)
  _check_same_shape(z, logvar)
  # log q(z_i | x_j) per dimension: (B_i, B_j, D).
  log_qz_prob = gaussian_log_density(z[:, None, :], mu[None], logvar[None])
  log_qz_product = jax.nn.logsumexp(log_qz_prob, axis=1).sum(-1)
  log_qz = jax.nn.logsumexp(log_qz_prob.sum(-1), axis=1)
  return log_qz - log_qz_product


# DIP-VAE.


def covariance(x: jax.Array) -> jax.Array:
  """Biased (1 / B) covariance of the rows of x: (B, D) -> (D, D)."""
  mean = x.mean(0)
  return (x.T @ x) / x.shape[0] - jnp.outer(mean, mean)


def dip_covariance(mu: jax.Array, logvar: jax.Array, kind: str) -> jax.Array:
  """Covariance that DIP-VAE pushes to the identity: (D, D).

  Args:
    mu: float32 (B, D) posterior means.
    logvar: float32 (B, D) posterior log-variances.
    kind: ``'i'`` for Cov[mu]; ``'ii'`` for Cov[mu] + mean_B diag(exp(logvar))
      (the covariance of the aggregate posterior).

  Returns:
    float32 (D, D).

  References:
    Kumar et al., Variational Inference of Disentangled Latent Concepts from
    Unlabeled Observations, ICLR 2018, eqs. (6) and (8).
  """
  _check_same_shape(mu, logvar)
  cov = covariance(mu)
  if kind == 'i':
    return cov
  if kind == 'ii':
    return cov + jnp.diag(jnp.exp(logvar).mean(0))
  raise ValueError(f"unknown DIP kind {kind!r}; valid: 'i', 'ii'")


def dip_regularizer(cov: jax.Array, *, lambda_od: float,
                    lambda_d: float) -> jax.Array:
  """lambda_od * sum offdiag(cov)^2 + lambda_d * sum (diag(cov) - 1)^2: ()."""
  diag = jnp.diagonal(cov)
  off = cov - jnp.diag(diag)
  return lambda_od * jnp.sum(jnp.square(off)) + lambda_d * jnp.sum(
      jnp.square(diag - 1.0))


# FactorVAE.


def permute_dims(key: jax.Array, z: jax.Array) -> jax.Array:
  """Permutes each column of z independently across the batch: (B, D).

  Samples from the product of the marginals of q(z) (FactorVAE Algorithm 1).
  """
  keys = jax.random.split(key, z.shape[1])
  return jax.vmap(lambda k, col: jax.random.permutation(k, col),
                  in_axes=(0, 1), out_axes=1)(keys, z)


def factor_vae_tc(logits: jax.Array) -> jax.Array:
  """Density-ratio TC estimate per example: logit_0 - logit_1, (B, 2) -> (B,).

  Class 0 is "from q(z)", class 1 is "from prod_d q(z_d)".
  """
  if logits.ndim != 2 or logits.shape[-1] != 2:
    raise ValueError(f'Expected (B, 2) logits, got {logits.shape}.')
  return logits[:, 0] - logits[:, 1]


# Ada-GVAE.


def adaptive_average_mask(kl: jax.Array) -> jax.Array:
  """Which latents Ada-GVAE averages, decided as in disentanglement_lib.

  Each row is split into two bins of equal width over [min, max]
  (disentanglement_lib's ``discretize_in_bins``,
  ``tf.histogram_fixed_width_bins`` with 2 bins); the latents of the lower
  bin, (kl - min) / (max - min) < 1/2, are averaged. disentanglement_lib
  keeps only latents whose bin index is 1; if all values of a row are equal,
  its scaled values are 0 / 0 = NaN, whose index (floored, clipped, cast to
  int32) is not 1, so every latent is averaged; here too. That happens when a
  pair's two images are identical (all KLs exactly 0; with ``k = 1`` a
  re-sampled factor keeps its value with probability 1 / size), and there
  averaging leaves both posteriors as they are, up to rounding.

  Args:
    kl: float32 (B, D) per-latent divergence between the pair's posteriors.

  Returns:
    bool (B, D); True where the latent is taken as shared.
  """
  low = kl.min(-1, keepdims=True)
  width = kl.max(-1, keepdims=True) - low
  # The where keeps NaN out of the program; its value for width 0 is unused.
  scaled = (kl - low) / jnp.where(width > 0, width, 1.0)
  return (width == 0) | (scaled < 0.5)


def ada_gvae_posteriors(mu1, logvar1, mu2, logvar2):
  """Ada-GVAE posterior averaging for a pair (aggregate_argmax, label free).

  On the latents ``adaptive_average_mask`` picks from the per-latent
  KL(q1 || q2) both posteriors are replaced by the average N(0.5 (mu1 + mu2),
  0.5 (var1 + var2)); the others are kept.

  Args:
    mu1, logvar1, mu2, logvar2: float32 (B, D).

  Returns:
    (mu1', logvar1', mu2', logvar2', mask), each (B, D); mask is bool.

  References:
    Locatello et al., Weakly-Supervised Disentanglement Without Compromises,
    ICML 2020, Section 4 (Ada-GVAE).
  """
  kl = gaussian_kl_between(mu1, logvar1, mu2, logvar2)
  mask = adaptive_average_mask(kl)
  mu_avg = 0.5 * (mu1 + mu2)
  logvar_avg = jnp.log(0.5 * (jnp.exp(logvar1) + jnp.exp(logvar2)))
  pick = lambda own, avg: jnp.where(mask, avg, own)
  return (pick(mu1, mu_avg), pick(logvar1, logvar_avg), pick(mu2, mu_avg),
          pick(logvar2, logvar_avg), mask)


# SlowVAE.


def laplace_log_density(x: jax.Array, loc: jax.Array,
                        rate: float) -> jax.Array:
  """Elementwise log Laplace(x; loc, scale 1 / rate) = log(rate/2) - rate|x-loc|."""
  return jnp.log(0.5 * rate) - rate * jnp.abs(x - loc)


def laplace_cross_entropy(mu: jax.Array, logvar: jax.Array, loc: jax.Array,
                          rate: float) -> jax.Array:
  """Closed form E_{z ~ N(mu, exp(logvar))}[-log Laplace(z; loc, 1/rate)].

  With d = mu - loc and s the standard deviation,
  E|z - loc| = s sqrt(2/pi) exp(-d^2 / 2s^2) + d (1 - 2 Phi(-d / s)).
  (The form used in Klindt et al.'s published code.) Elementwise; nats.
  """
  s = jnp.exp(0.5 * logvar)
  d = mu - loc
  mean_abs = s * math.sqrt(2.0 / math.pi) * jnp.exp(
      -jnp.square(d) / (2.0 * jnp.square(s))) + d * (
          1.0 - 2.0 * jax.scipy.stats.norm.cdf(-d / s))
  return -jnp.log(0.5 * rate) + rate * mean_abs


def slow_transition_kl(z_next: jax.Array, logvar_next: jax.Array,
                       z_prev: jax.Array, rate: float) -> jax.Array:
  """Sampled KL(q(z_{t+1} | x_{t+1}) || p(z_{t+1} | z_t)) per latent.

  The entropy of q is exact; the cross-entropy uses the sample ``z_next``
  (from q(z_{t+1} | x_{t+1})) against the factorised Laplace transition prior
  centred on the sample ``z_prev`` (from q(z_t | x_t)). Unbiased for
  E_{q_t}[KL(q_{t+1} || p(. | z_t))].

  Args:
    z_next: float32 (B, D) sample of z_{t+1}.
    logvar_next: float32 (B, D) log-variance of q(z_{t+1} | x_{t+1}).
    z_prev: float32 (B, D) sample of z_t.
    rate: Laplace rate (1 / scale) of the transition prior.

  Returns:
    float32 (B, D), nats.

  References:
    Klindt et al., Towards Nonlinear Disentanglement in Natural Data with
    Temporal Sparse Coding, ICLR 2021, eq. (5).
  """
  _check_same_shape(z_next, logvar_next)
  _check_same_shape(z_next, z_prev)
  return (-gaussian_entropy_per_latent(logvar_next) -
          laplace_log_density(z_next, z_prev, rate))


# PCL.


def pcl_logit(h_prev: jax.Array, h_next: jax.Array, params) -> jax.Array:
  """PCL logistic-regression logit for pairs (real vs. shuffled).

  ``r = sum_i psi_i(h_i(x_t), h_i(x_{t+1})) + c`` with
  ``psi_i(u, v) = -a_i |v - u| + b_i (u^2 + v^2)``, ``a_i = softplus(a_raw_i)``.
  The first term is the log density of a Laplace transition (rate a_i); the
  second absorbs the marginal terms of log p(u, v) / (p(u) p(v)).

  Args:
    h_prev: float32 (B, D) features of x_t.
    h_next: float32 (B, D) features of x_{t+1} (or of a random image).
    params: dict with ``a_raw`` (D,), ``b`` (D,), ``c`` ().

  Returns:
    float32 (B,) logits (positive = real pair).

  References:
    Hyvarinen & Morioka, Nonlinear ICA of Temporally Dependent Stationary
    Sources, AISTATS 2017, eqs. (5)-(6).
  """
  _check_same_shape(h_prev, h_next)
  a = jax.nn.softplus(params['a_raw'])
  psi = (-a * jnp.abs(h_next - h_prev) +
         params['b'] * (jnp.square(h_prev) + jnp.square(h_next)))
  return psi.sum(-1) + params['c']


def logistic_loss(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Binary cross-entropy with logits, per example: (B,) -> (B,), nats."""
  _check_same_shape(logits, labels)
  return jnp.maximum(logits, 0) - logits * labels + jnp.log1p(
      jnp.exp(-jnp.abs(logits)))
