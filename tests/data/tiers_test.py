"""Tests of the image tier (``data.tiers``): 32x32 look-alikes on reduced
grids."""

import jax
import numpy as np
import pytest

from disent_bias import data
from disent_bias.data import dsprites
from disent_bias.data import shapes3d
from disent_bias.data import tiers

pytestmark = pytest.mark.usefixtures('fast_compiles_module')


@pytest.mark.parametrize('name,sizes', [('dsprites32', (3, 16, 16)),
                                        ('shapes3d32', (10, 10, 10))])
def test_image_tier_grids_and_perturbation_guarantees(name, sizes):
  original = data.load(name)
  assert original.factor_sizes == sizes
  assert original.observation_shape[:2] == (32, 32)
  factors = original.all_factors()
  base_images = np.asarray(jax.jit(original.render)(factors))
  flat = base_images.reshape(len(factors), -1)
  # Every grid point is a distinct image, before and after the variants.
  assert len(np.unique(flat, axis=0)) == len(factors)
  for variant in ('perturbed', 'noise'):
    d = data.load(name, variant=variant)
    images = np.asarray(jax.jit(d.render)(factors))
    assert d.epsilon > 0
    assert np.abs(images - base_images).max() <= d.epsilon + 1e-6
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert len(np.unique(images.reshape(len(factors), -1), axis=0)) == len(
        factors)
    np.testing.assert_array_equal(images, np.asarray(d.render(factors)))


def test_dsprites32_renders_the_chosen_values_of_the_32px_sprites():
  d = tiers.make_dsprites32()
  assert (d.name, d.factor_names) == ('dsprites32', ('scale', 'posX', 'posY'))
  # Index i of a kept factor is its i-th chosen value of the full grid.
  f = np.array([[0, 3, 7], [2, 15, 0]])
  full = np.array([[1, 1, 0, 6, 14], [1, 5, 0, 30, 0]])
  scene = dsprites.make_dsprites(image_size=tiers.IMAGE_SIZE)
  np.testing.assert_array_equal(np.asarray(d.render(f)),
                                np.asarray(scene.render(full)))


def test_shapes3d32_renders_the_narrow_hue_grid_of_the_32px_scene():
  d = tiers.make_shapes3d32()
  assert d.name == 'shapes3d32'
  assert d.factor_names == ('floor_hue', 'wall_hue', 'object_hue')
  f = np.array([[0, 9, 4], [5, 5, 5]])
  full = np.concatenate([f, np.full((2, 3), [7, 0, 7])], axis=1)
  scene = shapes3d.make_shapes3d(image_size=tiers.IMAGE_SIZE,
                                 hue_range=tiers.SHAPES3D32_HUE_RANGE)
  np.testing.assert_allclose(scene.info['hues'][[0, -1]], [0.0, 0.16])
  np.testing.assert_array_equal(np.asarray(d.render(f)),
                                np.asarray(scene.render(full)))


@pytest.mark.parametrize('name', sorted(tiers.DATASETS))
def test_tiers_are_loaded_by_name_and_take_no_options(name):
  assert data.load(name).name == name
  with pytest.raises(ValueError) as info:
    data.load(name, image_size=64, colour='red')
  assert str(info.value) == (f'{name} takes no options (its grid is fixed), '
                             f'got colour, image_size')
