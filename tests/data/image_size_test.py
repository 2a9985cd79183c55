"""Procedural datasets at other image sizes, and reduced factor grids."""

import jax
import numpy as np
import pytest

from disent_bias import data
from disent_bias.data import base
from disent_bias.data import dsprites
from disent_bias.data import shapes3d

pytestmark = pytest.mark.usefixtures('fast_compiles_module')


@pytest.mark.parametrize('name,channels', [('dsprites', 1), ('shapes3d', 3)])
def test_32px_images_have_the_grid_and_bounds(name, channels):
  d = data.load(name, image_size=32)
  assert d.observation_shape == (32, 32, channels)
  assert d.factor_sizes == data.load(name).factor_sizes
  f = d.sample_factors(jax.random.key(0), 8)
  x = np.asarray(jax.jit(d.render)(f))
  assert x.shape == (8, 32, 32, channels)
  assert 0.0 <= x.min() and x.max() <= 1.0
  if name == 'dsprites':
    assert set(np.unique(x)) <= {0.0, 1.0}
    # The outermost pixel ring stays black at the smaller size too.
    ring = np.concatenate([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]])
    assert ring.max() == 0.0


def test_32px_sprite_is_the_64px_sprite_at_half_resolution():
  f = np.array([[0, 5, 0, 16, 16], [1, 3, 10, 4, 25], [2, 0, 20, 31, 0]])
  big = np.asarray(data.load('dsprites').render(f))
  small = np.asarray(data.load('dsprites', image_size=32).render(f))
  # Same sprite, a quarter of the area (up to pixelisation at the edges).
  ratio = small.sum((1, 2, 3)) / big.sum((1, 2, 3))
  np.testing.assert_allclose(ratio, 0.25, atol=0.06)
  assert dsprites.unit_px(32) == dsprites.UNIT_PX / 2


@pytest.mark.parametrize('size', [0, 24, 33, 32.0, True])
def test_bad_image_sizes_are_refused(size):
  with pytest.raises(ValueError, match='multiple of 16'):
    data.load('dsprites', image_size=size)
  with pytest.raises(ValueError, match='multiple of 16'):
    shapes3d.make_shapes3d(image_size=size)


def test_unknown_options_are_refused():
  with pytest.raises(ValueError, match='only image_size'):
    data.load('dsprites', colour='red')


def test_subgrid_keeps_chosen_values_and_drops_constants():
  d = data.load('dsprites', image_size=32)
  sub = base.subgrid(d, {'shape': [1], 'orientation': [0],
                         'posX': range(0, 32, 2), 'scale': [0, 5]},
                     name='sprites_sub')
  assert sub.name == 'sprites_sub'
  assert sub.factor_names == ('scale', 'posX', 'posY')
  assert sub.factor_sizes == (2, 16, 32)
  assert sub.info['subgrid']['posX'] == list(range(0, 32, 2))
  f = np.array([[0, 3, 7], [1, 15, 31]])
  full = np.array([[1, 0, 0, 6, 7], [1, 5, 0, 30, 31]])
  np.testing.assert_array_equal(np.asarray(sub.render(f)),
                                np.asarray(d.render(full)))


@pytest.mark.parametrize('values,match', [
    ({'colour': [0]}, 'no factor'),
    ({'shape': []}, 'non-empty'),
    ({'shape': [3]}, 'subset of 0..2'),
])
def test_subgrid_refuses_bad_values(values, match):
  with pytest.raises(ValueError, match=match):
    base.subgrid(data.load('dsprites', image_size=32), values)


def test_shapes3d_hue_range_sets_the_hue_grid():
  d = shapes3d.make_shapes3d(image_size=16, hue_range=(0.0, 0.16))
  np.testing.assert_allclose(d.info['hues'], np.linspace(0, 0.16, 10))
  with pytest.raises(ValueError, match='hue_range'):
    shapes3d.make_shapes3d(hue_range=(0.5, 0.2))
