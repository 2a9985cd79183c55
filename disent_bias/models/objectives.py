"""Training objectives: one self-contained piece per method.

Each method is, in this file only: a frozen hyperparameter dataclass (its
field defaults are the defaults a run gets when neither the config nor
``config.model.presets`` sets a value; ``configs/default.py`` puts them in
the ``'*'`` rows of its table), a pure loss function, optionally functions
that initialise and update its own state, and one ``Objective`` entry in
``OBJECTIVES`` (``objective_base.Objective`` documents every field and the
loss signature ``loss(params, state, batch, key, *, step, hparams, ctx)``).

The regularisers follow disentanglement_lib's ``methods/unsupervised/vae.py``
(one ELBO skeleton, a method-specific regulariser) unless stated otherwise.

Adding a method touches this file and ``tests/models/objectives_test.py``
(the recipe: ``docs/architecture.md``, "A model"); the every-objective
tests then train it through the public paths.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import optax

from disent_bias.models import losses
from disent_bias.models import networks
from disent_bias.models import objective_base as base

Batch = Mapping[str, jax.Array]

# Sources of the defaults:
#   [L19] disentanglement_lib unsupervised_study_v1 sweep (Locatello et al.,
#         ICML 2019): the middle of each method's sweep range.
#   [Z21] Zietlow et al., ICML 2021, as transcribed by a secondary source.
#   [K21] Klindt et al., ICLR 2021 (SlowVAE) author defaults.
#   [L20] Locatello et al., ICML 2020 (weakly supervised, Ada-GVAE): k = 1
#         variant; beta = 1 as the smallest value of their sweep.


@dataclasses.dataclass(frozen=True)
class AEHparams:
  """The autoencoder has no hyperparameters."""


def ae(params: Any, state: base.ObjectiveState, batch: Batch,
       key: jax.Array, *, step: jax.Array, hparams: AEHparams,
       ctx: base.Context) -> base.LossOutput:
  """Deterministic autoencoder: z = mu, loss = recon_weight * recon.

  ``kl`` and ``kl_per_latent`` are reported as zeros (the log-variance head
  is unused).
  """
  del state, key, step, hparams
  x = batch['image']
  mu, _ = base.encode(params, x, ctx.model)
  rec = base.recon_loss(ctx.recon, base.decode(params, mu, ctx.model), x)
  loss = ctx.recon_weight * rec
  return loss, base.aux_terms(loss, rec, jnp.zeros(mu.shape[-1], jnp.float32))


@dataclasses.dataclass(frozen=True)
class BetaVAEHparams:
  """beta-VAE's hyperparameters.

  Attributes:
    beta: the KL weight ([L19] sweep 1..16, middle 4).
  """
  beta: float = 4.0


def beta_vae(params: Any, state: base.ObjectiveState, batch: Batch,
             key: jax.Array, *, step: jax.Array, hparams: BetaVAEHparams,
             ctx: base.Context) -> base.LossOutput:
  """beta-VAE: recon + beta * KL.

  References: Higgins et al., beta-VAE, ICLR 2017, eq. (4).
  """
  del state, step
  _, _, _, rec, kl_pl = base.vae_terms(params, batch['image'], key, ctx)
  loss = ctx.recon_weight * rec + hparams.beta * kl_pl.sum()
  return loss, base.aux_terms(loss, rec, kl_pl)


@dataclasses.dataclass(frozen=True)
class AnnealedVAEHparams:
  """AnnealedVAE's hyperparameters ([L19]).

  Attributes:
    gamma: the weight of |KL - C| (1000).
    c_max: the capacity C at the end of the ramp (sweep 5..100, middle 25).
    iteration_threshold: the ramp's length in steps (100k).
  """
  gamma: float = 1000.0
  c_max: float = 25.0
  iteration_threshold: int = 100_000


def annealed_vae(params: Any, state: base.ObjectiveState, batch: Batch,
                 key: jax.Array, *, step: jax.Array,
                 hparams: AnnealedVAEHparams,
                 ctx: base.Context) -> base.LossOutput:
  """AnnealedVAE: recon + gamma * |KL - C|, C = min(c_max, c_max * step / T).

  References: Burgess et al., Understanding disentangling in beta-VAE, 2018,
  eq. (8).
  """
  del state
  _, _, _, rec, kl_pl = base.vae_terms(params, batch['image'], key, ctx)
  kl = kl_pl.sum()
  c_max = hparams.c_max
  capacity = jnp.minimum(c_max, c_max * jnp.asarray(step, jnp.float32) /
                         hparams.iteration_threshold)
  loss = ctx.recon_weight * rec + hparams.gamma * jnp.abs(kl - capacity)
  return loss, base.aux_terms(loss, rec, kl_pl, capacity=capacity)


@dataclasses.dataclass(frozen=True)
class BetaTCVAEHparams:
  """beta-TCVAE's hyperparameters.

  Attributes:
    beta: the total correlation's weight ([Z21] 6; [L19] sweep 1..10).
  """
  beta: float = 6.0


def beta_tcvae(params: Any, state: base.ObjectiveState, batch: Batch,
               key: jax.Array, *, step: jax.Array, hparams: BetaTCVAEHparams,
               ctx: base.Context) -> base.LossOutput:
  """beta-TCVAE: recon + KL + (beta - 1) * TC (minibatch-weighted estimator).

  References: Chen et al., NeurIPS 2018, eq. (4); ``losses.total_correlation``.
  """
  del state, step
  mu, logvar, z, rec, kl_pl = base.vae_terms(params, batch['image'], key, ctx)
  tc = losses.total_correlation(z, mu, logvar).mean()
  loss = ctx.recon_weight * rec + kl_pl.sum() + (hparams.beta - 1.0) * tc
  return loss, base.aux_terms(loss, rec, kl_pl, tc=tc)


@dataclasses.dataclass(frozen=True)
class DipVAEIHparams:
  """DIP-VAE-I's hyperparameters ([L19]).

  Attributes:
    lambda_od: the off-diagonal weight (sweep 1..50, middle 10).
    lambda_d: the diagonal weight, d_factor 10 x lambda_od; None: the same.
  """
  lambda_od: float = 10.0
  lambda_d: float | None = 100.0


@dataclasses.dataclass(frozen=True)
class DipVAEIIHparams(DipVAEIHparams):
  """DIP-VAE-II's: as DIP-VAE-I's but lambda_d = d_factor 1 x lambda_od."""
  lambda_d: float | None = 10.0


def _dip(kind: str):
  """The DIP-VAE loss of ``kind`` 'i' (Cov[mu]) or 'ii' (Cov[z])."""
  def dip_vae(params, state, batch, key, *, step, hparams, ctx):
    del state, step
    mu, logvar, _, rec, kl_pl = base.vae_terms(params, batch['image'], key, ctx)
    lambda_od, lambda_d = hparams.lambda_od, hparams.lambda_d
    if lambda_d is None:  # disentanglement_lib: lambda_d = d_factor * lambda_od
      lambda_d = (10.0 if kind == 'i' else 1.0) * lambda_od
    cov = losses.dip_covariance(mu, logvar, kind)
    dip = losses.dip_regularizer(cov, lambda_od=lambda_od, lambda_d=lambda_d)
    loss = ctx.recon_weight * rec + kl_pl.sum() + dip
    return loss, base.aux_terms(loss, rec, kl_pl, dip=dip)
  return dip_vae


dip_vae_i = _dip('i')
dip_vae_i.__name__ = dip_vae_i.__qualname__ = 'dip_vae_i'
dip_vae_i.__doc__ = """DIP-VAE-I: recon + KL + DIP regulariser on Cov[mu].

References: Kumar et al., ICLR 2018, eq. (6).
"""
dip_vae_ii = _dip('ii')
dip_vae_ii.__name__ = dip_vae_ii.__qualname__ = 'dip_vae_ii'
dip_vae_ii.__doc__ = """DIP-VAE-II: recon + KL + DIP regulariser on Cov[z].

Cov[z] = Cov[mu] + mean diag(exp(logvar)). References: Kumar et al., ICLR
2018, eq. (8).
"""


# FactorVAE.


@dataclasses.dataclass(frozen=True)
class FactorVAEHparams:
  """FactorVAE's hyperparameters.

  Attributes:
    gamma: the TC estimate's weight ([Z21] 35; [L19] sweep 10..100).
  """
  gamma: float = 35.0


# Adam settings of the FactorVAE discriminator (Kim & Mnih, 2018).
DISC_OPTIMIZER = {'learning_rate': 1e-4, 'b1': 0.5, 'b2': 0.9}
_DISC_TX = optax.adam(**DISC_OPTIMIZER)


def factor_vae_init(key: jax.Array, ctx: base.Context) -> dict[str, Any]:
  """``{'disc_params', 'disc_opt_state'}``: the discriminator of
  ``model_config.disc_hidden`` x ``disc_layers`` and its Adam state."""
  disc_params = networks.discriminator_init(
      key, ctx.model.num_latents, hidden=ctx.model_config['disc_hidden'],
      num_layers=ctx.model_config['disc_layers'])
  return {'disc_params': disc_params,
          'disc_opt_state': _DISC_TX.init(disc_params)}


def factor_vae(params: Any, state: base.ObjectiveState, batch: Batch,
               key: jax.Array, *, step: jax.Array, hparams: FactorVAEHparams,
               ctx: base.Context) -> base.LossOutput:
  """FactorVAE: recon + KL + gamma * E[logit_0(z) - logit_1(z)].

  Gradients flow through the discriminator (``state.own['disc_params']``)
  into the encoder; only ``params`` are trained by the main optimiser.
  ``key`` is split as in ``factor_vae_disc_loss``.

  References: Kim & Mnih, Disentangling by Factorising, ICML 2018, eq. (2)-(3).
  """
  del step
  z_key, _ = jax.random.split(key)
  _, _, z, rec, kl_pl = base.vae_terms(params, batch['image'], z_key, ctx)
  logits = networks.discriminator_logits(state.own['disc_params'], z,
                                          ctx.model.dtype)
  tc = losses.factor_vae_tc(logits).mean()
  loss = ctx.recon_weight * rec + kl_pl.sum() + hparams.gamma * tc
  return loss, base.aux_terms(loss, rec, kl_pl, tc=tc)


def factor_vae_disc_loss(disc_params: Any, params: Any, batch: Batch,
                         key: jax.Array, *, model: networks.VAE
                         ) -> base.LossOutput:
  """Discriminator loss: cross-entropy of z (class 0) vs permuted z (class 1).

  z is sampled as in ``factor_vae`` with the same ``key`` and is treated as a
  constant. Returns ``(loss, {'disc': loss, 'disc_accuracy': ...})``.
  """
  z_key, perm_key = jax.random.split(key)
  mu, logvar = base.encode(params, batch['image'], model)
  z = jax.lax.stop_gradient(losses.reparameterize(z_key, mu, logvar))
  z_perm = losses.permute_dims(perm_key, z)
  logp = jax.nn.log_softmax(
      networks.discriminator_logits(disc_params, z, model.dtype), -1)
  logp_perm = jax.nn.log_softmax(
      networks.discriminator_logits(disc_params, z_perm, model.dtype), -1)
  loss = -0.5 * (logp[:, 0].mean() + logp_perm[:, 1].mean())
  accuracy = 0.5 * ((logp[:, 0] > logp[:, 1]).mean() +
                    (logp_perm[:, 1] > logp_perm[:, 0]).mean())
  return loss, {'disc': loss, 'disc_accuracy': accuracy.astype(jnp.float32)}


def factor_vae_update(own: dict[str, Any], params: Any, batch: Batch,
                      key: jax.Array, *, hparams: FactorVAEHparams,
                      ctx: base.Context
                      ) -> tuple[dict[str, Any], dict[str, jax.Array]]:
  """One Adam step of the discriminator on the step's pre-update ``params``;
  metrics ``disc`` and ``disc_accuracy``."""
  del hparams
  disc_params = own['disc_params']
  (_, metrics), grads = jax.value_and_grad(
      factor_vae_disc_loss, has_aux=True)(disc_params, params, batch, key,
                                          model=ctx.model)
  updates, opt_state = _DISC_TX.update(grads, own['disc_opt_state'],
                                       disc_params)
  return ({'disc_params': optax.apply_updates(disc_params, updates),
           'disc_opt_state': opt_state}, metrics)


# Pair methods.


@dataclasses.dataclass(frozen=True)
class SlowVAEHparams:
  """SlowVAE's hyperparameters.

  Attributes:
    beta: the KL weight of the first element ([Z21] 1).
    gamma: the transition KL's weight ([K21] 10).
    rate: the Laplace transition's rate, also the pair sampler's ([K21] 6).
  """
  beta: float = 1.0
  gamma: float = 10.0
  rate: float = 6.0


def slow_vae(params: Any, state: base.ObjectiveState, batch: Batch,
             key: jax.Array, *, step: jax.Array, hparams: SlowVAEHparams,
             ctx: base.Context) -> base.LossOutput:
  """SlowVAE on temporal pairs (x_t, x_{t+1}).

  loss = recon_t + recon_{t+1} + beta * KL(q(z_t|x_t) || N(0, I))
         + gamma * KL(q(z_{t+1}|x_{t+1}) || p(z_{t+1}|z_t)),
  p a factorised Laplace with the given rate centred on z_t; the second KL
  is estimated with the reparameterised samples (``slow_transition_kl``).
  ``rate`` also drives the pair sampler.

  References: Klindt et al., ICLR 2021, eq. (5).
  """
  del state, step
  k1, k2 = jax.random.split(key)
  _, _, z1, rec1, kl_pl = base.vae_terms(params, batch['image'], k1, ctx)
  x2 = batch['image2']
  mu2, logvar2 = base.encode(params, x2, ctx.model)
  z2 = losses.reparameterize(k2, mu2, logvar2)
  rec2 = base.recon_loss(ctx.recon, base.decode(params, z2, ctx.model), x2)
  kl_trans = losses.slow_transition_kl(z2, logvar2, z1,
                                       hparams.rate).sum(-1).mean()
  rec = rec1 + rec2
  loss = (ctx.recon_weight * rec + hparams.beta * kl_pl.sum() +
          hparams.gamma * kl_trans)
  return loss, base.aux_terms(loss, rec, kl_pl, kl_transition=kl_trans)


@dataclasses.dataclass(frozen=True)
class PCLHparams:
  """PCL's hyperparameters.

  Attributes:
    rate: the pair sampler's Laplace rate (as SlowVAE's, [K21] 6).
  """
  rate: float = 6.0


def pcl_init(key: jax.Array, ctx: base.Context) -> dict[str, jax.Array]:
  """PCL's psi parameters: a = softplus(a_raw) = 1, b = 0, c = 0 (each (D,)
  but c, a scalar)."""
  del key
  num_latents = ctx.model.num_latents
  return {'a_raw': jnp.full((num_latents,), jnp.log(jnp.expm1(1.0)),
                            jnp.float32),
          'b': jnp.zeros((num_latents,), jnp.float32),
          'c': jnp.zeros((), jnp.float32)}


def pcl(params: Any, state: base.ObjectiveState, batch: Batch,
        key: jax.Array, *, step: jax.Array, hparams: PCLHparams,
        ctx: base.Context) -> base.LossOutput:
  """Permutation-contrastive learning (non-variational).

  h = encoder mean head. Logistic regression of real pairs (x_t, x_{t+1})
  (label 1) against pairs whose second element is the next example's x_{t+1}
  in the batch (``roll`` by one; label 0), with ``losses.pcl_logit`` of the
  psi parameters ``state.trainable``. The decoder is unused: ``recon``,
  ``kl`` and ``kl_per_latent`` are zeros. Its hyperparameter ``rate`` only
  drives the pair sampler.

  References: Hyvarinen & Morioka, AISTATS 2017, Section 3.
  """
  del key, step, hparams
  psi = state.trainable
  h1, _ = base.encode(params, batch['image'], ctx.model)
  h2, _ = base.encode(params, batch['image2'], ctx.model)
  real = losses.pcl_logit(h1, h2, psi)
  fake = losses.pcl_logit(h1, jnp.roll(h2, 1, axis=0), psi)
  loss = 0.5 * (losses.logistic_loss(real, jnp.ones_like(real)).mean() +
                losses.logistic_loss(fake, jnp.zeros_like(fake)).mean())
  accuracy = 0.5 * ((real > 0).mean() + (fake < 0).mean())
  zero = jnp.zeros((), jnp.float32)
  return loss, base.aux_terms(loss, zero, jnp.zeros(h1.shape[-1], jnp.float32),
                         pcl_accuracy=accuracy)


@dataclasses.dataclass(frozen=True)
class AdaGVAEHparams:
  """Ada-GVAE's hyperparameters ([L20]).

  Attributes:
    beta: the KL weight (1).
    k: pairs share all but k factors (1); k < 1 or None: k drawn per pair,
      their k=rnd.
  """
  beta: float = 1.0
  k: int | None = 1


def ada_gvae(params: Any, state: base.ObjectiveState, batch: Batch,
             key: jax.Array, *, step: jax.Array, hparams: AdaGVAEHparams,
             ctx: base.Context) -> base.LossOutput:
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
  del state, step
  x1, x2 = batch['image'], batch['image2']
  mu1, logvar1 = base.encode(params, x1, ctx.model)
  mu2, logvar2 = base.encode(params, x2, ctx.model)
  mu1, logvar1, mu2, logvar2, mask = losses.ada_gvae_posteriors(
      mu1, logvar1, mu2, logvar2)
  k1, k2 = jax.random.split(key)
  z1 = losses.reparameterize(k1, mu1, logvar1)
  z2 = losses.reparameterize(k2, mu2, logvar2)
  rec = (base.recon_loss(ctx.recon, base.decode(params, z1, ctx.model), x1) +
         base.recon_loss(ctx.recon, base.decode(params, z2, ctx.model), x2))
  kl_pl = (losses.gaussian_kl_per_latent(mu1, logvar1) +
           losses.gaussian_kl_per_latent(mu2, logvar2)).mean(0)
  loss = ctx.recon_weight * rec + hparams.beta * kl_pl.sum()
  return loss, base.aux_terms(loss, rec, kl_pl,
                         num_shared=mask.sum(-1).astype(jnp.float32).mean())


OBJECTIVES: dict[str, base.Objective] = {
    'ae': base.Objective(ae, AEHparams, variational=False),
    'beta_vae': base.Objective(beta_vae, BetaVAEHparams),
    'annealed_vae': base.Objective(annealed_vae, AnnealedVAEHparams),
    'beta_tcvae': base.Objective(beta_tcvae, BetaTCVAEHparams),
    'factor_vae': base.Objective(factor_vae, FactorVAEHparams,
                            init_own=factor_vae_init,
                            update=factor_vae_update),
    'dip_vae_i': base.Objective(dip_vae_i, DipVAEIHparams),
    'dip_vae_ii': base.Objective(dip_vae_ii, DipVAEIIHparams),
    'slow_vae': base.Objective(slow_vae, SlowVAEHparams,
                          sample_factors=base.temporal_pairs),
    'pcl': base.Objective(pcl, PCLHparams, sample_factors=base.temporal_pairs,
                     init_trainable=pcl_init, variational=False),
    'ada_gvae': base.Objective(ada_gvae, AdaGVAEHparams,
                          sample_factors=base.shared_pairs),
}


def get(name: str) -> base.Objective:
  """Looks an objective up by name; unknown names list the valid ones."""
  if name not in OBJECTIVES:
    raise ValueError(
        f'unknown model {name!r}; valid: {", ".join(sorted(OBJECTIVES))}')
  return OBJECTIVES[name]


def default_hparams(name: str) -> dict[str, Any]:
  """The defaults of ``name``'s hyperparameters (its dataclass's), by name."""
  return get(name).default_hparams()
