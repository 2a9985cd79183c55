"""Tests of the dataset overview PNG helpers (layout, traversals, files)."""

import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from disent_bias.data import base
from disent_bias.utils import images as images_lib
from disent_bias.utils import plotting


def _bars(is_pure=True):
  """A 2-factor grid (3 x 4) of 2x5 grey images: factor 1 lights column f1."""

  def render(factors):
    xp = jnp if is_pure else np
    factors = xp.asarray(factors)
    cols = xp.arange(5)[None, None, :, None]
    lit = cols == factors[:, 1][:, None, None, None]
    return xp.where(lit, 1.0, factors[:, 0][:, None, None, None] / 4.0
                    ) * xp.ones((1, 2, 5, 1))

  return base.GroundTruthData('bars', (3, 4), ('level', 'column'), (2, 5, 1),
                              render, is_pure=is_pure)


def test_to_images_makes_rgb_and_clips():
  x = images_lib.from_observations(np.full((2, 3, 4, 1), 1.5), vectors='strip', rgb=True)
  assert x.shape == (2, 3, 4, 3) and x.max() == 1.0
  vectors = images_lib.from_observations(np.linspace(-1, 1, 6).reshape(2, 3), vectors='strip', rgb=True)
  assert vectors.shape == (2, 1, 3, 3) and vectors.min() == 0.0
  with pytest.raises(ValueError, match='got shape'):
    images_lib.from_observations(np.zeros((2, 3, 4, 2)), rgb=True)


def test_tile_rows_layout():
  images = np.stack([np.full((2, 3, 1), v) for v in (0.0, 0.2, 1.0)])
  grid = plotting.tile_rows(images, num_cols=2, pad=1, pad_value=0.5)
  # 2 rows x 2 columns of 2x3 cells, 1-pixel borders.
  assert grid.shape == (2 * 3 + 1, 2 * 4 + 1, 3) and grid.dtype == np.float32
  np.testing.assert_array_equal(grid[1:3, 1:4], 0.0)
  np.testing.assert_allclose(grid[1:3, 5:8], 0.2)
  np.testing.assert_array_equal(grid[4:6, 1:4], 1.0)
  np.testing.assert_array_equal(grid[4:6, 5:8], 0.5)  # Empty last cell.
  np.testing.assert_array_equal(grid[0], 0.5)
  np.testing.assert_array_equal(grid[:, 4], 0.5)
  with pytest.raises(ValueError, match='num_cols'):
    plotting.tile_rows(images, num_cols=0)


def test_tile_rows_of_nothing_is_one_empty_row():
  grid = plotting.tile_rows(np.zeros((0, 2, 2, 3)), num_cols=3)
  assert grid.shape == (1 * 3 + 1, 3 * 3 + 1, 3)
  np.testing.assert_array_equal(grid, 0.5)


def test_traversal_values_and_factors():
  np.testing.assert_array_equal(plotting.traversal_values(4), [0, 1, 2, 3])
  values = plotting.traversal_values(40, max_values=5)
  np.testing.assert_array_equal(values, [0, 10, 20, 29, 39])
  rows = plotting.traversal_factors([2, 1, 0], factor=1, size=3)
  np.testing.assert_array_equal(rows, [[2, 0, 0], [2, 1, 0], [2, 2, 0]])
  assert rows.dtype == np.int32


@pytest.mark.parametrize('is_pure', [True, False])
def test_dataset_overview_rows_are_traversals(is_pure):
  import jax  # pylint: disable=g-import-not-at-top
  dataset = _bars(is_pure)
  samples, rows = plotting.dataset_overview(dataset, jax.random.key(0),
                                            num_samples=4, max_values=4)
  assert samples.shape == (1 * 3 + 1, 4 * 6 + 1, 3)
  assert [name for name, _ in rows] == ['level (3/3)', 'column (4/4)']
  column_row = rows[1][1]
  # Cell c of the column traversal lights image column c.
  for c in range(4):
    cell = column_row[1:3, 1 + c * 6:6 + c * 6, 0]
    np.testing.assert_array_equal(cell[:, c], 1.0)


def test_save_dataset_overview_writes_a_png(tmp_path):
  path = plotting.save_dataset_overview(
      _bars(), str(tmp_path / 'sub' / 'bars.png'), num_samples=4,
      max_values=4)
  with Image.open(path) as image:
    assert image.format == 'PNG' and image.width > 0


def test_save_png_round_trip(tmp_path):
  image = np.zeros((3, 4, 3), np.float32)
  image[1, 2] = 1.0
  path = images_lib.save_png(str(tmp_path / 'x.png'), image)
  with Image.open(path) as png:
    pixels = np.asarray(png.convert('RGB'))
  assert pixels.shape == (3, 4, 3)
  assert pixels[1, 2].tolist() == [255, 255, 255] and pixels.sum() == 3 * 255


def test_overview_filename():
  assert plotting.overview_filename('dsprites', 'original') == 'dsprites.png'
  assert plotting.overview_filename('toy', 'noise') == 'toy_noise.png'
