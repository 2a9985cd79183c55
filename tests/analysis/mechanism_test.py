"""The 2019 mechanism check (Rolinek et al., CVPR 2019, Section 5).

On linear data with orthogonal generator columns of distinct norms, a
beta-VAE in the polarized regime has a decoder whose Jacobian columns (at
the posterior means, active latents only) are nearly orthogonal, i.e. its
latent axes follow the PCA directions; a plain autoencoder's are not.
"""

import numpy as np
import pytest

from disent_bias.configs import default
from disent_bias.data import synthetic
from disent_bias.studies import experiment

NUM_SEEDS = 3
# The beta-VAE's decoder columns turn orthogonal slowly (median DtO over 3
# seeds: 0.33 after 3,000 steps, 0.25 after 10,000, 0.16 after 30,000, 0.10
# after 100,000); the AE's stay far from it (1.07 after 3,000 steps, 1.05
# after 30,000), so it trains the shorter budget.
NUM_STEPS = {'beta_vae': 30_000, 'ae': 3_000}


def _config(model_name):
  config = default.get_config(f'model={model_name},dataset=synthetic_linear')
  config.model.architecture = 'mlp'
  config.model.hidden = (32, 32)
  config.model.recon = 'l2'
  config.model.num_latents = 3
  if model_name == 'beta_vae':
    # Polarized regime: posterior variances 0.03-0.2 (measured), all three
    # latents active; the squashed [0, 1] data (column norms < 0.5) would
    # need beta ~ 0.003, where the orthogonality pressure is too weak to act
    # within a CI budget (measured DtO 0.55 +- 0.27 after 5,000 steps).
    config.model.hparams.beta = 0.2
  config.optimizer.lr = 2e-3
  return config


@pytest.mark.slow
def test_beta_vae_decoder_follows_pca_directions_but_ae_does_not():
  dataset = synthetic.make_linear(num_factors=3, factor_size=20, dim=10,
                                  scales=(3.0, 2.0, 1.2), squash=False)
  dto = {}
  for name, active_only in (('beta_vae', True), ('ae', False)):
    model, params, losses = experiment.train_seeds(
        _config(name), dataset, num_seeds=NUM_SEEDS, num_steps=NUM_STEPS[name])
    assert np.isfinite(losses).all()
    dto[name], active = experiment.seed_decoder_dto(
        model, params, dataset, recon='l2', active_only=active_only)
    assert (active == 3).all(), (name, active)
  # Measured (3 seeds, as here): beta-VAE median DtO 0.196 / 0.173 / 0.122
  # (0.164 +- 0.031), AE 1.302 / 0.861 / 1.049 (1.071 +- 0.181). The 2019
  # paper's beta-VAE reaches 0.00 +- 0.00 after much longer training (here
  # 0.10 after 100,000 steps, see NUM_STEPS); the margins below are about
  # half the measured gap.
  assert dto['beta_vae'].mean() < 0.3, dto
  assert dto['ae'].mean() > 0.8, dto
  assert dto['beta_vae'].max() < dto['ae'].min(), dto


def test_unsquashed_linear_data_has_the_given_column_norms():
  dataset = synthetic.make_linear(num_factors=3, factor_size=5, dim=6,
                                  scales=(3.0, 2.0, 1.2), squash=False)
  m = dataset.info['matrix']
  np.testing.assert_allclose(np.linalg.norm(m, axis=0), [3.0, 2.0, 1.2],
                             rtol=1e-5)
  np.testing.assert_allclose(m.T @ m, np.diag([9.0, 4.0, 1.44]), atol=1e-4)
  f = dataset.all_factors()
  x = np.asarray(dataset.render(f))
  w = dataset.info['values'][f]
  np.testing.assert_allclose(x, w @ m.T, atol=1e-5)  # x = A w, unclipped
  assert x.min() < 0.0 and x.max() > 1.0
