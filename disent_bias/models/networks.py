"""Encoders and decoders (Flax linen), disentanglement_lib architecture."""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


# The ``architecture`` values of ``VAE``.
ARCHITECTURES = ('conv', 'mlp')

# ``model.compute_dtype`` -> the networks' ``dtype``. With bfloat16, the
# inputs and kernels of every matrix product and the hidden activations are
# bfloat16; parameters stay float32, and every bias is added in float32, so
# its gradient (a sum over batch and pixels: 262,144 terms in the last
# decoder layer) is accumulated in float32 (in bfloat16 that sum loses most
# of its value). Layers whose outputs leave the network (mu, logvar, the
# decoder's outputs, the discriminator's logits) stay float32. None
# (float32) inserts no casts: the float32 program is the one without the
# option.
COMPUTE_DTYPES = {'float32': None, 'bfloat16': jnp.bfloat16}


def _compute(dtype: Any, x: jax.Array) -> jax.Array:
  """``x`` in the compute ``dtype``; unchanged when it is None."""
  return x if dtype is None else jnp.asarray(x, dtype)


def _add_bias(y: jax.Array, bias: jax.Array, dtype: Any) -> jax.Array:
  """``y + bias``; float32 when ``dtype`` is set (see ``COMPUTE_DTYPES``)."""
  return y + bias if dtype is None else jnp.asarray(y, jnp.float32) + bias


def _float32_bias(inputs, kernel, bias, *, dtype):
  """Flax's ``promote_dtype`` for inputs and kernel; the bias stays float32,
  so Flax's layers add it in float32 (``COMPUTE_DTYPES``)."""
  inputs, kernel = nn.dtypes.promote_dtype(inputs, kernel, dtype=dtype)
  return inputs, kernel, bias


def _flax_layer(cls: type[nn.Module], dtype: Any, *args, **kwargs
                ) -> nn.Module:
  """``cls(*args, **kwargs)``; with a compute ``dtype``, computing in it
  with a float32 bias add (float32 outputs)."""
  if dtype is None:
    return cls(*args, **kwargs)
  return cls(*args, dtype=dtype, promote_dtype=_float32_bias, **kwargs)


def _dense(dtype: Any, features: int, **kwargs) -> nn.Module:
  """``nn.Dense(features, **kwargs)`` computing in ``dtype``."""
  return _flax_layer(nn.Dense, dtype, features, **kwargs)


def _relu(dtype: Any, y: jax.Array) -> jax.Array:
  """``relu`` of a hidden layer's output, in the compute ``dtype``."""
  return nn.relu(_compute(dtype, y))


def _to_float32(tree: Any) -> Any:
  """Every array of ``tree`` as float32 (network outputs, for the loss)."""
  return jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), tree)


def _conv_valid(x: jax.Array, kernel: jax.Array) -> jax.Array:
  """Stride-1 VALID convolution, NHWC x HWIO -> NHWC, as matrix products.

  Two equal forms, chosen by which side moves less memory; both keep the
  forward pass and both gradients as plain matrix products and slices (XLA's
  CPU convolution is much slower here for the kernel gradient, a convolution
  whose "kernel" is the full-size output gradient):
  - C_in <= C_out, input patches: the kh * kw shifted input slices are
    concatenated on the channel axis and multiplied by the kernel;
  - C_in > C_out, shifted outputs: every input pixel is multiplied by all
    kh * kw taps at once, (B*H*W, C_in) @ (C_in, kh*kw*C_out), and the output
    sums the kh * kw products, each sliced at its tap's shift. Copying the
    wide input kh * kw times costs more than the whole product here.
  """
  kh, kw, cin, cout = kernel.shape
  b, h, w, _ = x.shape
  oh, ow = h - kh + 1, w - kw + 1
  if kh == kw == 1:
    out = jnp.dot(x.reshape(b * h * w, cin), kernel.reshape(cin, cout))
    return out.reshape(b, oh, ow, cout)
  if cin > cout:
    taps = kernel.transpose(2, 0, 1, 3).reshape(cin, kh * kw * cout)
    y = jnp.dot(x.reshape(b * h * w, cin), taps).reshape(b, h, w, kh * kw,
                                                          cout)
    out = y[:, :oh, :ow, 0, :]
    for t in range(1, kh * kw):
      i, j = divmod(t, kw)
      out = out + y[:, i:i + oh, j:j + ow, t, :]
    return out
  patches = jnp.concatenate(
      [x[:, i:i + oh, j:j + ow, :] for i in range(kh) for j in range(kw)],
      axis=-1)
  out = jnp.dot(patches.reshape(b * oh * ow, kh * kw * cin),
                kernel.reshape(kh * kw * cin, cout))
  return out.reshape(b, oh, ow, cout)


def _space_to_depth(x: jax.Array) -> jax.Array:
  """(B, 2H, 2W, C) -> (B, H, W, 4C), channel order (row phase, col phase, C)."""
  b, h, w, c = x.shape
  x = x.reshape(b, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, h // 2, w // 2, 4 * c)


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
  """TensorFlow/Flax 'SAME' padding (low, high) for one spatial axis."""
  out = -(-size // stride)
  total = max((out - 1) * stride + kernel - size, 0)
  return total // 2, total - total // 2


class StridedConv(nn.Module):
  """``nn.Conv(features, (k, k), strides=2, padding='SAME')``, computed fast.

  Same parameters (``kernel`` (k, k, C_in, C_out), ``bias``) and the same
  function as the Flax layer. The stride-2 convolution is rewritten as
  space-to-depth of the padded input followed by a stride-1 convolution with
  the (k/2, k/2, 4 C_in, C_out) rearranged kernel. XLA's CPU backend turns
  the gradient of a strided convolution into a slow dilated convolution; the
  stride-1 form keeps forward and backward passes on the fast path.
  Requires even k and even spatial sizes. ``dtype``: the compute type
  (``COMPUTE_DTYPES``), None for the parameters' float32; the output is
  float32 either way (the bias is added in float32).
  """
  features: int
  kernel_size: int
  dtype: Any = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    k, cin = self.kernel_size, x.shape[-1]
    kernel = self.param('kernel', nn.initializers.lecun_normal(),
                        (k, k, cin, self.features))
    bias = self.param('bias', nn.initializers.zeros_init(), (self.features,))
    x, kernel = _compute(self.dtype, x), _compute(self.dtype, kernel)
    if k % 2 or x.shape[1] % 2 or x.shape[2] % 2:
      raise ValueError(f'StridedConv needs an even kernel and even spatial '
                       f'sizes, got kernel {k} and input {x.shape}')
    pads = [_same_padding(x.shape[ax], k, 2) for ax in (1, 2)]
    x = jnp.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    half = k // 2
    sub = kernel.reshape(half, 2, half, 2, cin, self.features)
    sub = sub.transpose(0, 2, 1, 3, 4, 5).reshape(half, half, 4 * cin,
                                                   self.features)
    return _add_bias(_conv_valid(_space_to_depth(x), sub), bias, self.dtype)


class SubpixelConvTranspose(nn.Module):
  """``nn.ConvTranspose(features, (4, 4), strides=2, padding='SAME')``, fast.

  Same parameters (``kernel`` (4, 4, C_in, C_out), ``bias``) and the same
  function as the Flax layer. Each output pixel parity (py, px) only sees
  the kernel taps ``kernel[py::2, px::2]``, so the layer is one stride-1 2x2
  convolution of the 1-padded input producing the four phases (4 C_out
  channels), followed by depth-to-space. This avoids the input-dilated
  convolution whose gradient is very slow on XLA's CPU backend. ``dtype``:
  the compute type (``COMPUTE_DTYPES``), None for the parameters' float32;
  the output is float32 either way (the bias is added in float32).
  """
  features: int
  dtype: Any = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    b, h, w, cin = x.shape
    kernel = self.param('kernel', nn.initializers.lecun_normal(),
                        (4, 4, cin, self.features))
    bias = self.param('bias', nn.initializers.zeros_init(), (self.features,))
    x, kernel = _compute(self.dtype, x), _compute(self.dtype, kernel)
    # (2, 2, C_in, C_out) per phase -> (2, 2, C_in, 4 * C_out), phase-major.
    sub = kernel.reshape(2, 2, 2, 2, cin, self.features)  # (ty, py, tx, px)
    sub = sub.transpose(0, 2, 4, 1, 3, 5).reshape(2, 2, cin,
                                                  4 * self.features)
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    y = _conv_valid(xp, sub).reshape(b, h + 1, w + 1, 2, 2, self.features)
    rows = []
    for py in (0, 1):
      cols = [y[:, py:py + h, px:px + w, py, px] for px in (0, 1)]
      rows.append(jnp.stack(cols, axis=3))  # (B, H, W, 2, C)
    out = jnp.stack(rows, axis=2)  # (B, H, 2, W, 2, C)
    return _add_bias(out.reshape(b, 2 * h, 2 * w, self.features), bias,
                     self.dtype)


class ConvEncoder(nn.Module):
  """disentanglement_lib ``conv_encoder``: (B, H, W, C) -> mu, logvar (B, D).

  Four stride-2 convolutions (32, 32, 64, 64 channels), Dense(256), then the
  two heads. On 64x64 inputs this is disentanglement_lib's network; on
  smaller inputs (H, W divisible by 16, e.g. 32x32) the same layers give an
  (H/16, W/16, 64) feature map, so only the first Dense layer's input size
  changes. ``fast=False`` uses Flax's ``nn.Conv``; ``fast=True`` (default)
  computes the same function with the same parameters through
  ``StridedConv``. ``dtype``: the compute type (``COMPUTE_DTYPES``), None
  for the parameters' float32.
  """
  num_latents: int
  fast: bool = True
  dtype: Any = None

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = x
    for i, (feats, k) in enumerate(((32, 4), (32, 4), (64, 2), (64, 2))):
      if self.fast:
        layer = StridedConv(feats, k, dtype=self.dtype, name=f'Conv_{i}')
      else:
        layer = _flax_layer(nn.Conv, self.dtype, feats, (k, k),
                            strides=(2, 2), padding='SAME', name=f'Conv_{i}')
      h = _relu(self.dtype, layer(h))
    h = h.reshape((h.shape[0], -1))
    h = _relu(self.dtype, _dense(self.dtype, 256)(h))
    mu = _dense(self.dtype, self.num_latents, name='mu')(h)
    logvar = _dense(self.dtype, self.num_latents, name='logvar')(h)
    return mu, logvar


class DeconvDecoder(nn.Module):
  """disentanglement_lib ``deconv_decoder``: (B, D) -> logits (B, H, W, C).

  Dense(256), Dense(H/16 * W/16 * 64) reshaped to (H/16, W/16, 64), then four
  stride-2 transposed convolutions (64, 32, 32, C channels). For 64x64 images
  this is disentanglement_lib's network (Dense(1024), 4x4x64); for other
  sizes divisible by 16 (e.g. 32x32: Dense(256), 2x2x64) the layer pattern
  is scaled to the output size. ``fast=False`` uses Flax's
  ``nn.ConvTranspose`` (padding 'SAME', the TensorFlow semantics);
  ``fast=True`` (default) computes the same function with the same
  parameters through ``SubpixelConvTranspose``. ``dtype``: the compute type
  (``COMPUTE_DTYPES``), None for the parameters' float32.
  """
  output_shape: Sequence[int]
  fast: bool = True
  dtype: Any = None

  @nn.compact
  def __call__(self, z: jax.Array) -> jax.Array:
    height, width, channels = self.output_shape
    if height % 16 or width % 16:
      raise ValueError(f'the deconv decoder makes images whose sides are '
                       f'multiples of 16; observation_shape is '
                       f'{tuple(self.output_shape)}')
    base = (height // 16, width // 16)
    h = _relu(self.dtype, _dense(self.dtype, 256)(z))
    h = _relu(self.dtype, _dense(self.dtype, base[0] * base[1] * 64)(h))
    h = h.reshape((z.shape[0], *base, 64))
    for i, feats in enumerate((64, 32, 32, channels)):
      if self.fast:
        layer = SubpixelConvTranspose(feats, dtype=self.dtype,
                                      name=f'ConvTranspose_{i}')
      else:
        layer = _flax_layer(nn.ConvTranspose, self.dtype, feats, (4, 4),
                            strides=(2, 2), padding='SAME',
                            name=f'ConvTranspose_{i}')
      h = layer(h)
      if i < 3:
        h = _relu(self.dtype, h)
    return h


class MLPEncoder(nn.Module):
  """MLP encoder for vector data: (B, X) -> mu, logvar (B, D).

  ``dtype``: the compute type (``COMPUTE_DTYPES``), None for float32.
  """
  num_latents: int
  hidden: Sequence[int] = (256, 256)
  dtype: Any = None

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = x.reshape((x.shape[0], -1))
    for width in self.hidden:
      h = _relu(self.dtype, _dense(self.dtype, width)(h))
    return (_dense(self.dtype, self.num_latents, name='mu')(h),
            _dense(self.dtype, self.num_latents, name='logvar')(h))


class MLPDecoder(nn.Module):
  """MLP decoder for vector data: (B, D) -> outputs (B, *output_shape).

  ``dtype``: the compute type (``COMPUTE_DTYPES``), None for float32.
  """
  output_shape: Sequence[int]
  hidden: Sequence[int] = (256, 256)
  dtype: Any = None

  @nn.compact
  def __call__(self, z: jax.Array) -> jax.Array:
    h = z
    for width in self.hidden:
      h = _relu(self.dtype, _dense(self.dtype, width)(h))
    size = 1
    for s in self.output_shape:
      size *= s
    out = _dense(self.dtype, size)(h)
    return out.reshape((z.shape[0], *self.output_shape))


class VAE(nn.Module):
  """Encoder + decoder pair. Deterministic; sampling happens in objectives.

  Use ``model.apply(variables, x, method='encode')`` and
  ``model.apply(variables, z, method='decode')``. ``dtype`` is the compute
  type of activations and matrix products (``COMPUTE_DTYPES``; None: the
  parameters' float32); parameters are float32 and ``encode`` and
  ``decode`` return float32 either way, so every loss term is computed in
  float32.
  """
  num_latents: int
  observation_shape: Sequence[int]
  architecture: str = 'conv'  # 'conv' | 'mlp'
  hidden: Sequence[int] = (256, 256)
  fast_conv: bool = True  # same function and parameters either way
  dtype: Any = None

  def setup(self):
    if self.architecture == 'conv':
      self.encoder = ConvEncoder(self.num_latents, self.fast_conv, self.dtype)
      self.decoder = DeconvDecoder(tuple(self.observation_shape),
                                   self.fast_conv, self.dtype)
    elif self.architecture == 'mlp':
      self.encoder = MLPEncoder(self.num_latents, tuple(self.hidden),
                                self.dtype)
      self.decoder = MLPDecoder(tuple(self.observation_shape),
                                tuple(self.hidden), self.dtype)
    else:
      raise ValueError(
          f'unknown architecture {self.architecture!r}; valid: '
          f'{", ".join(ARCHITECTURES)}')

  def encode(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """mu, logvar (B, D), float32."""
    out = self.encoder(x)
    return out if self.dtype is None else _to_float32(out)

  def decode(self, z: jax.Array) -> jax.Array:
    """Decoder outputs (logits or means) (B, *obs), float32."""
    out = self.decoder(z)
    return out if self.dtype is None else _to_float32(out)

  def __call__(self, x: jax.Array) -> jax.Array:
    mu, _ = self.encode(x)
    return self.decode(mu)


class Discriminator(nn.Module):
  """FactorVAE discriminator: (B, D) -> logits (B, 2).

  Six Dense(1000) layers with leaky ReLU (slope 0.2, TensorFlow's default as in
  disentanglement_lib), then Dense(2). Class 0 = sample of q(z), class 1 =
  sample of prod_d q(z_d). ``dtype``: the compute type (``COMPUTE_DTYPES``),
  None for float32; the logits are float32 either way (float32 bias add).
  """
  hidden: int = 1000
  num_layers: int = 6
  dtype: Any = None

  @nn.compact
  def __call__(self, z: jax.Array) -> jax.Array:
    h = z
    for _ in range(self.num_layers):
      h = _compute(self.dtype, _dense(self.dtype, self.hidden)(h))
      h = nn.leaky_relu(h, negative_slope=0.2)
    return _dense(self.dtype, 2)(h)


def discriminator_init(key: jax.Array, num_latents: int, *, hidden: int = 1000,
                       num_layers: int = 6) -> dict[str, Any]:
  """``Discriminator`` parameters for D = num_latents.

  ``num_layers`` leaky-ReLU Dense(``hidden``) layers and Dense(2) (6 x 1000
  is Kim & Mnih's and disentanglement_lib's). The parameters determine the
  architecture (``discriminator_logits``).
  """
  return Discriminator(hidden=hidden, num_layers=num_layers).init(
      key, jnp.zeros((1, num_latents), jnp.float32))['params']


def discriminator_logits(params: dict[str, Any], z: jax.Array,
                         dtype: Any = None) -> jax.Array:
  """Logits (B, 2), float32, of the discriminator ``params`` at z (B, D),
  computed in ``dtype`` (the VAE's compute type)."""
  hidden = params['Dense_0']['kernel'].shape[-1]
  module = Discriminator(hidden=hidden, num_layers=len(params) - 1,
                         dtype=dtype)
  return module.apply({'params': params}, z)
