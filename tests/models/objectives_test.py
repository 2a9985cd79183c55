"""Objectives: finite losses and gradients under jit, aux keys, known values."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from disent_bias.models import networks
from disent_bias.models import objective_base as base
from disent_bias.models import objectives

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')

SHAPE = (8, 8, 1)
D = 3


def _context(model, recon='bernoulli', recon_weight=1.0, disc_hidden=1000,
             disc_layers=6):
  return base.Context(model=model, recon=recon, recon_weight=recon_weight,
                      model_config={'disc_hidden': disc_hidden,
                                    'disc_layers': disc_layers})


def _setup(name, shape=SHAPE, architecture='mlp', batch=4):
  """model, params, batch, objective, its state at step 0, a key."""
  model = networks.VAE(D, shape, architecture=architecture, hidden=(16,))
  keys = jax.random.split(jax.random.key(0), 5)
  # Initialised under jit: eager init compiles every op of the network
  # (about 10 s for the 64x64 conv VAE).
  params = jax.jit(model.init)(keys[0], jnp.zeros((1, *shape)))['params']
  imgs = (jax.random.uniform(keys[1], (2, batch, *shape)) > 0.5).astype(
      jnp.float32)
  obj = objectives.get(name)
  batch_ = {'image': imgs[0]}
  if obj.sample_factors is not base.single_images:
    batch_['image2'] = imgs[1]
  state = jax.jit(functools.partial(obj.init, ctx=_context(model)))(keys[2],
                                                                    keys[3])
  return model, params, batch_, obj, state, keys[4]


def _loss(obj, params, batch, key, model, state=None, *, step=0,
          recon='bernoulli', recon_weight=1.0, **hparams):
  """``obj.loss`` with ``obj.hparams(**hparams)`` (defaults elsewhere)."""
  state = base.ObjectiveState({}, {}) if state is None else state
  return obj.loss(params, state, batch, key, step=step,
                  hparams=obj.hparams(**hparams),
                  ctx=_context(model, recon, recon_weight))


@pytest.mark.parametrize('name', sorted(objectives.OBJECTIVES))
def test_finite_loss_and_gradients(name):
  model, params, batch, obj, state, key = _setup(name)
  trainable = (params, state.trainable)

  @jax.jit
  def loss_grad(trainable, batch, key):
    def f(trainable):
      p, extra = trainable
      return _loss(obj, p, batch, key, model, state.replace(trainable=extra),
                   step=jnp.int32(10))
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
  assert set(obj.default_hparams()) == set(obj.hparam_names)


def test_l2_reconstruction():
  model, params, batch, obj, _, key = _setup('beta_vae')
  loss, aux = _loss(obj, params, batch, key, model, recon='l2', beta=0.0)
  np.testing.assert_allclose(loss, aux['recon'])
  with pytest.raises(ValueError, match='unknown reconstruction'):
    _loss(obj, params, batch, key, model, recon='l1')


def test_beta_vae_is_recon_plus_beta_kl():
  model, params, batch, obj, _, key = _setup('beta_vae')
  _, a1 = _loss(obj, params, batch, key, model, beta=1.0)
  l4, a4 = _loss(obj, params, batch, key, model, beta=4.0)
  np.testing.assert_allclose(a1['recon'], a4['recon'])
  np.testing.assert_allclose(l4, a1['recon'] + 4 * a1['kl'], rtol=1e-6)


def test_beta_tcvae_with_beta_one_is_vae():
  model, params, batch, tcvae, _, key = _setup('beta_tcvae')
  vae = objectives.get('beta_vae')
  l_tc, aux = _loss(tcvae, params, batch, key, model, beta=1.0)
  l_vae, _ = _loss(vae, params, batch, key, model, beta=1.0)
  np.testing.assert_allclose(l_tc, l_vae, rtol=1e-6)
  l6, _ = _loss(tcvae, params, batch, key, model, beta=6.0)
  np.testing.assert_allclose(l6, l_vae + 5 * aux['tc'], rtol=1e-5)


@pytest.mark.parametrize('step,capacity', [(0, 0.0), (50, 2.5), (100, 5.0),
                                           (1000, 5.0)])
def test_annealed_capacity(step, capacity):
  model, params, batch, obj, _, key = _setup('annealed_vae')
  loss, aux = _loss(obj, params, batch, key, model, step=jnp.int32(step),
                    gamma=3.0, c_max=5.0, iteration_threshold=100)
  np.testing.assert_allclose(aux['capacity'], capacity, rtol=1e-6)
  np.testing.assert_allclose(
      loss, aux['recon'] + 3.0 * abs(aux['kl'] - capacity), rtol=1e-5)


def test_dip_lambda_d_none_is_d_factor_times_lambda_od():
  model, params, batch, obj, _, key = _setup('dip_vae_i')
  _, a = _loss(obj, params, batch, key, model, lambda_od=2.0, lambda_d=None)
  _, b = _loss(obj, params, batch, key, model, lambda_od=2.0, lambda_d=20.0)
  np.testing.assert_allclose(a['dip'], b['dip'])
  assert objectives.DipVAEIHparams() == objectives.DipVAEIHparams(10.0, 100.0)
  assert objectives.DipVAEIIHparams().lambda_d == 10.0


def test_hyperparameter_types_come_from_the_dataclasses():
  types = base.hparam_types(objectives.OBJECTIVES.values())
  assert types == {'beta': float, 'gamma': float, 'c_max': float,
                   'iteration_threshold': int, 'lambda_od': float,
                   'lambda_d': float, 'rate': float, 'k': int}
  assert list(types)[:4] == ['beta', 'gamma', 'c_max', 'iteration_threshold']

  @dataclasses.dataclass(frozen=True)
  class IntBeta:
    beta: int = 1

  other = base.Objective(objectives.beta_vae, IntBeta)
  with pytest.raises(TypeError, match="'beta' is float in one objective"):
    base.hparam_types([objectives.get('beta_vae'), other])


def test_factor_vae_constant_discriminator():
  model, params, batch, obj, state, key = _setup('factor_vae')
  # Zero the last layer's kernel: logits = its bias for every z.
  disc = jax.tree_util.tree_map(lambda x: x, state.own['disc_params'])
  disc['Dense_6'] = {'kernel': jnp.zeros_like(disc['Dense_6']['kernel']),
                     'bias': jnp.array([1.5, -0.5])}
  state = state.replace(own={**state.own, 'disc_params': disc})
  loss, aux = jax.jit(lambda s: _loss(obj, params, batch, key, model, s,
                                      gamma=10.0))(state)
  np.testing.assert_allclose(aux['tc'], 2.0, rtol=1e-6)
  np.testing.assert_allclose(loss, aux['recon'] + aux['kl'] + 20.0, rtol=1e-5)
  disc_loss = objectives.factor_vae_disc_loss
  dloss, daux = jax.jit(functools.partial(disc_loss, model=model))(
      disc, params, batch, key)
  # -0.5 (log softmax_0 + log softmax_1) of logits (1.5, -0.5).
  logp = jax.nn.log_softmax(jnp.array([1.5, -0.5]))
  np.testing.assert_allclose(dloss, -0.5 * (logp[0] + logp[1]), rtol=1e-5)
  np.testing.assert_allclose(daux['disc_accuracy'], 0.5)
  grads = jax.jit(jax.grad(lambda d: disc_loss(d, params, batch, key,
                                                model=model)[0]))(disc)
  assert all(np.all(np.isfinite(g)) for g in jax.tree_util.tree_leaves(grads))
  assert objectives.DISC_OPTIMIZER == {'learning_rate': 1e-4, 'b1': 0.5,
                                       'b2': 0.9}


def test_factor_vae_update_is_one_adam_step_of_the_discriminator():
  model, params, batch, obj, state, key = _setup('factor_vae')
  ctx = _context(model)
  own, metrics = jax.jit(functools.partial(
      obj.update_own, hparams=obj.hparams(), ctx=ctx))(state.own, params,
                                                       batch, key)
  assert set(metrics) == {'disc', 'disc_accuracy'}
  tx = optax.adam(**objectives.DISC_OPTIMIZER)

  @jax.jit
  def adam_step(disc):
    grads = jax.grad(lambda d: objectives.factor_vae_disc_loss(
        d, params, batch, key, model=model)[0])(disc)
    updates, _ = tx.update(grads, tx.init(disc), disc)
    return optax.apply_updates(disc, updates)

  expected = adam_step(state.own['disc_params'])
  # Adam's first step moves each weight by about lr = 1e-4 in the sign of
  # its gradient; separately compiled programs may round a near-zero
  # gradient otherwise, moving that weight by up to 2 lr: the rest agree.
  a, b = (np.concatenate([np.ravel(x) for x in jax.tree.leaves(t)])
          for t in (own['disc_params'], expected))
  np.testing.assert_allclose(a, b, rtol=0, atol=2e-4)
  assert np.mean(np.abs(a - b) < 1e-6) > 0.999
  # Objectives without an update keep their state and add no metrics.
  beta = objectives.get('beta_vae')
  assert beta.update_own({}, params, batch, key, hparams=beta.hparams(),
                         ctx=ctx) == ({}, {})


def test_pcl_separates_identical_pairs():
  # image2 == image: real pairs have |h2 - h1| = 0, shuffled pairs do not, so
  # with a = 1, b = c = 0 real logits are 0 and fake ones negative.
  model, params, batch, obj, state, key = _setup('pcl')
  batch = {'image': batch['image'], 'image2': batch['image']}
  _, aux = _loss(obj, params, batch, key, model, state)
  np.testing.assert_allclose(aux['recon'], 0.0)
  # Accuracy: real logits are exactly 0 (not > 0), fakes < 0: 0.5 * (0 + 1).
  np.testing.assert_allclose(aux['pcl_accuracy'], 0.5)


def test_ada_gvae_identical_pair_averages_every_latent():
  model, params, batch, obj, _, key = _setup('ada_gvae')
  batch = {'image': batch['image'], 'image2': batch['image']}
  _, aux = _loss(obj, params, batch, key, model)
  # All KLs equal (0): disentanglement_lib averages every latent.
  np.testing.assert_allclose(aux['num_shared'], D)


def test_slow_vae_terms_add_up():
  model, params, batch, obj, _, key = _setup('slow_vae')
  l1, a = _loss(obj, params, batch, key, model, beta=1.0, gamma=10.0)
  l2, b = _loss(obj, params, batch, key, model, beta=2.0, gamma=3.0)
  np.testing.assert_allclose(l1, a['recon'] + a['kl'] + 10 * a['kl_transition'],
                             rtol=1e-5)
  np.testing.assert_allclose(
      l2, b['recon'] + 2 * b['kl'] + 3 * b['kl_transition'], rtol=1e-5)


@pytest.mark.slow
def test_conv_beta_vae_64x64():
  model, params, batch, obj, _, key = _setup('beta_vae', shape=(64, 64, 1),
                                             architecture='conv', batch=1)
  (loss, _), grads = jax.jit(jax.value_and_grad(
      lambda p: _loss(obj, p, batch, key, model, beta=4.0),
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
  model, params, batch, obj, state, key = _setup(name)

  @functools.partial(jax.jit, static_argnames='weight')
  def loss(weight):
    return _loss(obj, params, batch, key, model, state, step=jnp.int32(10),
                 recon='l2', recon_weight=weight)

  loss_1, aux_1 = loss(1.0)
  loss_c, aux_c = loss(40.0)
  np.testing.assert_allclose(aux_c['recon'], aux_1['recon'], rtol=1e-6)
  np.testing.assert_allclose(loss_c, loss_1 + 39.0 * aux_1['recon'],
                             rtol=1e-5, atol=1e-4)
  if name == 'pcl':  # No decoder: the weight changes nothing.
    np.testing.assert_array_equal(loss_c, loss_1)


def test_discriminator_size_from_the_context():
  model, params, batch, obj, _, key = _setup('factor_vae')
  ctx = _context(model, disc_hidden=8, disc_layers=2)
  state = obj.init(jax.random.key(4), jax.random.key(5), ctx)
  disc = state.own['disc_params']
  assert sorted(disc) == ['Dense_0', 'Dense_1', 'Dense_2']
  assert disc['Dense_0']['kernel'].shape == (D, 8)
  assert disc['Dense_2']['kernel'].shape == (8, 2)
  loss, aux = _loss(obj, params, batch, key, model, state)
  dloss, _ = objectives.factor_vae_disc_loss(disc, params, batch, key,
                                             model=model)
  assert np.isfinite(loss) and np.isfinite(aux['tc']) and np.isfinite(dloss)
  default = networks.discriminator_init(jax.random.key(5), D)
  assert len(default) == 7 and default['Dense_0']['kernel'].shape == (D, 1000)


def test_hparam_defaults_have_one_home_and_no_loss_default():
  # The configs' '*' rows are the dataclass defaults (configs/default.py).
  assert objectives.default_hparams('beta_vae') == {'beta': 4.0}
  assert objectives.default_hparams('factor_vae') == {'gamma': 35.0}
  assert objectives.default_hparams('ada_gvae') == {'beta': 1.0, 'k': 1}
  assert objectives.default_hparams('ae') == {}
  assert objectives.get('slow_vae').hparam_names == ('beta', 'gamma', 'rate')
  for name, obj in objectives.OBJECTIVES.items():
    assert dataclasses.is_dataclass(obj.hparams), name
    hp = obj.hparams()
    with pytest.raises(dataclasses.FrozenInstanceError):
      setattr(hp, 'beta', 0.0)


@pytest.mark.parametrize('name,kind', [('beta_vae', 'single'),
                                       ('slow_vae', 'temporal'),
                                       ('pcl', 'temporal'),
                                       ('ada_gvae', 'shared')])
def test_each_objective_draws_its_own_batch_kind(name, kind):
  obj = objectives.get(name)
  sizes = (3, 4, 5)
  factors = obj.sample_factors(jax.random.key(1), sizes, 16, obj.hparams())
  assert len(factors) == (1 if kind == 'single' else 2)
  assert all(f.shape == (16, 3) and f.dtype == jnp.int32 for f in factors)
  if kind == 'shared':  # k = 1: pairs differ in at most one factor.
    assert int((np.asarray(factors[0]) !=
                np.asarray(factors[1])).sum(-1).max()) <= 1


def test_shared_pairs_k_below_one_draws_k_per_pair():
  obj = objectives.get('ada_gvae')
  sizes = (3, 4, 5, 6)
  for k in (0, -1, None):
    w1, w2 = obj.sample_factors(jax.random.key(2), sizes, 64,
                                obj.hparams(k=k))
    assert int((np.asarray(w1) != np.asarray(w2)).sum(-1).max()) >= 2
