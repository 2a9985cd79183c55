"""Small PNG helpers: image grids and dataset overviews (samples + traversals).

Figures are drawn with matplotlib's object-oriented API (``Figure`` with the
Agg canvas), so no display is needed and the global pyplot backend (e.g. a
notebook's inline backend) is left alone.
"""

from __future__ import annotations

import os

import jax
from matplotlib import figure
import numpy as np

from disent_bias.utils import images as images_lib


def tile_rows(images, num_cols: int, pad: int = 1,
              pad_value: float = 0.5) -> np.ndarray:
  """Tiles (N, H, W, C) images or (N, D) vectors row by row: float (H', W', 3).

  ``images.from_observations`` makes them RGB (vectors as strips);
  ``images.image_grid`` tiles them, in float for matplotlib. Empty cells at the end of the last row (at least one
  row) and the borders are ``pad_value``, in [0, 1].
  """
  x = images_lib.from_observations(images, vectors='strip', rgb=True)
  n, h, w, _ = x.shape
  if num_cols < 1:
    raise ValueError(f'num_cols must be >= 1, got {num_cols}')
  num_rows = max(1, -(-n // num_cols))
  cells = np.full((num_rows * num_cols, h, w, 3), pad_value, np.float32)
  cells[:n] = x
  return images_lib.image_grid(
      cells.reshape(num_rows, num_cols, h, w, 3), pad, pad_value=pad_value,
      as_uint8=False)


def traversal_values(size: int, max_values: int = 10) -> np.ndarray:
  """Up to ``max_values`` evenly spread class indices of a factor: int32."""
  if size <= max_values:
    return np.arange(size, dtype=np.int32)
  return np.round(np.linspace(0, size - 1, max_values)).astype(np.int32)


def traversal_factors(base_factors, factor: int, size: int,
                      max_values: int = 10) -> np.ndarray:
  """Copies of ``base_factors`` (K,) with one factor swept: int32 (n, K)."""
  values = traversal_values(size, max_values)
  rows = np.repeat(np.asarray(base_factors, np.int32)[None], len(values), 0)
  rows[:, factor] = values
  return rows


def dataset_overview(dataset, key: jax.Array, num_samples: int = 16,
                     max_values: int = 10):
  """Random samples and one traversal row per factor.

  Args:
    dataset: a ``GroundTruthData``.
    key: PRNG key for the samples; the traversals start from the first one.
    num_samples: number of random samples.
    max_values: most values shown per traversal row (and grid width).

  Returns:
    (samples grid (H1, W, 3), list of (factor name, traversal row)), floats.
  """
  factors = np.asarray(dataset.sample_factors(key, num_samples))
  sweeps = [traversal_factors(factors[0], k, size, max_values)
            for k, size in enumerate(dataset.factor_sizes)]
  # One render call for everything (one compile for procedural data).
  render = jax.jit(dataset.render) if dataset.is_pure else dataset.render
  images = np.asarray(render(np.concatenate([factors] + sweeps)))
  # Images: rows of max_values images; vectors: one vector per row.
  num_cols = 1 if len(dataset.observation_shape) == 1 else max(max_values, 1)
  sample_grid = tile_rows(images[:num_samples], num_cols)
  rows, start = [], num_samples
  for name, size, sweep in zip(dataset.factor_names, dataset.factor_sizes,
                               sweeps):
    row = tile_rows(images[start:start + len(sweep)], num_cols)
    start += len(sweep)
    rows.append((f'{name} ({len(sweep)}/{size})', row))
  return sample_grid, rows


def save_dataset_overview(dataset, path: str, *, seed: int = 0,
                          num_samples: int = 16, max_values: int = 10,
                          title: str | None = None) -> str:
  """Writes ``dataset_overview`` as a labelled PNG at ``path``."""
  samples, rows = dataset_overview(dataset, jax.random.key(seed), num_samples,
                                   max_values)
  heights = [samples.shape[0]] + [r.shape[0] for _, r in rows]
  width = samples.shape[1]
  vector = len(dataset.observation_shape) == 1
  px = 3.0 / 100  # inches per image pixel at 100 dpi, 3x upscaled.
  # Vectors (one per 2-pixel grid row) are drawn 6 inches wide, 0.1 per row.
  fig_width = 6.0 if vector else width * px + 1.8
  row_height = 0.05 if vector else px
  fig = figure.Figure(
      figsize=(fig_width,
               sum(heights) * row_height + 0.25 * len(heights) + 0.5),
      dpi=100)
  axes = fig.subplots(len(heights), 1,
                      gridspec_kw=dict(height_ratios=heights))
  labels = [f'{num_samples} random samples'] + [name for name, _ in rows]
  for ax, image, label in zip(axes, [samples] + [r for _, r in rows], labels):
    ax.imshow(image, interpolation='nearest', aspect='auto' if vector else 1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_ylabel(label, rotation=0, ha='right', va='center', fontsize=8)
  axes[0].set_title(title or f'{dataset.name} ({dataset.variant})',
                  fontsize=10)
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, bbox_inches='tight')
  return path


def overview_filename(name: str, variant: str) -> str:
  """The PNG file name used by ``experiments.show_data``."""
  return f'{name}.png' if variant == 'original' else f'{name}_{variant}.png'


__all__ = [
    'tile_rows', 'traversal_values',
    'traversal_factors', 'dataset_overview', 'save_dataset_overview',
    'overview_filename']
