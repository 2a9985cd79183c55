"""Training objectives: one pure function per method.

Every objective has the signature
``fn(params, batch, key, *, step, model, recon, recon_weight, **hparams)
-> (loss, aux)``:
- ``batch['image']`` is (B, *obs) in [0, 1]; pair methods also get
  ``batch['image2']`` (the second element of each pair);
- ``step`` is the (possibly traced) integer training step;
- ``model`` is a ``networks.VAE`` (static), ``recon`` a key of
  ``losses.RECONSTRUCTION`` (static), ``recon_weight`` a positive float
  multiplying the reconstruction term in the loss (``model.recon_weight``:
  with the L2 reconstruction, weight c is a Gaussian decoder of variance
  sigma^2 = 1 / (2 c) up to a constant, so the KL weights keep their usual
  meaning on data whose natural noise scale is not sigma^2 = 1/2;
  disentanglement_lib's losses are c = 1);
- ``loss`` is a float32 scalar, the batch mean of the per-example loss
  (reconstruction summed over pixels, mean over batch);
- ``aux`` is a flat dict of float32 scalars with at least ``loss``, ``recon``
  (unweighted) and ``kl``, plus method terms (``tc``, ``kl_transition``
  ...); per-latent arrays (D,) go under keys ending in ``_per_latent``. The
  keys depend only on the method, so train and eval logs line up.

The regularisers follow disentanglement_lib's ``methods/unsupervised/vae.py``
(one ELBO skeleton, a method-specific regulariser) unless stated otherwise.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp

from disent_bias.models import losses
from disent_bias.models import networks


@dataclasses.dataclass(frozen=True)
class Objective:
  """A registered method.

  Attributes:
    loss_fn: ``loss_fn(params, batch, key, *, step, model, recon,
      recon_weight, **hparams) -> (loss, aux)`` (see the module docstring). Methods with extra
      trainable parameters also take ``extra=``; FactorVAE also takes
      ``disc_params=``.
    pairs: None for single images, ``'temporal'`` for Laplace-transition pairs
      (SlowVAE, PCL; sampled with the hparam ``rate``), ``'shared'`` for
      pairs sharing all but ``k`` factors (Ada-GVAE; hparam ``k``, where
      None means k uniform in [1, K-1]). ``PAIR_OPTIONS[pairs]`` turns the
      objective's ``pair_hparams`` into the pair sampler's options. The loss
      takes the ``loss_hparams``; SlowVAE's ``rate`` goes to both.
    hparams: names of the method's hyperparameters (config keys); their
      defaults are the keyword defaults of ``loss_fn`` and of the pair
      options function (``default_hparams``).
    init_extra: None, or ``init_extra(key, num_latents) -> pytree`` of extra
      trainable parameters, optimised with the main optimiser together with
      the network parameters and passed to ``loss_fn`` as ``extra=``.
    disc_init: None, or ``disc_init(key, num_latents, *, hidden, num_layers)
      -> disc_params`` (sizes: ``model.disc_hidden``, ``model.disc_layers``)
      for a discriminator trained by its own optimiser (FactorVAE: Adam 1e-4,
      b1 0.5, b2 0.9; ``DISC_OPTIMIZER``) in the same train step.
    disc_loss_fn: None, or ``disc_loss_fn(disc_params, params, batch, key, *,
      model) -> (loss, aux)``, to be differentiated w.r.t. ``disc_params``
      only. Given the same ``key`` as ``loss_fn`` it sees the same z.
    variational: False for methods without a trained posterior variance (AE,
      PCL): their ``logvar`` head is not used, so "active latents" and the
      polarized regime do not apply, and analyses score every latent.
  """
  loss_fn: Callable[..., tuple[jax.Array, dict[str, jax.Array]]]
  pairs: str | None = None
  hparams: tuple[str, ...] = ()
  init_extra: Callable[[jax.Array, int], Any] | None = None
  disc_init: Callable[[jax.Array, int], Any] | None = None
  disc_loss_fn: Callable[..., tuple[jax.Array, dict[str, jax.Array]]] | None = None
  variational: bool = True

  @property
  def has_disc(self) -> bool:
    """Whether a discriminator trains with its own optimiser (FactorVAE)."""
    return self.disc_init is not None

  @property
  def has_extra(self) -> bool:
    """Whether the objective has extra trainable parameters (PCL)."""
    return self.init_extra is not None

  @property
  def loss_hparams(self) -> tuple[str, ...]:
    """The hyperparameters ``loss_fn`` takes (a subset of ``hparams``)."""
    accepted = inspect.signature(self.loss_fn).parameters
    return tuple(h for h in self.hparams if h in accepted)

  @property
  def pair_hparams(self) -> tuple[str, ...]:
    """The hyperparameters the pair sampler takes: those of ``hparams`` that
    are keyword parameters of ``PAIR_OPTIONS[pairs]``."""
    if self.pairs is None:
      return ()
    accepted = inspect.signature(PAIR_OPTIONS[self.pairs]).parameters
    return tuple(h for h in self.hparams if h in accepted)

  def split_hparams(self, hparams: Mapping[str, Any]
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Resolved hyperparameters -> (loss keywords, pair sampler options).

    ``hparams`` holds a value for every name in ``self.hparams``; the pair
    options are ``{}`` for single-image objectives.
    """
    loss = {h: hparams[h] for h in self.loss_hparams}
    if self.pairs is None:
      return loss, {}
    options = PAIR_OPTIONS[self.pairs](
        **{h: hparams[h] for h in self.pair_hparams})
    return loss, options


# Adam settings of the FactorVAE discriminator (Kim & Mnih, 2018).
DISC_OPTIMIZER = {'learning_rate': 1e-4, 'b1': 0.5, 'b2': 0.9}


def temporal_pair_options(*, rate: float = 6.0) -> dict[str, Any]:
  """Options of ``samplers.laplace_transition_pairs``: ``{'rate'}``."""
  return {'rate': float(rate)}


def shared_pair_options(*, k: int | None = None) -> dict[str, Any]:
  """Options of ``samplers.shared_factor_pairs``: ``{'k'}`` (k < 1: None,
  a k drawn per pair)."""
  return {'k': None if k is None or k < 1 else int(k)}


# Pair kind -> its options function (keyword defaults: the hparam defaults).
PAIR_OPTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    'temporal': temporal_pair_options,
    'shared': shared_pair_options,
}


def _encode(params, x, model):
  return model.apply({'params': params}, x, method='encode')


def _decode(params, z, model):
  return model.apply({'params': params}, z, method='decode')


def _recon(recon, logits, x):
  if recon not in losses.RECONSTRUCTION:
    raise ValueError(f'unknown reconstruction {recon!r}; valid: '
                     f'{", ".join(sorted(losses.RECONSTRUCTION))}')
  return losses.RECONSTRUCTION[recon](logits, x).mean()


def _vae_terms(params, x, key, model, recon):
  """Encode, sample, decode: (mu, logvar, z, recon scalar, KL per latent (D,))."""
  mu, logvar = _encode(params, x, model)
  z = losses.reparameterize(key, mu, logvar)
  rec = _recon(recon, _decode(params, z, model), x)
  kl_pl = losses.gaussian_kl_per_latent(mu, logvar).mean(0)
  return mu, logvar, z, rec, kl_pl


def _aux(loss, rec, kl_pl, **terms):
  out = {'loss': loss, 'recon': rec, 'kl': kl_pl.sum(), 'kl_per_latent': kl_pl}
  out.update({k: jnp.asarray(v, jnp.float32) for k, v in terms.items()})
  return out


def ae(params, batch, key, *, step, model, recon='bernoulli',
       recon_weight=1.0):
  """Deterministic autoencoder: z = mu, loss = recon_weight * recon.

  ``kl`` and ``kl_per_latent`` are reported as zeros (the log-variance head
  is unused).
  """
  del key, step
  x = batch['image']
  mu, _ = _encode(params, x, model)
  rec = _recon(recon, _decode(params, mu, model), x)
  loss = recon_weight * rec
  return loss, _aux(loss, rec, jnp.zeros(mu.shape[-1], jnp.float32))


def beta_vae(params, batch, key, *, step, model, recon='bernoulli',
             recon_weight=1.0, beta=1.0):
  """beta-VAE: recon + beta * KL.

  References: Higgins et al., beta-VAE, ICLR 2017, eq. (4).
  """
  del step
  _, _, _, rec, kl_pl = _vae_terms(params, batch['image'], key, model, recon)
  loss = recon_weight * rec + beta * kl_pl.sum()
  return loss, _aux(loss, rec, kl_pl)


def annealed_vae(params, batch, key, *, step, model, recon='bernoulli',
                 recon_weight=1.0, gamma=1000.0, c_max=25.0,
                 iteration_threshold=100_000):
  """AnnealedVAE: recon + gamma * |KL - C|, C = min(c_max, c_max * step / T).

  References: Burgess et al., Understanding disentangling in beta-VAE, 2018,
  eq. (8).
  """
  _, _, _, rec, kl_pl = _vae_terms(params, batch['image'], key, model, recon)
  kl = kl_pl.sum()
  capacity = jnp.minimum(
      c_max, c_max * jnp.asarray(step, jnp.float32) / iteration_threshold)
  loss = recon_weight * rec + gamma * jnp.abs(kl - capacity)
  return loss, _aux(loss, rec, kl_pl, capacity=capacity)


def beta_tcvae(params, batch, key, *, step, model, recon='bernoulli',
               recon_weight=1.0, beta=6.0):
  """beta-TCVAE: recon + KL + (beta - 1) * TC (minibatch-weighted estimator).

  References: Chen et al., NeurIPS 2018, eq. (4); ``losses.total_correlation``.
  """
  del step
  mu, logvar, z, rec, kl_pl = _vae_terms(params, batch['image'], key, model,
                                         recon)
  tc = losses.total_correlation(z, mu, logvar).mean()
  loss = recon_weight * rec + kl_pl.sum() + (beta - 1.0) * tc
  return loss, _aux(loss, rec, kl_pl, tc=tc)


def _dip(kind):
  def dip_vae(params, batch, key, *, step, model, recon='bernoulli',
              recon_weight=1.0, lambda_od=10.0, lambda_d=None):
    del step
    mu, logvar, _, rec, kl_pl = _vae_terms(params, batch['image'], key, model,
                                           recon)
    if lambda_d is None:  # disentanglement_lib: lambda_d = d_factor * lambda_od
      lambda_d = (10.0 if kind == 'i' else 1.0) * lambda_od
    cov = losses.dip_covariance(mu, logvar, kind)
    dip = losses.dip_regularizer(cov, lambda_od=lambda_od, lambda_d=lambda_d)
    loss = recon_weight * rec + kl_pl.sum() + dip
    return loss, _aux(loss, rec, kl_pl, dip=dip)
  return dip_vae


dip_vae_i = _dip('i')
dip_vae_i.__name__ = dip_vae_i.__qualname__ = 'dip_vae_i'
dip_vae_i.__doc__ = """DIP-VAE-I: recon + KL + DIP regulariser on Cov[mu].

``lambda_d`` defaults to 10 * lambda_od (disentanglement_lib's d_factor).
References: Kumar et al., ICLR 2018, eq. (6).
"""
dip_vae_ii = _dip('ii')
dip_vae_ii.__name__ = dip_vae_ii.__qualname__ = 'dip_vae_ii'
dip_vae_ii.__doc__ = """DIP-VAE-II: recon + KL + DIP regulariser on Cov[z].

Cov[z] = Cov[mu] + mean diag(exp(logvar)); ``lambda_d`` defaults to
lambda_od. References: Kumar et al., ICLR 2018, eq. (8).
"""


# FactorVAE.


def disc_init(key: jax.Array, num_latents: int, *, hidden: int = 1000,
              num_layers: int = 6):
  """FactorVAE discriminator parameters for D = num_latents.

  ``num_layers`` leaky-ReLU Dense(``hidden``) layers and Dense(2)
  (``networks.Discriminator``; 6 x 1000 is Kim & Mnih's and
  disentanglement_lib's). The parameters determine the architecture.
  """
  return networks.Discriminator(hidden=hidden, num_layers=num_layers).init(
      key, jnp.zeros((1, num_latents), jnp.float32))['params']


def _disc_logits(disc_params, z, model):
  """Discriminator logits (float32), in the VAE's compute type."""
  hidden = disc_params['Dense_0']['kernel'].shape[-1]
  module = networks.Discriminator(hidden=hidden,
                                  num_layers=len(disc_params) - 1,
                                  dtype=model.dtype)
  return module.apply({'params': disc_params}, z)


def factor_vae(params, batch, key, *, step, model, recon='bernoulli',
               recon_weight=1.0, gamma=10.0, disc_params):
  """FactorVAE: recon + KL + gamma * E[logit_0(z) - logit_1(z)].

  Gradients flow through the discriminator into the encoder; only ``params``
  are updated by the caller. ``key`` is split as in ``factor_vae_disc_loss``.

  References: Kim & Mnih, Disentangling by Factorising, ICML 2018, eq. (2)-(3).
  """
  del step
  z_key, _ = jax.random.split(key)
  _, _, z, rec, kl_pl = _vae_terms(params, batch['image'], z_key, model, recon)
  tc = losses.factor_vae_tc(_disc_logits(disc_params, z, model)).mean()
  loss = recon_weight * rec + kl_pl.sum() + gamma * tc
  return loss, _aux(loss, rec, kl_pl, tc=tc)


def factor_vae_disc_loss(disc_params, params, batch, key, *, model):
  """Discriminator loss: cross-entropy of z (class 0) vs permuted z (class 1).

  z is sampled as in ``factor_vae`` with the same ``key`` and is treated as a
  constant. Returns ``(loss, {'disc': loss, 'disc_accuracy': ...})``.
  """
  z_key, perm_key = jax.random.split(key)
  mu, logvar = _encode(params, batch['image'], model)
  z = jax.lax.stop_gradient(losses.reparameterize(z_key, mu, logvar))
  z_perm = losses.permute_dims(perm_key, z)
  logp = jax.nn.log_softmax(_disc_logits(disc_params, z, model), -1)
  logp_perm = jax.nn.log_softmax(_disc_logits(disc_params, z_perm, model),
                                 -1)
  loss = -0.5 * (logp[:, 0].mean() + logp_perm[:, 1].mean())
  accuracy = 0.5 * ((logp[:, 0] > logp[:, 1]).mean() +
                    (logp_perm[:, 1] > logp_perm[:, 0]).mean())
  return loss, {'disc': loss, 'disc_accuracy': accuracy.astype(jnp.float32)}


# Pair methods.


def slow_vae(params, batch, key, *, step, model, recon='bernoulli',
             recon_weight=1.0, beta=1.0, gamma=10.0, rate=6.0):
  """SlowVAE on temporal pairs (x_t, x_{t+1}).

  loss = recon_t + recon_{t+1} + beta * KL(q(z_t|x_t) || N(0, I))
         + gamma * KL(q(z_{t+1}|x_{t+1}) || p(z_{t+1}|z_t)),
  p a factorised Laplace with the given rate centred on z_t; the second KL
  is estimated with the reparameterised samples (``slow_transition_kl``).
  ``rate`` also drives the pair sampler.

  References: Klindt et al., ICLR 2021, eq. (5).
  """
  del step
  k1, k2 = jax.random.split(key)
  _, _, z1, rec1, kl_pl = _vae_terms(params, batch['image'], k1, model, recon)
  x2 = batch['image2']
  mu2, logvar2 = _encode(params, x2, model)
  z2 = losses.reparameterize(k2, mu2, logvar2)
  rec2 = _recon(recon, _decode(params, z2, model), x2)
  kl_trans = losses.slow_transition_kl(z2, logvar2, z1, rate).sum(-1).mean()
  rec = rec1 + rec2
  loss = recon_weight * rec + beta * kl_pl.sum() + gamma * kl_trans
  return loss, _aux(loss, rec, kl_pl, kl_transition=kl_trans)


def pcl_init(key: jax.Array, num_latents: int):
  """PCL's psi parameters: a = softplus(a_raw) = 1, b = 0, c = 0."""
  del key
  return {'a_raw': jnp.full((num_latents,), jnp.log(jnp.expm1(1.0)),
                            jnp.float32),
          'b': jnp.zeros((num_latents,), jnp.float32),
          'c': jnp.zeros((), jnp.float32)}


def pcl(params, batch, key, *, step, model, recon='bernoulli',
        recon_weight=1.0, extra):
  """Permutation-contrastive learning (non-variational).

  h = encoder mean head. Logistic regression of real pairs (x_t, x_{t+1})
  (label 1) against pairs whose second element is the next example's x_{t+1}
  in the batch (``roll`` by one; label 0), with ``losses.pcl_logit``.
  The decoder is unused: ``recon``, ``kl`` and ``kl_per_latent`` are zeros.
  Its hyperparameter ``rate`` only drives the pair sampler.

  References: Hyvarinen & Morioka, AISTATS 2017, Section 3.
  """
  del key, step, recon, recon_weight
  h1, _ = _encode(params, batch['image'], model)
  h2, _ = _encode(params, batch['image2'], model)
  real = losses.pcl_logit(h1, h2, extra)
  fake = losses.pcl_logit(h1, jnp.roll(h2, 1, axis=0), extra)
  loss = 0.5 * (losses.logistic_loss(real, jnp.ones_like(real)).mean() +
                losses.logistic_loss(fake, jnp.zeros_like(fake)).mean())
  accuracy = 0.5 * ((real > 0).mean() + (fake < 0).mean())
  zero = jnp.zeros((), jnp.float32)
  return loss, _aux(loss, zero, jnp.zeros(h1.shape[-1], jnp.float32),
                    pcl_accuracy=accuracy)


def ada_gvae(params, batch, key, *, step, model, recon='bernoulli',
             recon_weight=1.0, beta=1.0):
  """Ada-GVAE on pairs sharing all but k factors (labels not used).

  Latents whose KL(q1 || q2) is below (max + min) / 2 (all of them when the
  KLs are all equal) get the averaged posterior in both elements
  (``losses.ada_gvae_posteriors``). loss =
  recon_1 + recon_2 + beta * (KL_1 + KL_2) of the (averaged) posteriors.
  disentanglement_lib averages the two halves instead of summing them (a
  factor 2 on the whole loss; same optimum). Its hyperparameter ``k`` only
  drives the pair sampler.

  References: Locatello et al., ICML 2020, Section 4.
  """
  del step
  x1, x2 = batch['image'], batch['image2']
  mu1, logvar1 = _encode(params, x1, model)
  mu2, logvar2 = _encode(params, x2, model)
  mu1, logvar1, mu2, logvar2, mask = losses.ada_gvae_posteriors(
      mu1, logvar1, mu2, logvar2)
  k1, k2 = jax.random.split(key)
  z1 = losses.reparameterize(k1, mu1, logvar1)
  z2 = losses.reparameterize(k2, mu2, logvar2)
  rec = (_recon(recon, _decode(params, z1, model), x1) +
         _recon(recon, _decode(params, z2, model), x2))
  kl_pl = (losses.gaussian_kl_per_latent(mu1, logvar1) +
           losses.gaussian_kl_per_latent(mu2, logvar2)).mean(0)
  loss = recon_weight * rec + beta * kl_pl.sum()
  return loss, _aux(loss, rec, kl_pl,
                    num_shared=mask.sum(-1).astype(jnp.float32).mean())


OBJECTIVES: dict[str, Objective] = {
    'ae': Objective(ae, variational=False),
    'beta_vae': Objective(beta_vae, hparams=('beta',)),
    'annealed_vae': Objective(
        annealed_vae, hparams=('gamma', 'c_max', 'iteration_threshold')),
    'beta_tcvae': Objective(beta_tcvae, hparams=('beta',)),
    'factor_vae': Objective(
        factor_vae, hparams=('gamma',), disc_init=disc_init,
        disc_loss_fn=factor_vae_disc_loss),
    'dip_vae_i': Objective(dip_vae_i, hparams=('lambda_od', 'lambda_d')),
    'dip_vae_ii': Objective(dip_vae_ii, hparams=('lambda_od', 'lambda_d')),
    'slow_vae': Objective(slow_vae, pairs='temporal',
                          hparams=('beta', 'gamma', 'rate')),
    'pcl': Objective(pcl, pairs='temporal', hparams=('rate',),
                     init_extra=pcl_init, variational=False),
    'ada_gvae': Objective(ada_gvae, pairs='shared', hparams=('beta', 'k')),
}


def get(name: str) -> Objective:
  """Looks an objective up by name; unknown names list the valid ones."""
  if name not in OBJECTIVES:
    raise ValueError(
        f'unknown model {name!r}; valid: {", ".join(sorted(OBJECTIVES))}')
  return OBJECTIVES[name]
