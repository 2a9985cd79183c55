"""Encoders and decoders (Flax linen), disentanglement_lib architecture."""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


class ConvEncoder(nn.Module):
  """disentanglement_lib ``conv_encoder``: (B, H, W, C) -> mu, logvar (B, D)."""
  num_latents: int

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = x
    for feats, k in ((32, 4), (32, 4), (64, 2), (64, 2)):
      h = nn.relu(nn.Conv(feats, (k, k), strides=(2, 2), padding='SAME')(h))
    h = h.reshape((h.shape[0], -1))
    h = nn.relu(nn.Dense(256)(h))
    mu = nn.Dense(self.num_latents, name='mu')(h)
    logvar = nn.Dense(self.num_latents, name='logvar')(h)
    return mu, logvar


class DeconvDecoder(nn.Module):
  """disentanglement_lib ``deconv_decoder``: (B, D) -> logits (B, H, W, C)."""
  output_shape: Sequence[int]

  @nn.compact
  def __call__(self, z: jax.Array) -> jax.Array:
    height, width, channels = self.output_shape
    h = nn.relu(nn.Dense(256)(z))
    h = nn.relu(nn.Dense(1024)(h))
    h = h.reshape((z.shape[0], 4, 4, 64))
    for feats in (64, 32, 32):
      h = nn.relu(nn.ConvTranspose(feats, (4, 4), strides=(2, 2),
                                   padding='SAME')(h))
    h = nn.ConvTranspose(channels, (4, 4), strides=(2, 2), padding='SAME')(h)
    assert h.shape[1:] == (height, width, channels), h.shape
    return h


class MLPEncoder(nn.Module):
  """MLP encoder for vector data: (B, X) -> mu, logvar (B, D)."""
  num_latents: int
  hidden: Sequence[int] = (256, 256)

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = x.reshape((x.shape[0], -1))
    for width in self.hidden:
      h = nn.relu(nn.Dense(width)(h))
    return (nn.Dense(self.num_latents, name='mu')(h),
            nn.Dense(self.num_latents, name='logvar')(h))


class MLPDecoder(nn.Module):
  """MLP decoder for vector data: (B, D) -> outputs (B, *output_shape)."""
  output_shape: Sequence[int]
  hidden: Sequence[int] = (256, 256)

  @nn.compact
  def __call__(self, z: jax.Array) -> jax.Array:
    h = z
    for width in self.hidden:
      h = nn.relu(nn.Dense(width)(h))
    size = 1
    for s in self.output_shape:
      size *= s
    return nn.Dense(size)(h).reshape((z.shape[0], *self.output_shape))


class VAE(nn.Module):
  """Encoder + decoder pair. Deterministic; sampling happens in objectives.

  Use ``model.apply(variables, x, method='encode')`` and
  ``model.apply(variables, z, method='decode')``.
  """
  num_latents: int
  observation_shape: Sequence[int]
  architecture: str = 'conv'  # 'conv' | 'mlp'
  hidden: Sequence[int] = (256, 256)

  def setup(self):
    if self.architecture == 'conv':
      self.encoder = ConvEncoder(self.num_latents)
      self.decoder = DeconvDecoder(tuple(self.observation_shape))
    elif self.architecture == 'mlp':
      self.encoder = MLPEncoder(self.num_latents, tuple(self.hidden))
      self.decoder = MLPDecoder(tuple(self.observation_shape), tuple(self.hidden))
    else:
      raise ValueError(
          f"unknown architecture {self.architecture!r}; valid: conv, mlp")

  def encode(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    return self.encoder(x)

  def decode(self, z: jax.Array) -> jax.Array:
    return self.decoder(z)

  def __call__(self, x: jax.Array) -> jax.Array:
    mu, _ = self.encode(x)
    return self.decode(mu)
