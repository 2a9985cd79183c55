"""What an objective is, and the pieces every objective's loss is built from.

An ``Objective`` (registered in ``objectives.OBJECTIVES``) is one
self-contained method: its typed hyperparameters (a frozen dataclass whose
field defaults are the only home of their default values), how it draws the
factors of a batch (``single_images``, ``temporal_pairs``, ``shared_pairs``;
the samplers are in ``data/samplers``), its own state (``init``), its loss,
and an optional update of its state after the main step. The trainer
(``step``, ``setup``, ``runner``, ``train``) calls these and nothing
method-specific.

Shapes: ``batch['image']`` is (B, *obs) in [0, 1], pair objectives also get
``batch['image2']``; factor indices are int32 (B, K).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Callable, Iterable, Mapping, Sequence

import flax
import jax
import jax.numpy as jnp

from disent_bias.data import samplers
from disent_bias.models import losses
from disent_bias.models import networks

# (loss scalar, flat dict of float32 aux terms).
LossOutput = tuple[jax.Array, dict[str, jax.Array]]


@flax.struct.dataclass
class ObjectiveState:
  """An objective's part of the train state (one seed).

  Attributes:
    trainable: parameters the main optimiser updates together with the
      network parameters (PCL's psi), or ``{}``. The main optimiser's state
      is of the pair ``(params, trainable)``.
    own: what the objective updates itself after the main step
      (``Objective.update``; FactorVAE's discriminator and its Adam state),
      a dict of non-empty pytrees by name, or ``{}``.
  """
  trainable: Any
  own: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Context:
  """What losses, ``init`` and ``update`` read besides params and hparams.

  Static under jit. ``recon`` is a key of ``losses.RECONSTRUCTION``;
  ``recon_weight`` (> 0) multiplies the reconstruction term: with the L2
  reconstruction, weight c is a Gaussian decoder of variance 1 / (2 c) up to
  a constant, so KL weights keep their usual meaning on data whose noise
  scale is not 1/2 (disentanglement_lib: c = 1). ``model_config`` is the
  resolved ``config.model`` section, for sizes an objective's own networks
  take (FactorVAE: ``disc_hidden``, ``disc_layers``).
  """
  model: networks.VAE
  recon: str = 'bernoulli'
  recon_weight: float = 1.0
  model_config: Mapping[str, Any] = dataclasses.field(default_factory=dict)


# sample_factors(key, factor_sizes, batch_size, hparams) -> (w,) or (w, w2).
Sampler = Callable[[jax.Array, Sequence[int], int, Any],
                   tuple[jax.Array, ...]]


def single_images(key: jax.Array, factor_sizes: Sequence[int],
                  batch_size: int, hparams: Any) -> tuple[jax.Array]:
  """``(w,)``: uniformly drawn factors, int32 (B, K)."""
  del hparams
  return (samplers.uniform_factors(key, factor_sizes, batch_size),)


def temporal_pairs(key: jax.Array, factor_sizes: Sequence[int],
                   batch_size: int, hparams: Any
                   ) -> tuple[jax.Array, jax.Array]:
  """``(w, w2)``: Laplace transitions of rate ``hparams.rate`` (SlowVAE,
  PCL)."""
  return samplers.laplace_transition_pairs(key, factor_sizes, batch_size,
                                           rate=float(hparams.rate))


def shared_pairs(key: jax.Array, factor_sizes: Sequence[int],
                 batch_size: int, hparams: Any
                 ) -> tuple[jax.Array, jax.Array]:
  """``(w, w2)`` sharing all but ``hparams.k`` factors (k < 1 or None: k
  drawn per pair in [1, K-1]; Ada-GVAE)."""
  k = hparams.k
  return samplers.shared_factor_pairs(
      key, factor_sizes, batch_size, k=None if k is None or k < 1 else int(k))


@dataclasses.dataclass(frozen=True)
class Objective:
  """A registered method (see the module docstring).

  Attributes:
    loss: ``loss(params, state, batch, key, *, step, hparams, ctx) ->
      (loss, aux)``: ``state`` an ``ObjectiveState`` (its ``trainable`` is
      differentiated with ``params``), ``step`` the (possibly traced) int
      step; ``loss`` the float32 batch mean of the per-example loss
      (reconstruction summed over pixels); ``aux`` a flat dict of float32
      scalars with at least ``loss``, ``recon`` (unweighted) and ``kl``,
      plus method terms; per-latent (D,) arrays under keys ending in
      ``_per_latent``. The keys depend only on the method.
    hparams: the frozen dataclass of the method's hyperparameters (config
      keys ``model.hparams.<field>``); its field defaults are the defaults.
    sample_factors: how a batch's factors are drawn (a ``Sampler``).
    init_trainable: None, or ``(key, ctx) -> pytree`` of extra parameters
      trained by the main optimiser (``ObjectiveState.trainable``).
    init_own: None, or ``(key, ctx) -> dict`` of the objective's own state
      (``ObjectiveState.own``).
    update: None, or ``update(own, params, batch, key, *, hparams, ctx) ->
      (own, metrics)``, run after the main step on the step's pre-update
      params with the step's second key.
    variational: False for methods without a trained posterior variance (AE,
      PCL): "active latents" and the polarized regime do not apply, and
      analyses score every latent.
  """
  loss: Callable[..., LossOutput]
  hparams: type
  sample_factors: Sampler = single_images
  init_trainable: Callable[[jax.Array, Context], Any] | None = None
  init_own: Callable[[jax.Array, Context], dict[str, Any]] | None = None
  update: Callable[..., tuple[dict[str, Any], dict[str, jax.Array]]] | None = (
      None)
  variational: bool = True

  @property
  def hparam_names(self) -> tuple[str, ...]:
    """The hyperparameters' names, in field order."""
    return tuple(f.name for f in dataclasses.fields(self.hparams))

  def default_hparams(self) -> dict[str, Any]:
    """The hyperparameters that have a default, with it."""
    return {f.name: f.default for f in dataclasses.fields(self.hparams)
            if f.default is not dataclasses.MISSING}

  def hparam_types(self) -> dict[str, type]:
    """Each hyperparameter's type, in field order (``X | None`` gives X)."""
    hints = typing.get_type_hints(self.hparams)
    return {name: _base_type(hints[name]) for name in self.hparam_names}

  def init(self, trainable_key: jax.Array, own_key: jax.Array,
           ctx: Context) -> ObjectiveState:
    """The objective's state at step 0 (``{}`` parts when it has none)."""
    trainable = ({} if self.init_trainable is None
                 else self.init_trainable(trainable_key, ctx))
    own = {} if self.init_own is None else self.init_own(own_key, ctx)
    return ObjectiveState(trainable=trainable, own=own)

  def update_own(self, own: dict[str, Any], params: Any,
                 batch: Mapping[str, jax.Array], key: jax.Array, *,
                 hparams: Any, ctx: Context
                 ) -> tuple[dict[str, Any], dict[str, jax.Array]]:
    """``update``, or the unchanged state and no metrics without one."""
    if self.update is None:
      return own, {}
    return self.update(own, params, batch, key, hparams=hparams, ctx=ctx)


def encode(params: Any, x: jax.Array, model: networks.VAE
           ) -> tuple[jax.Array, jax.Array]:
  """(B, *obs) -> posterior (mu, logvar), each (B, D)."""
  return model.apply({'params': params}, x, method='encode')


def decode(params: Any, z: jax.Array, model: networks.VAE) -> jax.Array:
  """(B, D) -> decoder logits (B, *obs)."""
  return model.apply({'params': params}, z, method='decode')


def recon_loss(recon: str, logits: jax.Array, x: jax.Array) -> jax.Array:
  """Batch mean of the per-example reconstruction loss (a scalar)."""
  if recon not in losses.RECONSTRUCTION:
    raise ValueError(f'unknown reconstruction {recon!r}; valid: '
                     f'{", ".join(sorted(losses.RECONSTRUCTION))}')
  return losses.RECONSTRUCTION[recon](logits, x).mean()


def vae_terms(params: Any, x: jax.Array, key: jax.Array, ctx: Context):
  """Encode, sample, decode: (mu, logvar, z (each (B, D)), the recon scalar,
  KL per latent (D,))."""
  mu, logvar = encode(params, x, ctx.model)
  z = losses.reparameterize(key, mu, logvar)
  rec = recon_loss(ctx.recon, decode(params, z, ctx.model), x)
  kl_pl = losses.gaussian_kl_per_latent(mu, logvar).mean(0)
  return mu, logvar, z, rec, kl_pl


def aux_terms(loss: jax.Array, rec: jax.Array, kl_pl: jax.Array,
              **terms: Any) -> dict[str, jax.Array]:
  """The aux dict: ``loss``, ``recon``, ``kl``, ``kl_per_latent`` and the
  method's float32 ``terms``."""
  out = {'loss': loss, 'recon': rec, 'kl': kl_pl.sum(), 'kl_per_latent': kl_pl}
  out.update({k: jnp.asarray(v, jnp.float32) for k, v in terms.items()})
  return out


def hparam_types(objectives: Iterable[Objective]) -> dict[str, type]:
  """Every hyperparameter name of ``objectives`` with its type, in their
  order and field order: the types command-line overrides parse to.

  Raises:
    TypeError: two objectives give one name different types.
  """
  types = {}
  for objective in objectives:
    for name, kind in objective.hparam_types().items():
      if types.setdefault(name, kind) is not kind:
        raise TypeError(f'hyperparameter {name!r} is {types[name].__name__} '
                        f'in one objective and {kind.__name__} in another; '
                        'give it one type')
  return types


def _base_type(hint: Any) -> type:
  """``X`` of ``X`` or ``X | None``."""
  args = [a for a in typing.get_args(hint) if a is not type(None)]
  return args[0] if args else hint


__all__ = ['LossOutput', 'ObjectiveState', 'Context', 'Sampler',
           'single_images', 'temporal_pairs', 'shared_pairs', 'Objective',
           'encode', 'decode', 'recon_loss', 'vae_terms', 'aux_terms',
           'hparam_types']
