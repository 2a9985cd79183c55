"""Model-side analysis: decoder Jacobians, polarisation, model_summary."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias import analysis
from disent_bias.analysis import model as model_lib
from disent_bias.models import networks

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


@pytest.fixture(scope='module')
def vae():
  m = networks.VAE(3, (6,), architecture='mlp', hidden=(8,))
  params = m.init(jax.random.key(0), jnp.zeros((1, 6)))['params']
  return m, params


@pytest.mark.parametrize('recon', ['l2', 'bernoulli'])
def test_decoder_jacobian_matches_autodiff(vae, recon):
  m, params = vae
  z = jax.random.normal(jax.random.key(1), (4, 3))
  got = analysis.decoder_jacobian(m, params, z, recon=recon)
  dec = lambda zz: m.apply({'params': params}, zz[None], method='decode')[0]
  for i in range(4):
    want = np.asarray(jax.jacrev(dec)(z[i]))
    if recon == 'bernoulli':
      p = jax.nn.sigmoid(dec(z[i]))
      want = want * np.sqrt(p * (1 - p))[:, None]
    np.testing.assert_allclose(got[i], want, rtol=1e-4, atol=1e-6)


def test_delta_kl_and_polarized_threshold():
  kl = np.array([2.0, 1.0, 0.03])
  active = np.array([True, True, False])
  np.testing.assert_allclose(model_lib.delta_kl(kl, active), 0.03 / 3.03,
                             rtol=1e-6)
  assert model_lib.delta_kl(kl, np.array([True, False, False])) > 0.03
  assert model_lib.delta_kl(np.zeros(3), active) == 0.0


def test_model_summary_single_and_seed_axis(vae):
  m, params = vae
  images = jax.random.uniform(jax.random.key(2), (10, 6))
  single = analysis.model_summary(m, params, images, jax.random.key(3))
  stacked = jax.tree.map(lambda a: jnp.stack([a, a]), params)
  both = analysis.model_summary(m, stacked, images, jax.random.key(3))
  assert set(single) == set(both) >= {'active_latents', 'kl', 'delta_kl',
                                      'polarized', 'decoder_dto_median'}
  for k in single:
    np.testing.assert_allclose(both[k], single[k], rtol=1e-5, atol=1e-6)
  stats = analysis.posterior_stats(m, params, images)
  assert single['active_latents'] == float(stats['active'].sum())


def test_polarized_fraction():
  records = [{'eval/polarized': 1.0}, {'train/loss': 3.0},
             {'eval/polarized': 0.0}, {'eval/polarized': 1.0}]
  np.testing.assert_allclose(analysis.polarized_fraction(records), 2 / 3)
