"""The image tier: 32x32 look-alikes on reduced grids, trainable on a CPU.

The 64x64 look-alikes with their full grids need accelerator-scale training
(a 64x64 conv beta-VAE does not disentangle in CPU-minutes,
docs/datasets.md). The image tier keeps the renderers and the variants and
shrinks what a CPU pays for: the frame (32x32, a quarter of the pixels) and the grid
(factors kept at one value are dropped, ``base.subgrid``).

- ``dsprites32``: one ellipse (semi-axes 1 : 0.55, so moving it along x and
  along y changes different numbers of pixels and the local principal
  directions are unique), orientation 0, three scales and 16 x 16 positions
  (every second one of the 32, about one pixel per step).
- ``shapes3d32``: the three hues of floor, wall and object at 10 values each
  from hue 0 to 0.16 (red to orange), the largest cube, the middle camera
  angle. Over one sixth of the colour wheel RGB is linear in hue (only the
  green channel moves), so each factor moves its own pixel set along one
  direction; the real grid's hues (0 to 0.9) turn the RGB direction by 90
  degrees every 1.7 steps, and at CPU training lengths beta-VAEs then spend
  two latents on one hue (measured, docs/datasets.md).

``docs/datasets.md`` ("The image tier") documents the choices and the
measurements behind them.
"""

from __future__ import annotations

from disent_bias.data import base
from disent_bias.data import dsprites
from disent_bias.data import shapes3d

IMAGE_SIZE = 32
DSPRITES32 = {
    'shape': [1],
    'scale': [1, 3, 5],
    'orientation': [0],
    'posX': list(range(0, 32, 2)),
    'posY': list(range(0, 32, 2)),
}
SHAPES3D32_HUE_RANGE = (0.0, 0.16)
SHAPES3D32 = {
    'scale': [7],
    'shape': [0],
    'orientation': [7],
}


def make_dsprites32(**options) -> base.GroundTruthData:
  """``dsprites32``: the sprite look-alike's image tier (module docstring)."""
  _no_options('dsprites32', options)
  return base.subgrid(dsprites.make_dsprites(image_size=IMAGE_SIZE),
                      DSPRITES32, name='dsprites32')


def make_shapes3d32(**options) -> base.GroundTruthData:
  """``shapes3d32``: the Shapes3D look-alike's image tier (module docstring)."""
  _no_options('shapes3d32', options)
  scene = shapes3d.make_shapes3d(image_size=IMAGE_SIZE,
                                 hue_range=SHAPES3D32_HUE_RANGE)
  return base.subgrid(scene, SHAPES3D32, name='shapes3d32')


def _no_options(name: str, options) -> None:
  if options:
    raise ValueError(f'{name} takes no options (its grid is fixed), got '
                     f'{", ".join(sorted(options))}')


DATASETS = {'dsprites32': make_dsprites32, 'shapes3d32': make_shapes3d32}
