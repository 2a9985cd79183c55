"""experiments.encoder_forms on a short conv run: both forms, same codes."""

import numpy as np
import pytest

from disent_bias.configs import default
from disent_bias.training import train
from experiments import encoder_forms


@pytest.mark.slow
def test_both_forms_encode_a_conv_run_alike(tmp_path):
  config = default.get_config('model=beta_vae,dataset=dsprites,runlocal')
  config.train.num_steps = 2
  config.train.steps_per_call = 2
  config.log_every_steps = 2
  config.eval_every_steps = 100
  config.checkpoint_every_steps = 2
  config.eval.num_images = 2
  config.eval.traversal_steps = 3
  config.eval.num_summary_images = 4
  config.metrics.names = ()
  train.train_and_evaluate(config, str(tmp_path))
  rows = encoder_forms.compare_run(str(tmp_path), ['mig'], num_train=200,
                                   num_test=100)
  assert [r['seed'] for r in rows] == list(range(config.train.num_seeds))
  # The same function in another summation order: float32 rounding only.
  assert all(0 <= r['max_code_diff'] < 1e-4 for r in rows), rows
  for r in rows:
    native, matmul = r['scores']['native']['mig'], r['scores']['matmul']['mig']
    assert np.isfinite(native) and np.isfinite(matmul)
  text = encoder_forms.table(rows)
  assert text.count('\n| ') == len(rows) and 'mig native / matmul' in text
