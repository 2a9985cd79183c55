"""Tests for the procedural Shapes3D look-alike."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias.data import shapes3d
from procedural import dataset_fixtures
from procedural import random_batch
from procedural import step_factor

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')

SIZES = (10, 10, 10, 8, 4, 15)


dataset, render = dataset_fixtures('shapes3d')


def test_grid(dataset):
  assert dataset.name == 'shapes3d'
  assert dataset.factor_sizes == SIZES
  assert dataset.factor_names == ('floor_hue', 'wall_hue', 'object_hue',
                                  'scale', 'shape', 'orientation')
  assert dataset.num_points == 480_000
  assert dataset.observation_shape == (64, 64, 3)
  assert dataset.is_pure and not dataset.binary
  np.testing.assert_allclose(dataset.info['hues'], np.linspace(0, 0.9, 10))
  np.testing.assert_allclose(dataset.info['scales'],
                             np.linspace(0.75, 1.25, 8))
  np.testing.assert_allclose(dataset.info['orientations_deg'],
                             np.linspace(-30, 30, 15))
  assert dataset.info['shapes'] == ('cube', 'cylinder', 'sphere', 'capsule')


def test_rejects_options():
  with pytest.raises(ValueError, match='takes only image_size'):
    shapes3d.make_shapes3d(size=32)


def test_random_batch(dataset, render):
  x = random_batch(dataset, render, (256, 64, 64, 3))
  assert np.isfinite(x).all()
  assert x.min() >= 0.0 and x.max() <= 1.0


@pytest.mark.parametrize('factor', range(6))
def test_one_step_change_changes_every_image(dataset, render, factor):
  factors = np.asarray(dataset.sample_factors(jax.random.key(1), 64))
  bumped = step_factor(factors, factor, SIZES)
  x, y = np.asarray(render(factors)), np.asarray(render(bumped))
  change = np.abs(x - y).reshape(64, -1).max(axis=1)
  assert (change > 0.01).all(), factors[change <= 0.01]


def test_every_shape_and_orientation_step_changes_the_image(render):
  # Full shape x orientation grid for fixed hues and the smallest scale.
  f = np.asarray([[2, 5, 8, 0, s, o] for s in range(4) for o in range(15)],
                 np.int32)
  x = np.asarray(render(f)).reshape(4, 15, -1)
  assert (np.abs(np.diff(x, axis=1)).max(-1) > 0.01).all()
  assert (np.abs(x[:, None] - x[None, :]).max(-1).max(-1)
          + np.eye(4) > 0.01).all()


@pytest.mark.parametrize('hue,rgb', [(0.0, (1, 0, 0)), (1 / 3, (0, 1, 0)),
                                     (2 / 3, (0, 0, 1)), (0.5, (0, 1, 1)),
                                     (1 / 6, (1, 1, 0))])
def test_hsv_to_rgb_known_values(hue, rgb):
  np.testing.assert_allclose(shapes3d.hsv_to_rgb(jnp.float32(hue)), rgb,
                             atol=1e-6)


def test_scene_layout(render):
  # Floor red (hue 0), walls green (0.3), object blue (0.6), orientation 0:
  # the bottom rows are floor, the top rows wall and the centre object.
  f = np.asarray([[0, 3, 6, 4, s, 7] for s in range(4)], np.int32)
  x = np.asarray(render(f))
  dominant = x.argmax(-1)
  assert (dominant[:, -4:, :] == 0).all()            # floor: red
  assert (dominant[:, :4, :] == 1).all()             # walls: green
  assert (dominant[:, 30:34, 30:34] == 2).all()      # object: blue
  # Both walls are visible, shaded differently (a room corner).
  top = x[:, 2, :, 1]
  assert (np.abs(top[:, 2] - top[:, -3]) > 0.05).all()
  # Lambert shading: the object is not flat-coloured.
  obj = x[:, 20:44, 20:44, 2][dominant[:, 20:44, 20:44] == 2]
  assert obj.max() - obj.min() > 0.2


def test_scale_grows_the_object(render):
  f = np.asarray([[0, 3, 6, c, 2, 7] for c in range(8)], np.int32)
  x = np.asarray(render(f))
  area = (x.argmax(-1) == 2).sum((1, 2))
  assert (np.diff(area) > 0).all()


@pytest.mark.slow  # eager mode compiles every primitive once (~10 s)
def test_jit_equals_eager(dataset, render):
  # Tolerance: XLA fuses (and contracts) float ops differently under jit.
  factors = dataset.sample_factors(jax.random.key(2), 1)
  eager = np.asarray(dataset.render(factors))
  np.testing.assert_allclose(eager, np.asarray(render(factors)), atol=1e-4)


def test_vmap_equals_one_by_one(dataset, render):
  factors = dataset.sample_factors(jax.random.key(3), 4)
  one = jax.jit(shapes3d.render_one)
  single = np.stack([np.asarray(one(f)) for f in factors])
  np.testing.assert_allclose(np.asarray(render(factors)), single, atol=1e-4)
