"""Procedural Shapes3D look-alike: a small analytic ray caster in JAX.

The factor grid is the one of the real 3dshapes (Burgess & Kim, 2018):

| factor      | size | values                                     |
|-------------|------|--------------------------------------------|
| floor_hue   | 10   | linspace(0, 0.9, 10)                       |
| wall_hue    | 10   | linspace(0, 0.9, 10)                       |
| object_hue  | 10   | linspace(0, 0.9, 10)                       |
| scale       | 8    | linspace(0.75, 1.25, 8)                    |
| shape       | 4    | cube, cylinder, sphere, capsule            |
| orientation | 15   | linspace(-30, 30, 15) degrees              |

Scene: a floor plane (y = 0) and two walls that meet in a vertical room
corner behind the object; one object standing on the floor at the origin; a
pinhole camera that orbits the vertical axis through the object by the
orientation angle, always looking at the object. Every primary ray is
intersected analytically with the floor, the walls and the object (slab test
for the cube, quadratics for cylinder, sphere and capsule) and the nearest hit
is shaded: colour = hue(HSV, full saturation and value) * (ambient + diffuse
* max(0, n . l) * shadow) for a fixed directional light; floor and walls
receive the object's hard shadow (one analytic shadow ray per pixel). One ray
per pixel centre, no anti-aliasing.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.data import base

NAME = 'shapes3d'
FACTOR_NAMES = ('floor_hue', 'wall_hue', 'object_hue', 'scale', 'shape',
                'orientation')
FACTOR_SIZES = (10, 10, 10, 8, 4, 15)
SHAPES = ('cube', 'cylinder', 'sphere', 'capsule')
IMAGE_SIZE = 64

HUES = np.linspace(0.0, 0.9, 10)
SCALES = np.linspace(0.75, 1.25, 8)
ORIENTATIONS_DEG = np.linspace(-30.0, 30.0, 15)

# Scene constants (world units, y up; the object stands at the origin).
OBJECT_SIZE = 0.9           # half extent of the object at scale 1
CAPSULE_RADIUS = 0.6        # capsule radius / half extent
CAMERA_DISTANCE = 7.0       # horizontal distance camera -> vertical axis
CAMERA_HEIGHT = 2.6
CAMERA_TARGET_Y = 0.9
FIELD_OF_VIEW_DEG = 46.0    # full vertical (= horizontal) field of view
CORNER_DISTANCE = 4.0       # the walls meet at (0, y, -CORNER_DISTANCE)
LIGHT_DIRECTION = (-0.45, 1.0, 0.65)  # towards the light, normalised below
AMBIENT = 0.45
_EPS = 1e-4
_FAR = 1e6


def hsv_to_rgb(hue: jax.Array) -> jax.Array:
  """Hue in [0, 1) with full saturation and value -> RGB (..., 3)."""
  h6 = jnp.asarray(hue, jnp.float32)[..., None] * 6.0
  k = jnp.asarray([5.0, 3.0, 1.0], jnp.float32)
  m = jnp.mod(k + h6, 6.0)
  return 1.0 - jnp.clip(jnp.minimum(m, 4.0 - m), 0.0, 1.0)


# Vectors are tuples (x, y, z) of equally shaped arrays: the ray caster works
# on separate coordinate planes, which XLA vectorises far better than arrays
# with a trailing axis of size 3.


def _dot(a, b):
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _add(a, b):
  return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _scale(a, k):
  return (a[0] * k, a[1] * k, a[2] * k)


def _select(cond, a, b):
  return tuple(jnp.where(cond, x, y) for x, y in zip(a, b))


def _pick(hit, best):
  """Keeps the (t, normal) hit where it is nearer than the best so far."""
  t, n = hit
  best_t, best_n = best
  take = t < best_t
  return jnp.where(take, t, best_t), _select(take, n, best_n)


def _sphere(o, d, centre_y, r):
  """Ray vs the sphere of radius r centred at (0, centre_y, 0)."""
  oc = (o[0], o[1] - centre_y, o[2])
  b = _dot(oc, d)
  c = _dot(oc, oc) - r * r
  disc = b * b - c
  t = -b - jnp.sqrt(jnp.maximum(disc, 0.0))
  hit = (disc > 0.0) & (t > _EPS)
  n = _scale(_add(oc, _scale(d, t)), 1.0 / r)
  return jnp.where(hit, t, _FAR), n


def _cylinder_side(o, d, y_lo, y_hi, r):
  """Ray vs the side of a vertical cylinder of radius r, y in [y_lo, y_hi]."""
  a = jnp.maximum(d[0]**2 + d[2]**2, 1e-12)
  b = o[0] * d[0] + o[2] * d[2]
  c = o[0]**2 + o[2]**2 - r * r
  disc = b * b - a * c
  t = (-b - jnp.sqrt(jnp.maximum(disc, 0.0))) / a
  py = o[1] + t * d[1]
  hit = (disc > 0.0) & (t > _EPS) & (py >= y_lo) & (py <= y_hi)
  n = ((o[0] + t * d[0]) / r, jnp.zeros_like(t), (o[2] + t * d[2]) / r)
  return jnp.where(hit, t, _FAR), n


def _top_disc(o, d, y, r):
  """Ray vs the horizontal disc of radius r at height y, seen from above."""
  t = (y - o[1]) / jnp.minimum(d[1], -1e-9)
  px, pz = o[0] + t * d[0], o[2] + t * d[2]
  hit = (d[1] < 0) & (t > _EPS) & (px * px + pz * pz <= r * r)
  zero = jnp.zeros_like(t)
  return jnp.where(hit, t, _FAR), (zero, zero + 1.0, zero)


def _cube(o, d, s):
  """Ray vs the axis-aligned cube [-s, s] x [0, 2s] x [-s, s]."""
  lo, hi = (-s, 0.0, -s), (s, 2.0 * s, s)
  near, far = [], []
  for k in range(3):
    dk = jnp.where(jnp.abs(d[k]) < 1e-9, 1e-9, d[k])
    t1, t2 = (lo[k] - o[k]) / dk, (hi[k] - o[k]) / dk
    near.append(jnp.minimum(t1, t2))
    far.append(jnp.maximum(t1, t2))
  t_enter = jnp.maximum(jnp.maximum(near[0], near[1]), near[2])
  t_exit = jnp.minimum(jnp.minimum(far[0], far[1]), far[2])
  hit = (t_exit >= t_enter) & (t_enter > _EPS)
  n = tuple(jnp.where(near[k] >= t_enter, -jnp.sign(d[k]), 0.0)
            for k in range(3))
  return jnp.where(hit, t_enter, _FAR), n


def _object(o, d, shape, s):
  """Ray vs the object standing on the floor at the origin.

  The cylinder, sphere and capsule share one construction: a vertical
  cylinder side of radius r between heights y0 and y1, closed on top by a
  disc (cylinder) or a half sphere (sphere, capsule) and at the bottom by a
  sphere (rounded shapes; the cylinder's bottom disc lies on the floor and is
  never hit by a ray from above). The sphere is the case y0 = y1 = r = s.

  Args:
    o, d: ray origins and unit directions, tuples of (P,) arrays.
    shape: int scalar, index into ``SHAPES``.
    s: float scalar, half extent (all objects are 2 s high).

  Returns:
    t (P,) (``_FAR`` for a miss) and the unit normal (tuple of (P,)).
  """
  is_cyl = shape == 1
  rounded = shape >= 2
  r = jnp.where(shape == 3, CAPSULE_RADIUS * s, s)
  y0 = jnp.where(rounded, r, 0.0)
  y1 = 2.0 * s - y0
  top_sphere, top_disc = _sphere(o, d, y1, r), _top_disc(o, d, y1, r)
  top = (jnp.where(rounded, top_sphere[0], top_disc[0]),
         _select(rounded, top_sphere[1], top_disc[1]))
  bottom_t, bottom_n = _sphere(o, d, y0, r)
  best = _pick(top, _cylinder_side(o, d, y0, y1, r))
  best = _pick((jnp.where(is_cyl, _FAR, bottom_t), bottom_n), best)
  cube_t, cube_n = _cube(o, d, s)
  is_cube = shape == 0
  return (jnp.where(is_cube, cube_t, best[0]),
          _select(is_cube, cube_n, best[1]))


_K = 1.0 / math.sqrt(2.0)
# Unit normals of the two walls (pointing into the room); both pass through
# the room corner (0, y, -CORNER_DISTANCE), so n . p >= -_K * CORNER_DISTANCE.
_WALL_NORMALS = ((_K, 0.0, _K), (-_K, 0.0, _K))
_WALL_OFFSET = -_K * CORNER_DISTANCE


def camera_rays(orientation_deg: jax.Array, image_size: int = IMAGE_SIZE):
  """Camera origin (3 scalars) and unit ray directions (3 arrays (H * W,))."""
  phi = jnp.deg2rad(jnp.asarray(orientation_deg, jnp.float32))
  origin = (CAMERA_DISTANCE * jnp.sin(phi), jnp.float32(CAMERA_HEIGHT),
            CAMERA_DISTANCE * jnp.cos(phi))
  fwd = (-origin[0], CAMERA_TARGET_Y - origin[1], -origin[2])
  fwd = _scale(fwd, jax.lax.rsqrt(_dot(fwd, fwd)))
  # right = normalize(fwd x up), up' = right x fwd.
  right = (-fwd[2], jnp.zeros_like(fwd[0]), fwd[0])
  right = _scale(right, jax.lax.rsqrt(_dot(right, right)))
  up = (right[1] * fwd[2] - right[2] * fwd[1],
        right[2] * fwd[0] - right[0] * fwd[2],
        right[0] * fwd[1] - right[1] * fwd[0])
  c = (jnp.arange(image_size, dtype=jnp.float32) + 0.5) / image_size * 2 - 1
  half = math.tan(math.radians(FIELD_OF_VIEW_DEG) / 2)
  u = jnp.broadcast_to(c[None, :], (image_size, image_size)).reshape(-1)
  v = -jnp.broadcast_to(c[:, None], (image_size, image_size)).reshape(-1)
  d = tuple(f + half * (u * rt + v * up_)
            for f, rt, up_ in zip(fwd, right, up))
  return origin, _scale(d, jax.lax.rsqrt(_dot(d, d)))


def render_scene(floor_hue: jax.Array, wall_hue: jax.Array,
                 object_hue: jax.Array, scale: jax.Array, shape: jax.Array,
                 orientation_deg: jax.Array,
                 image_size: int = IMAGE_SIZE) -> jax.Array:
  """Renders one scene from continuous factor values.

  Args:
    floor_hue, wall_hue, object_hue: float scalars in [0, 1).
    scale: float scalar, object size relative to ``OBJECT_SIZE``.
    shape: int scalar, index into ``SHAPES``.
    orientation_deg: float scalar, camera azimuth in degrees.
    image_size: static output size.

  Returns:
    float32 (image_size, image_size, 3) in [0, 1].
  """
  origin, d = camera_rays(orientation_deg, image_size)
  o = tuple(jnp.broadcast_to(x, d[0].shape) for x in origin)
  s = OBJECT_SIZE * jnp.asarray(scale, jnp.float32)
  light = np.asarray(LIGHT_DIRECTION, np.float64)
  light = tuple(float(x) for x in light / np.linalg.norm(light))

  # Room: the nearest exit through the floor or one of the two walls.
  t_floor = jnp.where(d[1] < 0, -o[1] / jnp.minimum(d[1], -1e-9), _FAR)
  t_walls = []
  for n in _WALL_NORMALS:
    nd = _dot(n, d)
    t_walls.append(jnp.where(
        nd < 0, (_WALL_OFFSET - _dot(n, o)) / jnp.minimum(nd, -1e-9), _FAR))
  is_floor = t_floor <= jnp.minimum(t_walls[0], t_walls[1])
  first_wall = t_walls[0] <= t_walls[1]
  t_room = jnp.minimum(t_floor, jnp.minimum(t_walls[0], t_walls[1]))
  wall_light = [max(_dot(n, light), 0.0) for n in _WALL_NORMALS]
  room_light = jnp.where(is_floor, max(light[1], 0.0),
                         jnp.where(first_wall, wall_light[0], wall_light[1]))
  p_room = _add(o, _scale(d, t_room))
  # Hard shadow: is the object between the room point and the light?
  lights = tuple(jnp.full_like(t_room, x) for x in light)
  t_block, _ = _object(p_room, lights, shape, s)
  room_light = jnp.where(t_block < _FAR, 0.0, room_light)
  room_rgb = jnp.where(is_floor[:, None], hsv_to_rgb(floor_hue),
                       hsv_to_rgb(wall_hue))
  room = room_rgb * (AMBIENT + (1 - AMBIENT) * room_light)[:, None]

  t_obj, n_obj = _object(o, d, shape, s)
  obj_light = jnp.maximum(_dot(n_obj, light), 0.0)
  obj = hsv_to_rgb(object_hue) * (AMBIENT + (1 - AMBIENT) * obj_light)[:, None]
  image = jnp.where((t_obj < t_room)[:, None], obj, room)
  return jnp.clip(image, 0.0, 1.0).reshape(image_size, image_size, 3)


def factor_values(factors: jax.Array, hue_values=HUES
                  ) -> tuple[jax.Array, ...]:
  """int32 (..., 6) factor classes -> the continuous scene parameters.

  ``hue_values`` are the 10 hues of the three hue factors (the real grid's
  ``HUES`` by default).
  """
  factors = jnp.asarray(factors, jnp.int32)
  hues = jnp.asarray(hue_values, jnp.float32)
  return (hues[factors[..., 0]], hues[factors[..., 1]], hues[factors[..., 2]],
          jnp.asarray(SCALES, jnp.float32)[factors[..., 3]], factors[..., 4],
          jnp.asarray(ORIENTATIONS_DEG, jnp.float32)[factors[..., 5]])


def render_one(factors: jax.Array, image_size: int = IMAGE_SIZE,
               hue_values=HUES) -> jax.Array:
  """int32 (6,) factor classes -> float32 (S, S, 3) image (S = 64)."""
  return render_scene(*factor_values(factors, hue_values),
                      image_size=image_size)


def render(factors: jax.Array, image_size: int = IMAGE_SIZE,
           hue_values=HUES) -> jax.Array:
  """int32 (B, 6) factor classes -> float32 (B, S, S, 3) in [0, 1]."""
  one = functools.partial(render_one, image_size=image_size,
                          hue_values=hue_values)
  return jax.vmap(one)(jnp.asarray(factors, jnp.int32))


def make_shapes3d(image_size: int = IMAGE_SIZE, hue_range=None, **options
                  ) -> base.GroundTruthData:
  """The procedural Shapes3D look-alike.

  Args:
    image_size: side of the square frame in pixels (a multiple of 16; 64 is
      the real dataset's): one ray per pixel centre of the same camera.
    hue_range: None for the real grid's hues (``linspace(0, 0.9, 10)``), or
      ``(low, high)`` in [0, 1) for ``linspace(low, high, 10)`` (the image
      tier uses one sixth of the colour wheel, where RGB is linear in hue).

  Raises:
    ValueError: a bad image size, hue range or unknown options.
  """
  if options:
    raise ValueError(f'shapes3d takes only image_size and hue_range, got '
                     f'{", ".join(sorted(options))}')
  image_size = base.check_image_size(NAME, image_size)
  hues = HUES
  if hue_range is not None:
    low, high = (float(h) for h in hue_range)
    if not 0.0 <= low < high < 1.0:
      raise ValueError(f'shapes3d: hue_range must be (low, high) with '
                       f'0 <= low < high < 1, got {hue_range}')
    hues = np.linspace(low, high, FACTOR_SIZES[0])
  info = dict(shapes=SHAPES, hues=hues, scales=SCALES,
              orientations_deg=ORIENTATIONS_DEG, image_size=image_size,
              source='procedural')
  fn = render if (image_size == IMAGE_SIZE and hue_range is None) else (
      functools.partial(render, image_size=image_size, hue_values=hues))
  return base.GroundTruthData(
      NAME, FACTOR_SIZES, FACTOR_NAMES, (image_size, image_size, 3), fn,
      is_pure=True, info=info)
