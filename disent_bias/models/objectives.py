"""Training objectives: one pure function per method.

Every objective has the signature
``fn(params, batch, key, *, step, model, recon, **hparams) -> (loss, aux)``:
- ``batch['image']`` is (B, *obs) in [0, 1]; pair methods also get
  ``batch['image2']`` (the second element of each pair);
- ``loss`` is a float32 scalar, the batch mean of the per-example loss
  (reconstruction summed over pixels, mean over batch);
- ``aux`` is a flat dict of float32 scalars with at least ``loss``, ``recon``
  and ``kl``, plus method terms; per-latent arrays go under explicit keys
  (``kl_per_latent``).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp

from disent_bias.models import losses


@dataclasses.dataclass(frozen=True)
class Objective:
  """A registered method.

  Attributes:
    loss_fn: the objective function (signature in the module docstring).
    pairs: None for single images, ``'temporal'`` for Laplace-transition pairs
      (SlowVAE, PCL), ``'shared'`` for pairs sharing all but k factors
      (Ada-GVAE).
    hparams: names of the method's hyperparameters (config keys).
  """
  loss_fn: Callable
  pairs: str | None = None
  hparams: tuple[str, ...] = ()


def _encode_sample_decode(params, x, key, model):
  variables = {'params': params}
  mu, logvar = model.apply(variables, x, method='encode')
  z = losses.reparameterize(key, mu, logvar)
  logits = model.apply(variables, z, method='decode')
  return mu, logvar, z, logits


def beta_vae(params, batch, key, *, step, model, recon='bernoulli', beta=1.0):
  """beta-VAE (Higgins et al., 2017): recon + beta * KL."""
  del step
  x = batch['image']
  mu, logvar, _, logits = _encode_sample_decode(params, x, key, model)
  rec = losses.RECONSTRUCTION[recon](logits, x).mean()
  kl_pl = losses.gaussian_kl_per_latent(mu, logvar).mean(0)
  kl = kl_pl.sum()
  loss = rec + beta * kl
  return loss, {'loss': loss, 'recon': rec, 'kl': kl, 'kl_per_latent': kl_pl}


OBJECTIVES: dict[str, Objective] = {
    'beta_vae': Objective(beta_vae, hparams=('beta',)),
}


def get(name: str) -> Objective:
  """Looks an objective up by name; unknown names list the valid ones."""
  if name not in OBJECTIVES:
    raise ValueError(
        f'unknown model {name!r}; valid: {", ".join(sorted(OBJECTIVES))}')
  return OBJECTIVES[name]
