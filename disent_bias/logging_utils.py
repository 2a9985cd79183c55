"""Workdir outputs of a training run: JSON-lines metrics and PNG image grids."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

import numpy as np
from PIL import Image


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
  after a checkpoint, so a resumed run does not log the same steps twice.
  """

  def __init__(self, path: str, enabled: bool = True):
    self.path = path
    self.enabled = enabled

  def truncate_after(self, step: int) -> None:
    if not self.enabled or not os.path.exists(self.path):
      return
    kept = [line for line in read_jsonl(self.path) if line['step'] <= step]
    with open(self.path, 'w', encoding='utf-8') as f:
      for record in kept:
        f.write(json.dumps(record) + '\n')

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
