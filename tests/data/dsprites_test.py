"""Tests for the procedural dSprites look-alike."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from disent_bias.data import dsprites
from procedural import dataset_fixtures
from procedural import random_batch
from procedural import step_factor

# Small programs: compile time dominates (tests/conftest.py).
pytestmark = pytest.mark.usefixtures('fast_compiles_module')

SIZES = (3, 6, 40, 32, 32)


dataset, render = dataset_fixtures('dsprites')


def test_grid(dataset):
  assert dataset.name == 'dsprites'
  assert dataset.factor_sizes == SIZES
  assert dataset.factor_names == ('shape', 'scale', 'orientation', 'posX',
                                  'posY')
  assert dataset.num_points == 737_280
  assert dataset.observation_shape == (64, 64, 1)
  assert dataset.is_pure and dataset.binary
  np.testing.assert_allclose(dataset.info['scales'], np.linspace(0.5, 1, 6))
  np.testing.assert_allclose(dataset.info['orientations'][[0, -1]],
                             [0.0, 2 * np.pi])


def test_rejects_options():
  with pytest.raises(ValueError, match='takes only image_size'):
    dsprites.make_dsprites(size=32)


def test_random_batch_is_binary_float32(dataset, render):
  x = random_batch(dataset, render, (256, 64, 64, 1))
  assert set(np.unique(x)) == {0.0, 1.0}
  # Every image holds a sprite: at least the smallest ellipse's area.
  assert (x.sum(axis=(1, 2, 3)) >= 30).all()


@pytest.mark.parametrize('factor', range(5))
def test_one_step_change_changes_every_image(dataset, render, factor):
  factors = np.asarray(dataset.sample_factors(jax.random.key(1), 256))
  bumped = step_factor(factors, factor, SIZES)
  x, y = np.asarray(render(factors)), np.asarray(render(bumped))
  changed = (x != y).reshape(256, -1).any(axis=1)
  # Documented pixelisation exceptions (orientation steps only).
  low = np.minimum(factors[:, 2], bumped[:, 2])
  exempt = np.asarray([
      factor == 2 and (f[0], f[1], o) in dsprites.ORIENTATION_STEP_EXCEPTIONS
      for f, o in zip(factors, low)])
  assert (changed | exempt).all(), factors[~(changed | exempt)]


@pytest.mark.parametrize('key', sorted(dsprites.ORIENTATION_STEP_EXCEPTIONS))
def test_orientation_step_exceptions_are_exact(render, key):
  # At the listed (shape, scale, orientation), over all 1024 positions,
  # exactly the documented number of images survive the step unchanged.
  shape, scale, o = key
  pos = np.stack(np.meshgrid(np.arange(32), np.arange(32), indexing='ij'),
                 -1).reshape(-1, 2)
  f = np.concatenate([np.tile([[shape, scale, o]], (1024, 1)), pos], 1)
  g = f.copy()
  g[:, 2] += 1
  x = np.asarray(render(f.astype(np.int32))).reshape(1024, -1)
  y = np.asarray(render(g.astype(np.int32))).reshape(1024, -1)
  unchanged = (x == y).all(axis=1).sum()
  assert unchanged == dsprites.ORIENTATION_STEP_EXCEPTIONS[key]


def test_every_adjacent_orientation_differs(render):
  # All shapes, scales and orientation steps, at four positions (none of
  # them is a documented exception).
  rows = []
  for shape, scale, pos in itertools.product(range(3), range(6),
                                             [(0, 0), (7, 19), (16, 16),
                                              (31, 5)]):
    for o in range(40):
      rows.append((shape, scale, o, *pos))
  x = np.asarray(render(np.asarray(rows, np.int32))).reshape(-1, 40, 64 * 64)
  diff = (x[:, 1:] != x[:, :-1]).any(axis=-1)
  assert diff.all()


def test_orientation_0_and_2pi_are_identical(render):
  f0 = np.asarray([[s, c, 0, 3, 20] for s in range(3) for c in range(6)],
                  np.int32)
  f39 = f0.copy()
  f39[:, 2] = 39
  np.testing.assert_array_equal(render(f0), render(f39))


@pytest.mark.parametrize('shape,period,symmetric', [
    (0, np.pi / 2, True), (0, np.pi / 4, False),
    (1, np.pi, True), (1, np.pi / 2, False),
    (2, np.pi, False), (2, np.pi / 2, False),
])
def test_rotation_symmetries(shape, period, symmetric):
  angles = jnp.linspace(0.1, 1.4, 5)
  mask = jax.vmap(lambda a: dsprites.sprite_mask(shape, 1.0, a, 0.4, 0.6))
  a, b = np.asarray(mask(angles)), np.asarray(mask(angles + period))
  if symmetric:
    np.testing.assert_array_equal(a, b)
  else:
    assert (a != b).reshape(5, -1).any(axis=1).all()


@pytest.mark.parametrize('shape,turns', [(0, 4), (1, 4), (2, 3)])
def test_orientation_phase_turns_with_the_sprite(render, shape, turns):
  # The perturbation's orientation phase, read off the image, advances by
  # ``turns`` times the angle step, up to pixelisation: measured over a
  # 11 x 11 position grid, mean |deviation| 0.025 / 0.059 / 0.050 rad
  # (square / ellipse / heart) at scale 5, 0.09 / 0.18 / 0.16 at scale 0,
  # where sprites that pixelise alike get equal phases (step 0).
  f = np.asarray([[shape, 5, o, p, p] for p in (0, 16, 31)
                  for o in range(40)], np.int32)
  phase = np.asarray(dsprites.orientation_phase(f, render(f))).reshape(3, 40)
  step = np.angle(np.exp(1j * np.diff(phase)))[:, :38]
  deviation = np.abs(step - turns * 2 * np.pi / 39)
  assert deviation.mean() < 0.1 and deviation.max() < 0.3, deviation
  np.testing.assert_array_equal(phase[:, 0], phase[:, 39])


def test_angular_moments_match_the_complex_sum(render):
  f = np.asarray([[2, 0, 7, 3, 20], [0, 4, 11, 30, 1]], np.int32)
  x = np.asarray(render(f))[..., 0].astype(np.float64)
  rows, cols = np.indices(x.shape[1:])
  moments = np.asarray(dsprites.angular_moments(render(f), (2, 3, 4)))
  for i, image in enumerate(x):
    mass = image.sum()
    z = (cols - (image * cols).sum() / mass) + 1j * (
        (image * rows).sum() / mass - rows)
    expected = [(image * z**n).sum() for n in (2, 3, 4)]
    np.testing.assert_allclose(moments[i], expected, rtol=1e-4,
                               atol=1e-4 * np.abs(expected).max())


def test_sprite_fully_inside_frame_at_every_extreme(render):
  # Every shape, scale and orientation at the four extreme positions.
  rows = list(itertools.product(range(3), range(6), range(40), (0, 31),
                                (0, 31)))
  x = np.asarray(render(np.asarray(rows, np.int32)))[..., 0]
  border = np.concatenate([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], 1)
  assert border.max() == 0.0
  # The margin is tight: on each side some sprite reaches within 3 px.
  reach = np.stack([x[:, :3].max((1, 2)), x[:, -3:].max((1, 2)),
                    x[:, :, :3].max((1, 2)), x[:, :, -3:].max((1, 2))], 1)
  assert reach.max(axis=0).all()


def test_square_known_geometry(render):
  # Square, scale 1, orientation 0, pos (0, 0): a 20 x 20 px square whose
  # centre is at position_range_px()[0] in both axes.
  x = np.asarray(render(np.asarray([[0, 5, 0, 0, 0]], np.int32)))[0, ..., 0]
  assert x.sum() == 400
  rows, cols = np.nonzero(x)
  lo = dsprites.position_range_px()[0]
  np.testing.assert_allclose([cols.mean() + 0.5, rows.mean() + 0.5], [lo, lo],
                             atol=0.5)


def test_positions_move_right_and_down(render):
  f = np.zeros((32, 5), np.int32)
  f[:, 0], f[:, 1], f[:, 4] = 1, 3, 10
  f[:, 3] = np.arange(32)
  x = np.asarray(render(f))[..., 0]
  cols = (x.sum(1) * np.arange(64)).sum(1) / x.sum((1, 2))
  assert (np.diff(cols) > 0.5).all()
  g = f[:, [0, 1, 2, 4, 3]]
  y = np.asarray(render(g))[..., 0]
  rows = (y.sum(2) * np.arange(64)).sum(1) / y.sum((1, 2))
  assert (np.diff(rows) > 0.5).all()


def test_jit_equals_eager_and_vmap(dataset, render):
  factors = dataset.sample_factors(jax.random.key(2), 8)
  eager = np.asarray(dataset.render(factors))
  np.testing.assert_array_equal(eager, np.asarray(render(factors)))
  per_example = jax.vmap(dsprites.render_one)(factors)
  np.testing.assert_array_equal(eager, np.asarray(per_example))


def test_render_index_matches_factors(dataset, render):
  index = np.asarray([0, 1, 12345, dataset.num_points - 1])
  factors = dataset.index_to_factors(index)
  np.testing.assert_array_equal(dataset.render_index(index),
                                render(factors))
