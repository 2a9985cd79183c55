"""Reconstructions and latent traversals of a trained VAE, as image arrays.

Used by the train loop's eval images and by ``disent_bias.tools.visualize``. Latents
are ordered by their KL to the prior (most informative first), and each
latent is traversed over the range its posterior means take on the data (the
2nd to 98th percentile), not a fixed prior range: a collapsed latent then
shows a still image instead of a prior sweep it never uses.

Vector observations (the toy tier) are drawn as filled curves, so every
dataset gives images.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import numpy as np

from disent_bias.models import losses
from disent_bias.utils import images as images_lib

# Percentiles of the posterior means that bound a traversal.
RANGE_PERCENTILES = (2.0, 98.0)


@dataclasses.dataclass
class ModelImages:
  """What ``model_images`` computes for one model (one seed).

  Attributes:
    inputs: float (R, H, W, C) the first R observations as images.
    codes: float (N, D) the posterior means of all N observations.
    reconstructions: float (R, H, W, C) the first R decoded posterior means.
    traversals: float (D, T, R, H, W, C): latent ``order[i]`` traversed over
      T values for each of the first R inputs.
    order: int (D,) latents by decreasing KL.
    kl: float (D,) mean KL to the prior per latent (nats).
    variance: float (D,) mean posterior variance per latent.
    ranges: float (D, 2) traversal range of each latent (low, high).
  """
  inputs: np.ndarray
  codes: np.ndarray
  reconstructions: np.ndarray
  traversals: np.ndarray
  order: np.ndarray
  kl: np.ndarray
  variance: np.ndarray
  ranges: np.ndarray


def latent_ranges(mu: np.ndarray) -> np.ndarray:
  """(low, high) percentiles ``RANGE_PERCENTILES`` of each latent: (D, 2)."""
  return np.percentile(np.asarray(mu, np.float64), RANGE_PERCENTILES,
                       axis=0).T


def traversal_codes(base: np.ndarray, ranges: np.ndarray, latent: int,
                    steps: int) -> np.ndarray:
  """Copies of the codes ``base`` (R, D) with one latent swept: (T, R, D)."""
  values = np.linspace(ranges[latent, 0], ranges[latent, 1], steps)
  codes = np.repeat(np.asarray(base, np.float32)[None], steps, axis=0)
  codes[:, :, latent] = values[:, None]
  return codes


def model_images(encode: Callable[[Any, np.ndarray], Any],
                 decode: Callable[[Any, np.ndarray], Any], params: Any,
                 observations: np.ndarray, *, recon: str, steps: int,
                 rows: int) -> ModelImages:
  """Reconstructions and KL-ordered traversals of one model.

  Args:
    encode: ``(params, x (N, *obs)) -> (mu, logvar)``, each (N, D).
    decode: ``(params, z (M, D)) -> outputs (M, *obs)``.
    params: the model's parameters (one seed).
    observations: float (N, *obs) inputs; the posterior statistics and ranges
      are taken over all N.
    recon: the reconstruction loss (``losses.decoded_mean``).
    steps: values per traversal (T).
    rows: inputs reconstructed and traversed (R, at most N).

  Returns:
    A ``ModelImages``.
  """
  x = np.asarray(observations, np.float32)
  mu, logvar = (np.asarray(a, np.float64) for a in encode(params, x))
  variance = np.exp(logvar)
  kl = 0.5 * (mu ** 2 + variance - logvar - 1.0).mean(0)
  order = np.argsort(-kl, kind='stable')
  ranges = latent_ranges(mu)

  def decoded(z):
    out = losses.decoded_mean(decode(params, np.asarray(z, np.float32)), recon)
    return images_lib.from_observations(np.asarray(jax.device_get(out)))

  rows = min(rows, len(x))
  codes = np.stack([traversal_codes(mu[:rows], ranges, d, steps)
                    for d in order])  # (D, T, R, D)
  frames = decoded(codes.reshape(-1, mu.shape[1]))
  return ModelImages(
      inputs=images_lib.from_observations(x[:rows]), codes=mu, reconstructions=decoded(mu[:rows]),
      traversals=frames.reshape(*codes.shape[:3], *frames.shape[1:]),
      order=order, kl=kl, variance=variance.mean(0), ranges=ranges)


def reconstruction_grid(images: ModelImages) -> np.ndarray:
  """Inputs (top row) over reconstructions: uint8 (H', W', C)."""
  return images_lib.image_grid(
      np.stack([images.inputs, images.reconstructions]))


def traversal_grid(images: ModelImages, row: int = 0) -> np.ndarray:
  """One row per latent (by KL), one column per value, for input ``row``."""
  return images_lib.image_grid(images.traversals[:, :, row])


def traversal_frames(images: ModelImages, index: int) -> np.ndarray:
  """GIF frames of the ``index``-th latent by KL: uint8 (T, H', W', C).

  Each frame shows the R traversed inputs at one value: side by side, or
  stacked when they are wide (vectors drawn as curves).
  """
  frames = images.traversals[index]  # (T, R, H, W, C)
  height, width = frames.shape[2:4]
  layout = (lambda f: f[:, None]) if width > 2 * height else (
      lambda f: f[None])
  return np.stack([images_lib.image_grid(layout(f)) for f in frames])
