"""Tests of ``visualize_workdir`` on a trained toy run (the traversals:
traversals_test.py)."""

import os

import numpy as np
from PIL import Image

from disent_bias.tools import visualize
from disent_bias.utils import images as images_lib


def test_visualize_writes_gifs_and_plots(toy_run, tmp_path):
  out = visualize.visualize_workdir(toy_run, str(tmp_path), num_images=3,
                                    traversal_steps=5, num_points=200,
                                    scale=1)
  assert out['step'] == 20
  names = sorted(os.path.basename(p) for p in out['files'])
  gifs = [n for n in names if n.endswith('.gif')]
  assert len(gifs) == 3  # One per latent of the toy tier.
  assert [n.split('_')[2] for n in sorted(gifs)] == ['rank0', 'rank1',
                                                     'rank2']
  assert {'reconstructions_seed0.png', 'posterior_seed0.png',
          'mutual_information_seed0.png'} <= set(names)
  for name in gifs:
    with Image.open(tmp_path / name) as gif:
      assert gif.n_frames == 5
      # Three 128-value curves of 24 pixels, stacked, 1-pixel padding.
      assert gif.size == (128 + 2, 3 * (images_lib.CURVE_HEIGHT + 1) + 1)
  for name in names:
    assert os.path.getsize(tmp_path / name) > 0
  # The train loop's eval images come from the same functions.
  assert sorted(os.listdir(os.path.join(toy_run, 'images',
                                        'step_00000020'))) == [
                                            'reconstructions_seed0.png',
                                            'traversals_seed0.png']


def test_mutual_information_of_identity_codes_is_one_on_the_diagonal():
  factors = np.stack(np.meshgrid(np.arange(4), np.arange(5)), -1).reshape(-1, 2)
  matrix = visualize.mutual_information(factors.astype(np.float32), factors)
  np.testing.assert_allclose(np.diag(matrix), 1.0, atol=1e-6)
  assert matrix[0, 1] < 0.05 and matrix[1, 0] < 0.05
