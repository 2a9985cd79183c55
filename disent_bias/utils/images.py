"""The package's one image module: observations as images, grids, PNG / GIF.

Every figure, traversal and logged image goes through these: observations
(images (N, H, W, C) or vectors (N, D)) become float images in [0, 1]
(``from_observations``), which ``image_grid`` tiles and ``save_png`` /
``save_gif`` write (uint8, rounded by ``to_uint8``).
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

# Height in pixels of a vector drawn as a filled curve.
CURVE_HEIGHT = 24
VECTOR_FORMS = ('curve', 'strip')


def from_observations(observations, *, vectors: str = 'curve',
                      rgb: bool = False,
                      curve_height: int = CURVE_HEIGHT) -> np.ndarray:
  """Observations as float32 images (N, H, W, C) in [0, 1] (clipped).

  Images (N, H, W, C) pass through; vectors (N, D) become filled curves
  (``vectors='curve'``: (N, curve_height, D, 1), pixel (y, x) lit where the
  value at x reaches that height) or one-pixel-high grey strips
  (``'strip'``: (N, 1, D, 1)). ``rgb`` repeats a single channel to three
  (matplotlib figures).
  """
  if vectors not in VECTOR_FORMS:
    raise ValueError(f'vectors={vectors!r}; valid: {", ".join(VECTOR_FORMS)}')
  x = np.clip(np.asarray(observations, np.float32), 0.0, 1.0)
  if x.ndim == 2 and vectors == 'strip':
    x = x[:, None, :, None]
  elif x.ndim == 2:
    levels = (curve_height - 0.5 - np.arange(curve_height)) / curve_height
    x = (x[:, None, :] >= levels[None, :, None]).astype(np.float32)[..., None]
  if x.ndim != 4 or (rgb and x.shape[-1] not in (1, 3)):
    raise ValueError(f'expected (N, H, W, C) images or (N, D) vectors, got '
                     f'shape {x.shape}')
  if rgb and x.shape[-1] == 1:
    x = np.repeat(x, 3, axis=-1)
  return x


def image_grid(images: np.ndarray, pad: int = 1, *, pad_value: float = 1.0,
               as_uint8: bool = True) -> np.ndarray:
  """Tiles float images (rows, cols, H, W, C) into one image (h, w, C).

  The one image tiler of the package (``traversals`` grids, ``plotting``
  overviews). Images are clipped to [0, 1]; ``pad`` pixels of ``pad_value``
  (in [0, 1]) surround every cell, so h = rows * (H + pad) + pad.

  Args:
    images: (rows, cols, H, W, C) float images.
    pad: border width in pixels.
    pad_value: border value, white by default.
    as_uint8: return uint8 (``to_uint8``, rounded; what the PNG / GIF writers
      and TensorBoard take); else float32 in [0, 1], for matplotlib, which
      truncates floats to bytes itself.

  Returns:
    uint8 or float32 (h, w, C).
  """
  images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
  if images.ndim != 5:
    raise ValueError(
        f'images must be (rows, cols, H, W, C), got shape {images.shape}')
  rows, cols, height, width, channels = images.shape
  out = np.full((rows * (height + pad) + pad, cols * (width + pad) + pad,
                 channels), pad_value, np.float32)
  for r in range(rows):
    for c in range(cols):
      top, left = pad + r * (height + pad), pad + c * (width + pad)
      out[top:top + height, left:left + width] = images[r, c]
  return to_uint8(out) if as_uint8 else out


def to_uint8(image: np.ndarray) -> np.ndarray:
  """A float image in [0, 1] (clipped) or a uint8 image as uint8."""
  image = np.asarray(image)
  if image.dtype == np.uint8:
    return image
  return (np.clip(image.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(
      np.uint8)


def _pil(image: np.ndarray, scale: int) -> Image.Image:
  """A uint8 (H, W, C) array as a PIL image, upscaled ``scale`` times."""
  image = to_uint8(image)
  if image.ndim == 3 and image.shape[-1] == 1:
    image = image[..., 0]
  out = Image.fromarray(image)
  if scale > 1:
    out = out.resize((out.width * scale, out.height * scale), Image.NEAREST)
  return out


def save_png(path: str, image: np.ndarray, scale: int = 1) -> str:
  """Writes an (H, W, C) image as a PNG, upscaled ``scale`` times."""
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  _pil(image, scale).save(path)
  return path


def save_gif(path: str, frames: np.ndarray, scale: int = 1,
             frame_ms: int = 120) -> str:
  """Writes (T, H, W, C) frames as an animated GIF that loops forever."""
  frames = [_pil(f, scale) for f in np.asarray(frames)]
  if not frames:
    raise ValueError('save_gif needs at least one frame')
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  frames[0].save(path, save_all=True, append_images=frames[1:],
                 duration=frame_ms, loop=0)
  return path


__all__ = ['CURVE_HEIGHT', 'from_observations', 'image_grid', 'to_uint8',
           'save_png', 'save_gif']
