"""Networks: shapes, exact parameter counts, fast layers equal Flax layers."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias.models import networks


# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def _count(params):
  return sum(int(np.prod(p.shape)) for p in jax.tree_util.tree_leaves(params))


def _conv(k, cin, cout):
  return k * k * cin * cout + cout


def _dense(n_in, n_out):
  return n_in * n_out + n_out


@pytest.mark.parametrize('channels', [1, 3])
def test_conv_vae_shapes_and_param_count(channels):
  d = 10
  model = networks.VAE(d, (64, 64, channels))
  x = jnp.zeros((2, 64, 64, channels))
  # Abstract evaluation: shapes without compiling the 64x64 network.
  params = jax.eval_shape(model.init, jax.random.key(0), x)['params']
  mu, logvar = jax.eval_shape(
      lambda p: model.apply({'params': p}, x, method='encode'), params)
  logits = jax.eval_shape(
      lambda p: model.apply({'params': p}, jnp.zeros((2, d)), method='decode'),
      params)
  assert mu.shape == logvar.shape == (2, d)
  assert logits.shape == (2, 64, 64, channels)
  # disentanglement_lib conv_encoder / deconv_decoder, layer by layer.
  encoder = (_conv(4, channels, 32) + _conv(4, 32, 32) + _conv(2, 32, 64) +
             _conv(2, 64, 64) + _dense(1024, 256) + 2 * _dense(256, d))
  decoder = (_dense(d, 256) + _dense(256, 1024) + _conv(4, 64, 64) +
             _conv(4, 64, 32) + _conv(4, 32, 32) + _conv(4, 32, channels))
  assert _count(params['encoder']) == encoder
  assert _count(params['decoder']) == decoder
  # Kernel layouts equal Flax's Conv / ConvTranspose.
  assert params['encoder']['Conv_0']['kernel'].shape == (4, 4, channels, 32)
  assert params['decoder']['ConvTranspose_3']['kernel'].shape == (
      4, 4, 32, channels)


def test_conv_vae_at_32px_scales_the_layer_pattern():
  d = 6
  model = networks.VAE(d, (32, 32, 3))
  x = jnp.zeros((2, 32, 32, 3))
  params = jax.eval_shape(model.init, jax.random.key(0), x)['params']
  logits = jax.eval_shape(
      lambda p: model.apply({'params': p}, jnp.zeros((2, d)), method='decode'),
      params)
  assert logits.shape == (2, 32, 32, 3)
  # The same layers; the feature map is 2x2x64, so Dense(256 <-> 256).
  encoder = (_conv(4, 3, 32) + _conv(4, 32, 32) + _conv(2, 32, 64) +
             _conv(2, 64, 64) + _dense(256, 256) + 2 * _dense(256, d))
  decoder = (_dense(d, 256) + _dense(256, 256) + _conv(4, 64, 64) +
             _conv(4, 64, 32) + _conv(4, 32, 32) + _conv(4, 32, 3))
  assert _count(params['encoder']) == encoder
  assert _count(params['decoder']) == decoder


def test_fast_conv_vae_equals_flax_layers_at_32px():
  x = jax.random.uniform(jax.random.key(3), (2, 32, 32, 1))
  fast = networks.VAE(4, (32, 32, 1))
  flax_ = networks.VAE(4, (32, 32, 1), fast_conv=False)
  params = fast.init(jax.random.key(0), x)
  np.testing.assert_allclose(np.asarray(fast.apply(params, x)),
                             np.asarray(flax_.apply(params, x)),
                             rtol=1e-4, atol=1e-4)


def test_conv_decoder_refuses_sizes_not_multiple_of_16():
  decoder = networks.DeconvDecoder((24, 24, 1))
  with pytest.raises(ValueError, match='multiples of 16'):
    jax.eval_shape(decoder.init, jax.random.key(0), jnp.zeros((1, 4)))


def test_fast_and_flax_networks_share_parameter_tree():
  x = jnp.zeros((1, 64, 64, 1))
  fast = jax.eval_shape(networks.VAE(4, (64, 64, 1)).init, jax.random.key(0),
                        x)
  flax_ = jax.eval_shape(networks.VAE(4, (64, 64, 1), fast_conv=False).init,
                         jax.random.key(0), x)
  assert fast == flax_


@pytest.mark.parametrize('fast,reference', [
    (networks.StridedConv(3, 4),
     nn.Conv(3, (4, 4), strides=(2, 2), padding='SAME')),
    (networks.SubpixelConvTranspose(3),
     nn.ConvTranspose(3, (4, 4), strides=(2, 2), padding='SAME'))])
def test_fast_layers_initialise_like_flax(fast, reference):
  x = jnp.zeros((1, 4, 4, 2))
  a = fast.init(jax.random.key(7), x)
  b = reference.init(jax.random.key(7), x)
  for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
    np.testing.assert_array_equal(u, v)


def _compare_layers(fast, reference, x):
  params = reference.init(jax.random.key(0), x)['params']
  # Non-zero bias so that it is exercised too.
  params = dict(params, bias=jax.random.normal(jax.random.key(1),
                                               params['bias'].shape))
  cot = jax.random.normal(jax.random.key(2), reference.apply(
      {'params': params}, x).shape)

  def loss(module):
    return jax.jit(jax.value_and_grad(
        lambda p, x: jnp.vdot(module.apply({'params': p}, x), cot),
        argnums=(0, 1)))

  (v_ref, (gp_ref, gx_ref)) = loss(reference)(params, x)
  (v_fast, (gp_fast, gx_fast)) = loss(fast)(params, x)
  np.testing.assert_allclose(
      fast.apply({'params': params}, x), reference.apply({'params': params}, x),
      rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(v_fast, v_ref, rtol=1e-5)
  np.testing.assert_allclose(gx_fast, gx_ref, rtol=1e-4, atol=1e-5)
  for k in ('kernel', 'bias'):
    np.testing.assert_allclose(gp_fast[k], gp_ref[k], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('size,cin,cout', [(4, 3, 5), (6, 2, 1)])
def test_subpixel_conv_transpose_equals_flax(size, cin, cout):
  x = jax.random.normal(jax.random.key(3), (2, size, size + 2, cin))
  _compare_layers(
      networks.SubpixelConvTranspose(cout),
      nn.ConvTranspose(cout, (4, 4), strides=(2, 2), padding='SAME'), x)


@pytest.mark.parametrize('k,size,cin,cout', [(4, 6, 2, 3), (2, 4, 3, 2)])
def test_strided_conv_equals_flax(k, size, cin, cout):
  x = jax.random.normal(jax.random.key(4), (2, size, size + 2, cin))
  _compare_layers(networks.StridedConv(cout, k),
                  nn.Conv(cout, (k, k), strides=(2, 2), padding='SAME'), x)


def test_strided_conv_rejects_odd_sizes():
  with pytest.raises(ValueError, match='even'):
    networks.StridedConv(2, 4).init(jax.random.key(0), jnp.zeros((1, 5, 4, 1)))


def test_mlp_vae_shapes():
  model = networks.VAE(3, (8, 8, 1), architecture='mlp', hidden=(16, 8))
  x = jnp.zeros((5, 8, 8, 1))
  params = model.init(jax.random.key(0), x)['params']
  mu, _ = model.apply({'params': params}, x, method='encode')
  assert mu.shape == (5, 3)
  assert model.apply({'params': params}, mu, method='decode').shape == x.shape
  assert _count(params['encoder']) == (_dense(64, 16) + _dense(16, 8) +
                                       2 * _dense(8, 3))


def test_unknown_architecture():
  with pytest.raises(ValueError, match='valid: conv, mlp'):
    networks.VAE(3, (8,), architecture='resnet').init(
        jax.random.key(0), jnp.zeros((1, 8)))


def test_discriminator_shape_and_count():
  disc = networks.Discriminator()
  params = jax.eval_shape(disc.init, jax.random.key(0),
                          jnp.zeros((1, 10)))['params']
  out = jax.eval_shape(lambda p: disc.apply({'params': p}, jnp.zeros((7, 10))),
                       params)
  assert out.shape == (7, 2)
  assert _count(params) == (_dense(10, 1000) + 5 * _dense(1000, 1000) +
                            _dense(1000, 2))


# bfloat16 compute (model.compute_dtype): parameters and outputs float32.


@pytest.mark.parametrize('fast_conv', [True, False])
def test_bfloat16_vae_keeps_float32_parameters_and_outputs(fast_conv):
  x = jax.random.uniform(jax.random.key(3), (4, 32, 32, 1))
  f32 = networks.VAE(4, (32, 32, 1), fast_conv=fast_conv)
  bf16 = networks.VAE(4, (32, 32, 1), fast_conv=fast_conv,
                      dtype=jnp.bfloat16)
  params = jax.jit(f32.init)(jax.random.key(0), x)
  # The same parameter tree, float32 either way.
  assert jax.eval_shape(bf16.init, jax.random.key(0), x) == jax.eval_shape(
      f32.init, jax.random.key(0), x)

  def encode_decode(model):
    def fn(p):
      mu, logvar = model.apply(p, x, method='encode')
      return mu, logvar, model.apply(p, mu, method='decode')
    return jax.jit(fn)

  hlo = encode_decode(bf16).lower(params).as_text()
  assert 'bf16' in hlo and 'bf16' not in encode_decode(f32).lower(
      params).as_text()
  for a, b in zip(encode_decode(f32)(params), encode_decode(bf16)(params)):
    assert b.dtype == jnp.float32
    # bfloat16 keeps 8 significant bits (relative rounding 2^-9); measured:
    # at most 0.6 % of each output's largest magnitude.
    np.testing.assert_allclose(b, a, atol=0.02 * float(jnp.abs(a).max()))


def test_bfloat16_bias_gradients_are_summed_in_float32():
  # The last decoder bias's gradient sums 4 x 32 x 32 output gradients;
  # summed in bfloat16 it stalls far below its value (256 for 2048 here).
  z = jax.random.normal(jax.random.key(1), (4, 4))
  f32 = networks.VAE(4, (32, 32, 1))
  bf16 = networks.VAE(4, (32, 32, 1), dtype=jnp.bfloat16)
  params = jax.jit(f32.init)(jax.random.key(0), jnp.zeros((1, 32, 32, 1)))

  def bias_grad(model):
    loss = lambda p: jax.nn.softplus(model.apply(p, z, method='decode')).sum()
    grads = jax.jit(jax.grad(loss))(params)
    return grads['params']['decoder']['ConvTranspose_3']['bias']

  np.testing.assert_allclose(bias_grad(bf16), bias_grad(f32), rtol=1e-3)


def test_bfloat16_discriminator_logits_are_float32():
  z = jax.random.normal(jax.random.key(1), (5, 3))
  f32 = networks.Discriminator(hidden=16, num_layers=2)
  bf16 = networks.Discriminator(hidden=16, num_layers=2, dtype=jnp.bfloat16)
  params = jax.jit(f32.init)(jax.random.key(0), z)
  logits = jax.jit(bf16.apply)(params, z)
  assert logits.dtype == jnp.float32
  expected = jax.jit(f32.apply)(params, z)
  np.testing.assert_allclose(logits, expected,
                             atol=0.02 * float(jnp.abs(expected).max()))
