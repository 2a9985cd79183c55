"""Smoke test of the noise control study (``studies.noise_control``) at a
few steps."""

import json
import os

import numpy as np
import pytest

from disent_bias.studies import noise_control


@pytest.mark.usefixtures('fast_compiles')
def test_noise_control_writes_its_records(tmp_path):
  records = noise_control.run('beta_vae', ['0.1'], str(tmp_path),
                              num_seeds=2, num_steps=10, num_points=300)
  assert [(r['variant'], r['epsilon']) for r in records] == [
      ('original', 0.0), ('perturbed', 0.1), ('noise', 0.1)]
  with open(os.path.join(tmp_path, 'noise_control.json'),
            encoding='utf-8') as f:
    assert json.load(f) == records
  for r in records:
    assert len(r['mig']) == len(r['ceiling']) == len(r['ratio']) == 2
    np.testing.assert_allclose(r['ratio'],
                               np.asarray(r['mig']) / np.mean(r['ceiling']))
    assert np.isfinite(r['code_readout_mig']).all()
    assert 0.0 <= r['image_readout_mig'] <= 1.0
  table = open(os.path.join(tmp_path, 'table.md'), encoding='utf-8').read()
  assert table.count('\n| ') == 4  # Header and three variants.
