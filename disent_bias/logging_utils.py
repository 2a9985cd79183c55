"""Workdir outputs of a training run: JSON-lines metrics and PNG image grids."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

import numpy as np
from PIL import Image

from disent_bias import workdir


def to_jsonable(value: Any) -> Any:
  """numpy / jax scalars and arrays -> plain Python (floats, nested lists)."""
  if isinstance(value, Mapping):
    return {str(k): to_jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [to_jsonable(v) for v in value]
  if hasattr(value, 'shape') and hasattr(value, 'dtype'):
    value = np.asarray(value)
    if value.ndim == 0:
      return value.item()
    return value.tolist()
  if isinstance(value, np.generic):
    return value.item()
  return value


class MetricWriter:
  """Appends one JSON record per line to ``path`` (``metrics.jsonl``).

  Records carry a ``step``. ``truncate_after(step)`` drops records written
  after the step a run resumes from, so a resumed run does not log the same
  steps twice.
  """

  def __init__(self, path: str, enabled: bool = True):
    self.path = path
    self.enabled = enabled

  def truncate_after(self, step: int, drop_evals: bool = False) -> None:
    """Keeps the records up to ``step`` (atomically rewritten).

    Args:
      step: the step the run resumes from (0 without a checkpoint).
      drop_evals: also drop the eval records (no ``train/loss``) at ``step``,
        which a resumed finished run writes again.
    """
    if not self.enabled or not os.path.exists(self.path):
      return
    kept = [r for r in read_jsonl(self.path)
            if r['step'] < step or r['step'] == step and not (
                drop_evals and 'train/loss' not in r)]
    workdir.write_text(self.path,
                       ''.join(json.dumps(r) + '\n' for r in kept))

  def write(self, record: Mapping[str, Any]) -> None:
    if not self.enabled:
      return
    with open(self.path, 'a', encoding='utf-8') as f:
      f.write(json.dumps(to_jsonable(record), allow_nan=True) + '\n')
      f.flush()


def read_jsonl(path: str) -> list[dict]:
  """All records of a JSON-lines file (a torn last line is skipped)."""
  records = []
  with open(path, encoding='utf-8') as f:
    for line in f:
      try:
        records.append(json.loads(line))
      except json.JSONDecodeError:
        continue
  return records


def image_grid(images: np.ndarray, pad: int = 1) -> np.ndarray:
  """Tiles float images (rows, cols, H, W, C) in [0, 1] into uint8 (h, w, C)."""
  images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
  if images.ndim != 5:
    raise ValueError(
        f'images must be (rows, cols, H, W, C), got shape {images.shape}')
  rows, cols, height, width, channels = images.shape
  out = np.ones((rows * (height + pad) + pad, cols * (width + pad) + pad,
                 channels), np.float32)
  for r in range(rows):
    for c in range(cols):
      top, left = pad + r * (height + pad), pad + c * (width + pad)
      out[top:top + height, left:left + width] = images[r, c]
  return (out * 255.0 + 0.5).astype(np.uint8)


def save_image_grid(path: str, images: np.ndarray, scale: int = 2) -> None:
  """Writes a (rows, cols, H, W, C) grid as a PNG, upscaled ``scale`` times."""
  grid = image_grid(images)
  if grid.shape[-1] == 1:
    grid = grid[..., 0]
  image = Image.fromarray(grid)
  if scale > 1:
    image = image.resize((image.width * scale, image.height * scale),
                         Image.NEAREST)
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  image.save(path)
