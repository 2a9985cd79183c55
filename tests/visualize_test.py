"""Tests of the traversals and ``visualize_workdir`` on a trained toy run."""

import os

import numpy as np
from PIL import Image

from disent_bias import traversals
from disent_bias import visualize


def test_vectors_become_filled_curves():
  images = traversals.as_images(np.array([[0.0, 0.5, 1.0]]), curve_height=4)
  assert images.shape == (1, 4, 3, 1)
  # Column x is lit from the bottom up to its value's height.
  np.testing.assert_array_equal(images[0, :, :, 0],
                                [[0, 0, 1], [0, 0, 1], [0, 1, 1], [0, 1, 1]])


def test_latents_are_ordered_by_kl_and_traversed_over_the_posterior():
  mu = np.array([[0.0, 2.0], [0.0, -2.0], [0.0, 0.0]], np.float32)
  logvar = np.zeros_like(mu)
  encode = lambda p, x: (mu[:len(x)], logvar[:len(x)])
  decode = lambda p, z: np.repeat(z[:, 1:], 4, axis=1)  # Shows latent 1.
  out = traversals.model_images(encode, decode, None, np.zeros((3, 4)),
                                recon='l2', steps=5, rows=2)
  # Latent 1 carries KL 0.5 * 8 / 3, latent 0 none.
  np.testing.assert_allclose(out.kl, [0.0, 4.0 / 3.0])
  assert out.order.tolist() == [1, 0]
  np.testing.assert_allclose(out.ranges[1], np.percentile([2, -2, 0], [2, 98]))
  assert out.traversals.shape == (2, 5, 2, traversals.CURVE_HEIGHT, 4, 1)
  # Rank 0 sweeps latent 1 (the image changes), rank 1 latent 0 (it does not).
  assert not np.array_equal(out.traversals[0, 0], out.traversals[0, -1])
  np.testing.assert_array_equal(out.traversals[1, 0], out.traversals[1, -1])


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
      assert gif.size == (128 + 2, 3 * (traversals.CURVE_HEIGHT + 1) + 1)
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
