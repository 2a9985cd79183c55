"""Objectives: finite losses and gradients under jit, aux keys, known values."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from disent_bias.models import networks
from disent_bias.models import hparams
from disent_bias.models import objectives

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')

SHAPE = (8, 8, 1)
D = 3


def _setup(name, shape=SHAPE, architecture='mlp', batch=4):
  model = networks.VAE(D, shape, architecture=architecture, hidden=(16,))
  keys = jax.random.split(jax.random.key(0), 5)
  # Initialised under jit: eager init compiles every op of the network
  # (about 10 s for the 64x64 conv VAE).
  params = jax.jit(model.init)(keys[0], jnp.zeros((1, *shape)))['params']
  imgs = (jax.random.uniform(keys[1], (2, batch, *shape)) > 0.5).astype(
      jnp.float32)
  obj = objectives.get(name)
  batch_ = {'image': imgs[0]}
  if obj.pairs:
    batch_['image2'] = imgs[1]
  kwargs = {}
  if obj.init_extra:
    kwargs['extra'] = jax.jit(obj.init_extra, static_argnums=1)(keys[2], D)
  if obj.disc_init:
    kwargs['disc_params'] = jax.jit(obj.disc_init, static_argnums=1)(keys[3],
                                                                     D)
  return model, params, batch_, obj, kwargs, keys[4]


@pytest.mark.parametrize('name', sorted(objectives.OBJECTIVES))
def test_finite_loss_and_gradients(name):
  model, params, batch, obj, kwargs, key = _setup(name)
  trainable = (params, kwargs.pop('extra', None))

  @jax.jit
  def loss_grad(trainable, batch, key):
    def f(trainable):
      p, extra = trainable
      extra_kw = {} if extra is None else {'extra': extra}
      return obj.loss_fn(p, batch, key, step=jnp.int32(10), model=model,
                         recon='bernoulli', **kwargs, **extra_kw)
    return jax.value_and_grad(f, has_aux=True)(trainable)

  (loss, aux), grads = loss_grad(trainable, batch, key)
  assert loss.shape == () and np.isfinite(loss)
  assert {'loss', 'recon', 'kl', 'kl_per_latent'} <= set(aux)
  for k, v in aux.items():
    assert v.shape == ((D,) if k.endswith('_per_latent') else ()), (k, v.shape)
    assert np.all(np.isfinite(v)), k
  np.testing.assert_allclose(aux['loss'], loss)
  np.testing.assert_allclose(aux['kl'], aux['kl_per_latent'].sum(), rtol=1e-5,
                             atol=1e-6)
  leaves = jax.tree_util.tree_leaves(grads)
  assert all(np.all(np.isfinite(g)) for g in leaves)
  # Some gradient is non-zero (the encoder always receives one).
  assert any(np.abs(g).max() > 0 for g in leaves)
  assert set(hparams.default_hparams(name)) == set(obj.hparams)


def test_l2_reconstruction():
  model, params, batch, obj, _, key = _setup('beta_vae')
  loss, aux = obj.loss_fn(params, batch, key, step=0, model=model, recon='l2',
                          beta=0.0)
  np.testing.assert_allclose(loss, aux['recon'])
  with pytest.raises(ValueError, match='unknown reconstruction'):
    obj.loss_fn(params, batch, key, step=0, model=model, recon='l1')


def test_beta_vae_is_recon_plus_beta_kl():
  model, params, batch, obj, _, key = _setup('beta_vae')
  _, a1 = obj.loss_fn(params, batch, key, step=0, model=model, beta=1.0)
  l4, a4 = obj.loss_fn(params, batch, key, step=0, model=model, beta=4.0)
  np.testing.assert_allclose(a1['recon'], a4['recon'])
  np.testing.assert_allclose(l4, a1['recon'] + 4 * a1['kl'], rtol=1e-6)


def test_beta_tcvae_with_beta_one_is_vae():
  model, params, batch, _, _, key = _setup('beta_tcvae')
  l_tc, aux = objectives.beta_tcvae(params, batch, key, step=0, model=model,
                                    beta=1.0)
  l_vae, _ = objectives.beta_vae(params, batch, key, step=0, model=model,
                                 beta=1.0)
  np.testing.assert_allclose(l_tc, l_vae, rtol=1e-6)
  l6, _ = objectives.beta_tcvae(params, batch, key, step=0, model=model,
                                beta=6.0)
  np.testing.assert_allclose(l6, l_vae + 5 * aux['tc'], rtol=1e-5)


@pytest.mark.parametrize('step,capacity', [(0, 0.0), (50, 2.5), (100, 5.0),
                                           (1000, 5.0)])
def test_annealed_capacity(step, capacity):
  model, params, batch, _, _, key = _setup('annealed_vae')
  loss, aux = objectives.annealed_vae(
      params, batch, key, step=jnp.int32(step), model=model, gamma=3.0,
      c_max=5.0, iteration_threshold=100)
  np.testing.assert_allclose(aux['capacity'], capacity, rtol=1e-6)
  np.testing.assert_allclose(
      loss, aux['recon'] + 3.0 * abs(aux['kl'] - capacity), rtol=1e-5)


def test_dip_lambda_d_default():
  model, params, batch, _, _, key = _setup('dip_vae_i')
  _, a = objectives.dip_vae_i(params, batch, key, step=0, model=model,
                              lambda_od=2.0)
  _, b = objectives.dip_vae_i(params, batch, key, step=0, model=model,
                              lambda_od=2.0, lambda_d=20.0)
  np.testing.assert_allclose(a['dip'], b['dip'])


def test_factor_vae_constant_discriminator():
  model, params, batch, obj, kwargs, key = _setup('factor_vae')
  # Zero the last layer's kernel: logits = its bias for every z.
  disc = jax.tree_util.tree_map(lambda x: x, kwargs['disc_params'])
  disc['Dense_6'] = {'kernel': jnp.zeros_like(disc['Dense_6']['kernel']),
                     'bias': jnp.array([1.5, -0.5])}
  loss, aux = jax.jit(functools.partial(obj.loss_fn, step=0, model=model,
                                        gamma=10.0))(params, batch, key,
                                                     disc_params=disc)
  np.testing.assert_allclose(aux['tc'], 2.0, rtol=1e-6)
  np.testing.assert_allclose(loss, aux['recon'] + aux['kl'] + 20.0, rtol=1e-5)
  dloss, daux = jax.jit(functools.partial(obj.disc_loss_fn, model=model))(
      disc, params, batch, key)
  # -0.5 (log softmax_0 + log softmax_1) of logits (1.5, -0.5).
  logp = jax.nn.log_softmax(jnp.array([1.5, -0.5]))
  np.testing.assert_allclose(dloss, -0.5 * (logp[0] + logp[1]), rtol=1e-5)
  np.testing.assert_allclose(daux['disc_accuracy'], 0.5)
  grads = jax.jit(jax.grad(lambda d: obj.disc_loss_fn(d, params, batch, key,
                                                      model=model)[0]))(disc)
  assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grads))
  assert objectives.DISC_OPTIMIZER == {'learning_rate': 1e-4, 'b1': 0.5,
                                       'b2': 0.9}
  optax.adam(**objectives.DISC_OPTIMIZER).init(disc)


def test_pcl_separates_identical_pairs():
  # image2 == image: real pairs have |h2 - h1| = 0, shuffled pairs do not, so
  # with a = 1, b = c = 0 real logits are 0 and fake ones negative.
  model, params, batch, obj, kwargs, key = _setup('pcl')
  batch = {'image': batch['image'], 'image2': batch['image']}
  _, aux = obj.loss_fn(params, batch, key, step=0, model=model, **kwargs)
  np.testing.assert_allclose(aux['recon'], 0.0)
  # Accuracy: real logits are exactly 0 (not > 0), fakes < 0: 0.5 * (0 + 1).
  np.testing.assert_allclose(aux['pcl_accuracy'], 0.5)


def test_ada_gvae_identical_pair_averages_every_latent():
  model, params, batch, obj, _, key = _setup('ada_gvae')
  batch = {'image': batch['image'], 'image2': batch['image']}
  _, aux = obj.loss_fn(params, batch, key, step=0, model=model)
  # All KLs equal (0): disentanglement_lib averages every latent.
  np.testing.assert_allclose(aux['num_shared'], D)


def test_slow_vae_terms_add_up():
  model, params, batch, obj, _, key = _setup('slow_vae')
  l1, a = obj.loss_fn(params, batch, key, step=0, model=model, beta=1.0,
                      gamma=10.0)
  l2, b = obj.loss_fn(params, batch, key, step=0, model=model, beta=2.0,
                      gamma=3.0)
  np.testing.assert_allclose(l1, a['recon'] + a['kl'] + 10 * a['kl_transition'],
                             rtol=1e-5)
  np.testing.assert_allclose(l2, b['recon'] + 2 * b['kl'] + 3 * b['kl_transition'],
                             rtol=1e-5)


@pytest.mark.slow
def test_conv_beta_vae_64x64():
  model, params, batch, obj, _, key = _setup('beta_vae', shape=(64, 64, 1),
                                             architecture='conv', batch=1)
  (loss, _), grads = jax.jit(jax.value_and_grad(
      lambda p: obj.loss_fn(p, batch, key, step=0, model=model, beta=4.0),
      has_aux=True))(params)
  # Untrained decoder: logits near 0, so recon near 4096 * log 2.
  assert np.isfinite(loss) and abs(loss - 4096 * np.log(2)) < 0.2 * 4096
  assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grads))


def test_unknown_objective():
  with pytest.raises(ValueError, match='valid: ada_gvae'):
    objectives.get('vae')


@pytest.mark.parametrize('name', sorted(objectives.OBJECTIVES))
def test_recon_weight_scales_only_the_reconstruction(name):
  """loss(c) = loss(1) + (c - 1) * recon: the weight multiplies the
  reconstruction term and nothing else (same key, same samples)."""
  model, params, batch, obj, kwargs, key = _setup(name)

  @functools.partial(jax.jit, static_argnames='weight')
  def loss(weight):
    return obj.loss_fn(params, batch, key, step=jnp.int32(10), model=model,
                       recon='l2', recon_weight=weight, **kwargs)

  loss_1, aux_1 = loss(1.0)
  loss_c, aux_c = loss(40.0)
  np.testing.assert_allclose(aux_c['recon'], aux_1['recon'], rtol=1e-6)
  np.testing.assert_allclose(loss_c, loss_1 + 39.0 * aux_1['recon'],
                             rtol=1e-5, atol=1e-4)
  if name == 'pcl':  # No decoder: the weight changes nothing.
    np.testing.assert_array_equal(loss_c, loss_1)


def test_discriminator_size_from_its_parameters():
  model, params, batch, obj, _, key = _setup('factor_vae')
  disc = obj.disc_init(jax.random.key(5), D, hidden=8, num_layers=2)
  assert sorted(disc) == ['Dense_0', 'Dense_1', 'Dense_2']
  assert disc['Dense_0']['kernel'].shape == (D, 8)
  assert disc['Dense_2']['kernel'].shape == (8, 2)
  loss, aux = obj.loss_fn(params, batch, key, step=0, model=model,
                          disc_params=disc)
  dloss, _ = obj.disc_loss_fn(disc, params, batch, key, model=model)
  assert np.isfinite(loss) and np.isfinite(aux['tc']) and np.isfinite(dloss)
  default = obj.disc_init(jax.random.key(5), D)
  assert len(default) == 7 and default['Dense_0']['kernel'].shape == (D, 1000)
