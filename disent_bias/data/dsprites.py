"""Procedural dSprites look-alike: binary 64x64 sprites rendered in JAX.

The factor grid is the one of the real dSprites (Matthey et al., 2017):

| factor      | size | values                                   |
|-------------|------|------------------------------------------|
| shape       | 3    | square, ellipse, heart                   |
| scale       | 6    | linspace(0.5, 1, 6)                      |
| orientation | 40   | linspace(0, 2 pi, 40), both ends included |
| posX        | 32   | linspace(0, 1, 32), left to right        |
| posY        | 32   | linspace(0, 1, 32), top to bottom        |

Each pixel is white (1) when its centre lies inside the sprite and black (0)
otherwise: the pixel centre is moved into the sprite's own frame (translate,
rotate by minus the orientation, divide by the size) and tested against an
implicit shape (square: max-norm, ellipse: quadratic form, heart: the sextic
``(x^2 + y^2 - 1)^3 - x^2 y^3 <= 0``). Positions are mapped to pixel
coordinates so the sprite stays fully inside the frame, with the outermost
pixel ring always black, at every factor value.

Exact symmetries:
- orientation index 0 and 39 are the same angle (0 and 2 pi), as in the real
  dataset; the renderer reduces the index modulo 39, so the images are
  bit-identical;
- the square is invariant under rotation by 90 degrees and the ellipse under
  180 degrees; the renderer reduces the angle modulo the shape's symmetry
  period, so these hold exactly.

On the grid (steps of 360/39 = 9.23 degrees) no two orientations other than
0 and 39 differ by a multiple of 90 degrees, yet pixelisation makes a few
one-step orientation changes invisible for the smallest sprites: an
exhaustive check of all 737,280 grid points found 112 whose orientation step
i -> i + 1 leaves the image unchanged, listed in
``ORIENTATION_STEP_EXCEPTIONS`` (e.g. the 10 px square at 175.4 vs 184.6
degrees, i.e. -4.6 vs +4.6 degrees modulo 90: mirror images that pixelise
alike at some positions). Every other one-step change of any factor changes
the image. Non-adjacent orientations of small squares and ellipses can also
pixelise alike (they differ by a few degrees modulo the symmetry period).

The perturbed variant reads its orientation phase off the image
(``orientation_phase``, declared in ``info``), so these equal images keep
equal perturbed images.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias.data import base

NAME = 'dsprites'
FACTOR_NAMES = ('shape', 'scale', 'orientation', 'posX', 'posY')
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPES = ('square', 'ellipse', 'heart')
IMAGE_SIZE = 64

SCALES = np.linspace(0.5, 1.0, 6)
ORIENTATIONS = np.linspace(0.0, 2.0 * np.pi, 40)
POSITIONS = np.linspace(0.0, 1.0, 32)

# Sprite size in pixels at scale 1: the square's half side (side 20 px).
UNIT_PX = 10.0
# Ellipse semi-axes in sprite units (horizontal, vertical) at orientation 0.
ELLIPSE_AXES = (1.0, 0.55)
# The heart curve spans x in [-1.139, 1.139], y in [-1, 1.236]; it is scaled to
# half-width 1 and centred on its bounding box.
_HEART_HALF_WIDTH = 1.139
_HEART_CENTRE_Y = 0.118
# Largest distance from the rotation centre to any sprite point, in sprite
# units, over all shapes (the square's corner, sqrt(2)); hearts reach 1.174,
# ellipses 1.0.
MAX_RADIUS = math.sqrt(2.0)
# Clearance in pixels between the outermost sprite point and the frame edge;
# 1.5 keeps the border pixel ring (centres at 0.5 and 63.5) black.
MARGIN_PX = 1.5
# (shape, scale, orientation i) -> number of (posX, posY) where the step
# i -> i + 1 leaves the image unchanged (exhaustive over the grid).
ORIENTATION_STEP_EXCEPTIONS = {(0, 0, 19): 64, (0, 1, 19): 16, (1, 0, 17): 16,
                               (1, 0, 21): 16}
# Rotation symmetry period of each shape, in radians.
SYMMETRY_PERIOD = (0.5 * np.pi, np.pi, 2.0 * np.pi)
# The orientation phase of the perturbed variant, per shape: (order n, power
# p), phase = p * arg M_n, M_n the image's angular moment of order n, the
# strongest of those the shape's symmetry lets through (square 4, ellipse 2,
# heart 3); a rotation that leaves the sprite unchanged leaves M_n
# unchanged. The phase turns n p = 4, 4, 3 times per turn of the sprite
# (0.64, 0.64, 0.48 rad per grid step; the index phase moves pi / 4).
PHASE_MOMENTS = ((4, 1), (2, 2), (3, 1))


def unit_px(image_size: int = IMAGE_SIZE) -> float:
  """Sprite size in pixels at scale 1: ``UNIT_PX`` scaled with the frame."""
  return UNIT_PX * image_size / IMAGE_SIZE


def position_range_px(image_size: int = IMAGE_SIZE) -> tuple[float, float]:
  """Pixel coordinates of the sprite centre for pos = 0 and pos = 1."""
  r = MAX_RADIUS * unit_px(image_size) * float(SCALES.max())
  return r + MARGIN_PX, image_size - r - MARGIN_PX


def sprite_mask(shape: jax.Array, scale: jax.Array, angle: jax.Array,
                pos_x: jax.Array, pos_y: jax.Array,
                image_size: int = IMAGE_SIZE) -> jax.Array:
  """Renders one sprite from continuous factor values.

  Args:
    shape: int scalar, 0 square, 1 ellipse, 2 heart.
    scale: float scalar, sprite scale (grid: 0.5..1).
    angle: float scalar, counter-clockwise rotation in radians.
    pos_x: float scalar in [0, 1], left to right.
    pos_y: float scalar in [0, 1], top to bottom.
    image_size: static output size.

  Returns:
    float32 (image_size, image_size) with values in {0, 1}.
  """
  lo, hi = position_range_px(image_size)
  cx = lo + (hi - lo) * pos_x
  cy = lo + (hi - lo) * pos_y
  period = jnp.asarray(SYMMETRY_PERIOD, jnp.float32)[shape]
  angle = jnp.mod(jnp.asarray(angle, jnp.float32), period)
  centres = jnp.arange(image_size, dtype=jnp.float32) + 0.5
  # dx to the right, dy upwards, in pixels.
  dx = centres[None, :] - cx
  dy = cy - centres[:, None]
  c, s = jnp.cos(angle), jnp.sin(angle)
  size = unit_px(image_size) * scale
  # Rotate by -angle into the sprite frame.
  u = (c * dx + s * dy) / size
  v = (-s * dx + c * dy) / size
  square = jnp.maximum(jnp.abs(u), jnp.abs(v)) <= 1.0
  ellipse = (u / ELLIPSE_AXES[0])**2 + (v / ELLIPSE_AXES[1])**2 <= 1.0
  hx = u * _HEART_HALF_WIDTH
  hy = v * _HEART_HALF_WIDTH + _HEART_CENTRE_Y
  heart = (hx**2 + hy**2 - 1.0)**3 - hx**2 * hy**3 <= 0.0
  inside = jnp.stack([square, ellipse, heart])[shape]
  return inside.astype(jnp.float32)


def factor_values(factors: jax.Array) -> tuple[jax.Array, ...]:
  """int32 (..., 5) factor classes -> (shape, scale, angle, pos_x, pos_y).

  The angle of orientation class i is ``(i mod 39) * 2 pi / 39``, so class 39
  (2 pi) is bit-identical to class 0.
  """
  factors = jnp.asarray(factors, jnp.int32)
  steps = FACTOR_SIZES[2] - 1
  shape = factors[..., 0]
  scale = jnp.asarray(SCALES, jnp.float32)[factors[..., 1]]
  angle = (jnp.mod(factors[..., 2], steps).astype(jnp.float32)
           * jnp.float32(2.0 * np.pi / steps))
  pos = jnp.asarray(POSITIONS, jnp.float32)
  return shape, scale, angle, pos[factors[..., 3]], pos[factors[..., 4]]


def render_one(factors: jax.Array, image_size: int = IMAGE_SIZE) -> jax.Array:
  """int32 (5,) factor classes -> float32 (S, S, 1) binary image (S = 64)."""
  return sprite_mask(*factor_values(factors), image_size=image_size)[..., None]


def render(factors: jax.Array, image_size: int = IMAGE_SIZE) -> jax.Array:
  """int32 (B, 5) factor classes -> float32 (B, S, S, 1) binary images."""
  return jax.vmap(functools.partial(render_one, image_size=image_size))(
      jnp.asarray(factors, jnp.int32))


def angular_moments(images: jax.Array, orders: tuple[int, ...]) -> jax.Array:
  """sum_p x[p] (z_p - c)^n for each order n, z = col + i row-up.

  ``c`` is the image's centroid. A rotation of the sprite by ``a`` multiplies
  the order-n moment by ``exp(i n a)``. Computed from the real central
  moments ``sum_p x[p] dx^k dy^m`` (separable, so two small matrix
  products per image) and the binomial expansion of ``(dx + i dy)^n``.

  Args:
    images: float (n, H, W, 1) sprite images.
    orders: the angular orders.

  Returns:
    complex64 (n, len(orders)).
  """
  x = jnp.asarray(images, jnp.float32)[..., 0]
  rows = jnp.arange(x.shape[1], dtype=jnp.float32)
  cols = jnp.arange(x.shape[2], dtype=jnp.float32)
  mass = jnp.maximum(x.sum((1, 2)), 1e-6)
  cx = x.sum(1) @ cols / mass
  cy = x.sum(2) @ rows / mass
  dx = _powers(cols[None, :] - cx[:, None], max(orders))
  dy = _powers(cy[:, None] - rows[None, :], max(orders))
  by_row = jnp.einsum('nrc,nck->nrk', x, dx)
  central = (by_row[..., :, None] * dy[..., None, :]).sum(1)
  return jnp.stack([_binomial(central, n) for n in orders], axis=-1)


def _powers(d: jax.Array, order: int) -> jax.Array:
  """d^0 .. d^order stacked on a new last axis."""
  out = [jnp.ones_like(d)]
  for _ in range(order):
    out.append(out[-1] * d)
  return jnp.stack(out, axis=-1)


def _binomial(central: jax.Array, order: int) -> jax.Array:
  """sum_k C(order, k) i^(order - k) mu_{k, order - k}: complex64 (n,)."""
  parts = [0.0, 0.0]  # real, imaginary
  for k in range(order + 1):
    j = (order - k) % 4  # i^j = 1, i, -1, -i
    sign = 1.0 if j < 2 else -1.0
    parts[j % 2] = parts[j % 2] + sign * math.comb(order, k) * central[
        :, k, order - k]
  return jax.lax.complex(*(jnp.asarray(p, jnp.float32) for p in parts))


def orientation_phase(factors: jax.Array, images: jax.Array) -> jax.Array:
  """The perturbation's orientation phase, a function of the image.

  ``p * arg M_n(image)`` with the shape's ``PHASE_MOMENTS`` (the shape is a
  function of the image too): images that are equal, such as orientation
  classes 0 and 39, a square turned by 90 degrees, or small sprites that
  pixelise alike at nearby angles, get the same phase.

  Args:
    factors: int32 (n, 5) factor classes (only the shape is read).
    images: float (n, H, W, 1) the original images of ``factors``.

  Returns:
    float32 (n,) radians.
  """
  shape = jnp.asarray(factors, jnp.int32)[:, 0]
  orders, power = zip(*PHASE_MOMENTS)
  phases = jnp.asarray(power, jnp.float32) * jnp.angle(
      angular_moments(images, orders))
  return jnp.take_along_axis(phases, shape[:, None], axis=-1)[:, 0]


def make_dsprites(image_size: int = IMAGE_SIZE, **options
                  ) -> base.GroundTruthData:
  """The procedural dSprites look-alike.

  Args:
    image_size: side of the square frame in pixels (a multiple of 16; 64 is
      the real dataset's). Sprites and the position range scale with the
      frame, so the images are the 64x64 ones drawn at a lower resolution.

  Raises:
    ValueError: a bad image size or unknown options.
  """
  if options:
    raise ValueError(f'dsprites takes only image_size, got '
                     f'{", ".join(sorted(options))}')
  image_size = base.check_image_size(NAME, image_size)
  lo, hi = position_range_px(image_size)
  info = dict(shapes=SHAPES, scales=SCALES, orientations=ORIENTATIONS,
              positions=POSITIONS, position_range_px=(lo, hi),
              unit_px=unit_px(image_size), symmetry_period=SYMMETRY_PERIOD,
              image_size=image_size, source='procedural')
  info[base.IMAGE_PHASE] = {'orientation': orientation_phase}
  fn = render if image_size == IMAGE_SIZE else functools.partial(
      render, image_size=image_size)
  return base.GroundTruthData(
      NAME, FACTOR_SIZES, FACTOR_NAMES, (image_size, image_size, 1), fn,
      is_pure=True, binary=True, info=info)
