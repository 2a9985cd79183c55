"""Model-side analysis: decoder Jacobians, posterior variances, polarisation.

Definitions (Rolinek et al., CVPR 2019, Sections 3-4):
- a latent is *active* when its mean posterior variance over the data is
  below ``ACTIVE_VARIANCE`` (sigma^2 << 1), *passive* otherwise (it sits at
  the prior and the decoder ignores it);
- the model is in the *polarized regime* when the KL of the passive latents
  is negligible: ``Delta_KL = |KL - KL_active| / KL <= POLARIZED_DELTA_KL``
  (0.03);
- the decoder Jacobian ``dDec/dz`` at the posterior means, restricted to the
  active latents, has (nearly) orthogonal columns for a VAE in the polarized
  regime; its distance to orthogonality (DtO, ``alignment``) measures that.
  For the Bernoulli likelihood the Jacobian of the logits is weighted by
  ``sqrt(p (1 - p))`` per pixel (the square root of the loss Hessian in logit
  space, i.e. the Fisher metric in which the local quadratic approximation of
  the 2019 argument holds); for L2 it is the plain output Jacobian.
"""

from __future__ import annotations

import functools
from typing import Iterable

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.analysis import alignment

ACTIVE_VARIANCE = 0.5
POLARIZED_DELTA_KL = 0.03
MAX_JACOBIAN_POINTS = 32


@functools.lru_cache(maxsize=16)
def _encode_fn(model):
  return jax.jit(lambda p, x: model.apply({'params': p}, x, method='encode'))


@functools.lru_cache(maxsize=16)
def _decoder_jacobian_fn(model, recon: str):
  def one(params, z):  # z (D,) -> (P, D)
    def dec(zz):
      return model.apply({'params': params}, zz[None], method='decode').reshape(-1)
    jac = jax.jacfwd(dec)(z)
    if recon == 'bernoulli':
      p = jax.nn.sigmoid(dec(z))
      jac = jac * jnp.sqrt(p * (1.0 - p))[:, None]
    return jac
  return jax.jit(jax.vmap(one, in_axes=(None, 0)))


def decoder_jacobian(model, params, z: jax.typing.ArrayLike, *,
                     recon: str = 'bernoulli') -> np.ndarray:
  """Decoder Jacobians at latent points (jax.jacfwd, vmapped).

  Args:
    model: a ``networks.VAE``.
    params: its parameters (one seed).
    z: float (N, D) latent points, typically posterior means.
    recon: ``'bernoulli'`` (Fisher-weighted logit Jacobian) or ``'l2'``.

  Returns:
    float32 numpy (N, P, D).
  """
  if recon not in ('bernoulli', 'l2'):
    raise ValueError(f"recon must be 'bernoulli' or 'l2', got {recon!r}")
  return np.asarray(_decoder_jacobian_fn(model, recon)(params, jnp.asarray(z)))


def posterior_stats(model, params, images) -> dict[str, np.ndarray]:
  """Per-latent posterior statistics over a batch of images.

  Returns:
    dict with ``mu`` (N, D), ``variance`` (D,) mean posterior variance,
    ``kl`` (D,) mean KL to the prior in nats, ``active`` (D,) bool.
  """
  mu, logvar = _encode_fn(model)(params, jnp.asarray(images, jnp.float32))
  mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
  var = np.exp(logvar)
  kl = 0.5 * (mu ** 2 + var - logvar - 1.0).mean(0)
  variance = var.mean(0)
  return dict(mu=mu, variance=variance, kl=kl,
              active=variance < ACTIVE_VARIANCE)


def delta_kl(kl_per_latent: np.ndarray, active: np.ndarray) -> float:
  """|KL - KL_active| / KL (0 when the KL is 0)."""
  total = float(np.sum(kl_per_latent))
  if total <= 0:
    return 0.0
  return abs(total - float(np.sum(kl_per_latent[active]))) / total


def decoder_dto(model, params, z, *, latents: Iterable[int] | None = None,
                recon: str = 'bernoulli') -> np.ndarray:
  """DtO of the decoder Jacobian columns ``latents`` at points z: (N,).

  With fewer than two selected latents the columns are trivially orthogonal
  and the DtO is 0.
  """
  jac = decoder_jacobian(model, params, z, recon=recon)
  cols = np.arange(jac.shape[-1]) if latents is None else np.asarray(
      list(latents), np.int64)
  if cols.size < 2:
    return np.zeros(len(jac))
  return alignment.batch_alignment_scores(jac[..., cols])['dto']


def _single_summary(model, params, images, recon, variational=True):
  stats = posterior_stats(model, params, images)
  active = stats['active']
  n = min(len(images), MAX_JACOBIAN_POINTS)
  scored = active if variational else np.ones_like(active)
  dto = decoder_dto(model, params, stats['mu'][:n],
                    latents=np.flatnonzero(scored), recon=recon)
  if not variational:
    return {'decoder_dto_median': float(np.median(dto)),
            'decoder_dto_mean': float(np.mean(dto))}
  dkl = delta_kl(stats['kl'], active)
  passive = ~active
  return {
      'active_latents': float(active.sum()),
      'kl': float(stats['kl'].sum()),
      'delta_kl': dkl,
      'polarized': float(dkl <= POLARIZED_DELTA_KL),
      'decoder_dto_median': float(np.median(dto)),
      'decoder_dto_mean': float(np.mean(dto)),
      'posterior_variance_active': float(
          stats['variance'][active].mean()) if active.any() else 1.0,
      'posterior_variance_passive': float(
          stats['variance'][passive].mean()) if passive.any() else 0.0,
  }


def _has_seed_axis(model, params, images) -> bool:
  shapes = jax.eval_shape(
      lambda x: model.init(jax.random.key(0), x)['params'],
      jax.ShapeDtypeStruct((1, *images.shape[1:]), jnp.float32))
  leaf, ref = jax.tree.leaves(params)[0], jax.tree.leaves(shapes)[0]
  return jnp.ndim(leaf) == len(ref.shape) + 1


def model_summary(model, params, images, key=None, *,
                  recon: str = 'bernoulli',
                  variational: bool = True) -> dict[str, float]:
  """Scalars describing a trained (beta-)VAE, logged at eval points.

  Args:
    model: a ``networks.VAE``.
    params: its parameters; a leading seed axis is allowed (then every value
      is the mean over seeds, and ``polarized`` the fraction of seeds).
    images: float (N, *obs) evaluation images; the decoder Jacobian uses the
      first ``MAX_JACOBIAN_POINTS``.
    key: unused (the summary is deterministic); kept for the train-loop
      interface.
    recon: reconstruction likelihood, selects the Jacobian metric.
    variational: False for models without a trained posterior variance (AE,
      PCL; ``Objective.variational``): only the decoder DtO is returned,
      over all latents.

  Returns:
    dict of floats: ``active_latents``, ``kl`` (nats), ``delta_kl``,
    ``polarized`` (1.0 if Delta_KL <= 0.03), ``decoder_dto_median``,
    ``decoder_dto_mean`` (over points, active latents only),
    ``posterior_variance_active`` / ``_passive`` (mean sigma^2); with
    ``variational=False`` only the two ``decoder_dto_*`` (all latents).
  """
  del key
  images = np.asarray(images, np.float32)
  if not _has_seed_axis(model, params, images):
    return _single_summary(model, params, images, recon, variational)
  num_seeds = jax.tree.leaves(params)[0].shape[0]
  per_seed = [
      _single_summary(model, jax.tree.map(lambda a, i=i: a[i], params),
                      images, recon, variational) for i in range(num_seeds)]
  return {k: float(np.mean([s[k] for s in per_seed])) for k in per_seed[0]}


def polarized_fraction(records: Iterable[dict],
                       key: str = 'eval/polarized') -> float:
  """Fraction of logged eval points in the polarized regime (NaN if none)."""
  values = [float(r[key]) for r in records if key in r]
  return float(np.mean(values)) if values else float('nan')
