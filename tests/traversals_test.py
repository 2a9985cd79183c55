"""Tests of the reconstructions and latent traversals (``traversals``)."""

import numpy as np
import pytest

from disent_bias.analysis import traversals
from disent_bias.utils import images as images_lib


def test_vectors_become_filled_curves():
  images = images_lib.from_observations(np.array([[0.0, 0.5, 1.0]]), curve_height=4)
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
  assert out.traversals.shape == (2, 5, 2, images_lib.CURVE_HEIGHT, 4, 1)
  # Rank 0 sweeps latent 1 (the image changes), rank 1 latent 0 (it does not).
  assert not np.array_equal(out.traversals[0, 0], out.traversals[0, -1])
  np.testing.assert_array_equal(out.traversals[1, 0], out.traversals[1, -1])


def test_images_pass_through_clipped_and_other_shapes_are_refused():
  x = np.array([-1.0, 0.25, 2.0]).reshape(1, 1, 3, 1)
  np.testing.assert_array_equal(images_lib.from_observations(x),
                                [[[[0.0], [0.25], [1.0]]]])
  with pytest.raises(ValueError, match=r'got shape \(2, 3, 4\)'):
    images_lib.from_observations(np.zeros((2, 3, 4)))


def test_latent_ranges_are_the_2nd_and_98th_percentiles():
  mu = np.stack([np.arange(101.0), -2.0 * np.arange(101.0),
                 np.full(101, 3.0)], axis=1)
  np.testing.assert_allclose(traversals.latent_ranges(mu),
                             [[2.0, 98.0], [-196.0, -4.0], [3.0, 3.0]])


def test_traversal_codes_sweep_one_latent_over_its_range():
  base = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
  ranges = np.array([[0.0, 1.0], [-1.0, 3.0], [5.0, 5.0]])
  codes = traversals.traversal_codes(base, ranges, latent=1, steps=5)
  assert codes.shape == (5, 2, 3)
  # Evenly spaced from low to high, the same for every row.
  np.testing.assert_allclose(codes[:, :, 1], [[-1, -1], [0, 0], [1, 1],
                                              [2, 2], [3, 3]])
  # The other latents keep their values.
  np.testing.assert_array_equal(codes[:, :, [0, 2]],
                                np.broadcast_to(base[:, [0, 2]], (5, 2, 2)))
  np.testing.assert_array_equal(base, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def test_grid_rows_are_latents_by_kl_and_columns_their_values():
  mu = np.array([[0.2, 2.0, 1.0], [0.6, -2.0, 0.5], [1.0, 0.0, 0.0]])
  encode = lambda p, x: (mu[:len(x)], np.zeros_like(mu[:len(x)]))
  # 6x5 images whose pixels are the value of latent 0.
  decode = lambda p, z: np.broadcast_to(z[:, :1, None, None], (len(z), 6, 5, 1))
  out = traversals.model_images(encode, decode, None, np.zeros((3, 6, 5, 1)),
                                recon='l2', steps=4, rows=2)
  # KL 0.5 * mean(mu^2): 4/3, 0.7/3 and 0.625/3.
  np.testing.assert_allclose(out.kl, np.array([1.4, 8.0, 1.25]) / 6)
  assert out.order.tolist() == [1, 0, 2]
  assert out.inputs.shape == out.reconstructions.shape == (2, 6, 5, 1)
  assert out.traversals.shape == (3, 4, 2, 6, 5, 1)
  # Latent rows by KL, value columns, 1-pixel white padding.
  grid = traversals.traversal_grid(out, row=1)
  assert grid.shape == (3 * 7 + 1, 4 * 6 + 1, 1) and grid.dtype == np.uint8
  assert grid[0].min() == 255 and grid[:, 0].min() == 255
  # Row 1 sweeps latent 0 over its range: 4 evenly spaced values.
  low, high = np.percentile([0.2, 0.6, 1.0], [2, 98])
  for column, value in enumerate(np.linspace(low, high, 4)):
    cell = grid[8:14, 1 + 6 * column:6 + 6 * column]
    np.testing.assert_array_equal(cell, int(value * 255 + 0.5))
  # Row 0 sweeps latent 1: input 1's latent 0 (0.6) shows in every column.
  np.testing.assert_array_equal(grid[1:7, 1:6], int(0.6 * 255 + 0.5))
  assert traversals.reconstruction_grid(out).shape == (2 * 7 + 1, 2 * 6 + 1,
                                                       1)
  # Images no wider than twice their height: the R inputs side by side.
  frames = traversals.traversal_frames(out, 0)
  assert frames.shape == (4, 1 * 7 + 1, 2 * 6 + 1, 1)
