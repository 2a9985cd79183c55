"""Tests of ``experiments.export``: a user dataset's variant written and read."""

import os
import subprocess
import sys

import numpy as np

from disent_bias import data
from disent_bias.data import export

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
ENV = dict(os.environ, JAX_PLATFORMS='cpu', JAX_DISABLE_MOST_OPTIMIZATIONS='1',
           PYTHONPATH=REPO)


def _export(*flags):
  return subprocess.run([sys.executable, '-m', 'experiments.export', *flags],
                        cwd=REPO, env=ENV, capture_output=True, text=True,
                        timeout=600)


def test_noise_variant_of_a_user_file(tmp_path):
  space = data.StateSpace((2, 5), ('a', 'b'))
  images = np.random.default_rng(0).random((10, 4, 4, 1), dtype=np.float32)
  mine = data.from_arrays(images, space.all_factors(), space.factor_names,
                          space.factor_sizes)
  source = export.export(mine, tmp_path / 'mine.npz')
  out = tmp_path / 'noise.h5'
  proc = _export('--dataset=arrays', f'--path={source}', '--variant=noise',
                 '--epsilon=0.05', f'--out={out}')
  assert proc.returncode == 0, proc.stderr
  noise = data.variants.apply_variant(data.from_arrays(source), 'noise', 0.05)
  np.testing.assert_array_equal(
      data.from_arrays(str(out)).render(space.all_factors()),
      export.render_grid(noise))
  proc = _export('--dataset=arrays', f'--path={source}', '--layout=dsprites',
                 f'--out={tmp_path / "d.npz"}')
  assert proc.returncode != 0
  assert 'ValueError: the dsprites layout needs the factors' in proc.stderr
  assert 'Traceback' not in proc.stderr
