"""Tests of data.export: the generic layout and the real files' layouts."""

import numpy as np
import pytest

from disent_bias import data
from disent_bias.data import base
from disent_bias.data import export
from disent_bias.data import shapes3d

pytestmark = pytest.mark.usefixtures('fast_compiles_module')

# Every factor keeps two values or more, so the grid has dSprites' factors.
_REDUCED = {'shape': [0, 2], 'scale': [0, 5], 'orientation': [0, 10],
            'posX': [4, 20], 'posY': [8, 24]}


@pytest.fixture(scope='module')
def sprites():
  return base.subgrid(data.load('dsprites'), _REDUCED)


@pytest.mark.parametrize('suffix', ['npz', 'h5'])
def test_perturbed_sprites_round_trip_bit_identically(sprites, tmp_path,
                                                      suffix):
  perturbed = data.variants.apply_variant(sprites, 'perturbed')
  path = export.export(perturbed, tmp_path / f'perturbed.{suffix}')
  written = export.render_grid(perturbed)
  loaded = data.from_arrays(path)
  assert loaded.factor_names == sprites.factor_names
  assert loaded.factor_sizes == sprites.factor_sizes == (2,) * 5
  assert loaded.observation_shape == (64, 64, 1) and not loaded.binary
  again = loaded.render(loaded.all_factors())
  assert again.dtype == np.float32
  np.testing.assert_array_equal(again, written)
  # The file holds the renders themselves, at their dtype.
  assert export.generic_arrays(loaded)['images'].dtype == np.float32
  np.testing.assert_array_equal(export.render_grid(loaded), written)


def test_original_sprites_in_the_dsprites_layout_load_with_the_real_loader(
    sprites, tmp_path):
  path = export.export(sprites, tmp_path / 'sprites.npz', layout='dsprites')
  with np.load(path, allow_pickle=True) as npz:
    assert npz.files == ['metadata', 'imgs', 'latents_classes',
                         'latents_values']
    assert npz['imgs'].dtype == np.uint8 and npz['imgs'].max() == 1
  loaded = data.load('dsprites', source='file', path=path,
                     factor_sizes=sprites.factor_sizes)
  np.testing.assert_array_equal(loaded.render(loaded.all_factors()),
                                export.render_grid(sprites))
  # The generic layout stores binary images as bool.
  generic = export.export(sprites, tmp_path / 'sprites_generic.npz')
  assert data.from_arrays(generic).binary
  with np.load(generic) as npz:
    assert npz['images'].dtype == np.bool_


def test_layouts_refuse_what_they_cannot_hold(sprites, tmp_path):
  perturbed = data.variants.apply_variant(sprites, 'perturbed')
  with pytest.raises(ValueError, match='binary'):
    export.export(perturbed, tmp_path / 'p.npz', layout='dsprites')
  with pytest.raises(ValueError, match='factors'):
    export.export(sprites, tmp_path / 's.h5', layout='shapes3d')
  with pytest.raises(ValueError, match='written as npz'):
    export.export(sprites, tmp_path / 's.h5', layout='dsprites')
  with pytest.raises(ValueError, match='.npz, .h5'):
    export.export(sprites, tmp_path / 's.zip')
  with pytest.raises(ValueError, match='not exactly uint8'):
    export.export(perturbed, tmp_path / 'p.npz', dtype='uint8')


def test_uint8_grid_in_the_shapes3d_layout_loads_with_the_real_loader(
    tmp_path):
  sizes = (2, 2, 2, 2, 2, 2)
  space = data.StateSpace(sizes, shapes3d.FACTOR_NAMES)
  images = np.random.default_rng(0).integers(
      0, 256, (space.num_points, 8, 8, 3), dtype=np.uint8)
  ours = data.from_arrays(images, space.all_factors(), shapes3d.FACTOR_NAMES,
                          sizes)
  path = export.export(ours, tmp_path / '3dshapes.h5', layout='shapes3d')
  loaded = data.load('shapes3d', source='file', path=path, factor_sizes=sizes)
  np.testing.assert_array_equal(loaded.render(loaded.all_factors()),
                                images.astype(np.float32) / np.float32(255))
  generic = export.export(ours, tmp_path / 'generic.hdf5')
  again = data.from_arrays(generic)
  np.testing.assert_array_equal(export.generic_arrays(again)['images'],
                                images)
