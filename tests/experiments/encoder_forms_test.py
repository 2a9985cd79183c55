"""experiments.encoder_forms: both forms of a conv encoder, same codes."""

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias import data
from disent_bias.models import networks
from experiments import encoder_forms


def test_both_forms_encode_a_conv_model_alike():
  dataset = data.load('dsprites32')
  model = networks.VAE(num_latents=4, observation_shape=(32, 32, 1),
                       architecture='conv')
  params = model.init(jax.random.key(0), jnp.zeros((1, 32, 32, 1)))['params']
  rows = [{'run': 'initialised', **encoder_forms.compare_seed(
      model, params, dataset, ['mig'], seed, num_train=200, num_test=100)}
          for seed in (0, 1)]
  # The same function in another summation order: float32 rounding only.
  assert all(0 <= r['max_code_diff'] < 1e-4 for r in rows), rows
  for r in rows:
    native, matmul = r['scores']['native']['mig'], r['scores']['matmul']['mig']
    assert np.isfinite(native) and np.isfinite(matmul)
  text = encoder_forms.table(rows)
  assert text.count('\n| ') == len(rows) and 'mig native / matmul' in text
