"""Dataset-level analysis: local alignment over a sample, perturbation checks.

``local_alignment`` samples grid points uniformly (a fixed seed), computes the
finite-difference Jacobian at each (``jacobian``) and the alignment scores of
its local PCA (``alignment``), and summarises them by median and quantiles.

``perturbation_report`` compares a variant with its original on a sample:
the bound ``|x' - x|_inf <= eps`` at every sampled point, mean |change|, the
change of total pixel variance, duplicate images, and a 1-nearest-neighbour
factor probe (train / test split of the sample; use a dense ``block_points``
sample for it, see there).
"""

from __future__ import annotations

from typing import Sequence

import jax
import numpy as np

from disent_bias.analysis import alignment
from disent_bias.analysis import jacobian
from disent_bias.data import perturbations
from disent_bias.metrics import sampling

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def sample_points(dataset, num_points: int, seed: int = 0) -> np.ndarray:
  """Distinct grid points, uniform without replacement: int32 (N, K).

  The whole grid (in index order) when it has at most ``num_points`` points.
  """
  if dataset.num_points <= num_points:
    return np.asarray(dataset.all_factors(), np.int32)
  rng = np.random.default_rng(seed)
  index = rng.choice(dataset.num_points, size=num_points, replace=False)
  return np.asarray(dataset.index_to_factors(np.sort(index)), np.int32)


def block_points(dataset, max_points: int = 4096,
                 seed: int = 0) -> np.ndarray:
  """Every grid point of a random contiguous block: int32 (N, K), N <= max.

  Factor k takes ``min(size_k, width)`` consecutive values starting at a
  random offset, ``width >= 3`` the largest with at most ``max_points``
  points (only a width of 3 may exceed it). The block contains, for each of
  its interior points, all grid neighbours within one step. The nearest-neighbour probe on such a
  dense sample asks whether an image's nearest other image is a grid
  neighbour (local recoverability); on a sparse uniform sample the nearest
  image is usually several steps away in some factor, and the probe measures
  the image metric's large-scale geometry instead.
  """
  sizes = [int(s) for s in dataset.factor_sizes]
  width = 3
  while (width < max(sizes) and
         np.prod([min(s, width + 1) for s in sizes]) <= max_points):
    width += 1
  rng = np.random.default_rng(seed)
  axes = []
  for size in sizes:
    width_k = min(size, width)
    start = int(rng.integers(0, size - width_k + 1))
    axes.append(np.arange(start, start + width_k))
  grid = np.meshgrid(*axes, indexing='ij')
  return np.stack([g.reshape(-1) for g in grid], -1).astype(np.int32)


def _summary(values: np.ndarray) -> dict[str, float]:
  values = np.asarray(values, np.float64)
  out = {f'q{int(q * 100):02d}': float(np.quantile(values, q))
         for q in QUANTILES}
  out.update(mean=float(values.mean()), std=float(values.std()))
  return out


IMAGE_BLUR = 1.0  # The documented criterion's blur (pixels) for images.


def criterion(dataset, blur: float | None = None,
              columns: Sequence[int] | str | None = 'ordinal'
              ) -> tuple[float, tuple[int, ...] | None]:
  """The blur and scored columns of the documented criterion.

  Args:
    dataset: a ``GroundTruthData``.
    blur: pixels; None is ``IMAGE_BLUR`` for image observations (H, W, C)
      and 0 for vectors.
    columns: ``'ordinal'`` (``perturbations.mixed_factors``), None (every
      factor) or explicit factor indices.

  Returns:
    ``(blur, columns)`` with columns a tuple of indices, or None for all.

  Raises:
    ValueError: an unknown ``columns`` string, or no factor to score.
  """
  if blur is None:
    blur = IMAGE_BLUR if len(dataset.observation_shape) == 3 else 0.0
  if isinstance(columns, str):
    if columns != 'ordinal':
      raise ValueError(f"columns must be 'ordinal', None (all factors) or "
                       f'factor indices, got {columns!r}')
    columns = perturbations.mixed_factors(dataset.factor_sizes)
  elif columns is not None:
    columns = tuple(int(c) for c in columns)
  if columns is not None and not columns:
    raise ValueError(
        f'{dataset.name}: no factor to score: none of '
        f'{dict(zip(dataset.factor_names, dataset.factor_sizes))} is ordinal '
        f'(>= {perturbations.MIN_ORDINAL_VALUES} values); pass columns=None '
        'to score all factors')
  return float(blur), columns


def local_alignment(dataset, factors: np.ndarray, *, radius: int = 1,
                    chunk: int = 32, blur: float | None = None,
                    columns: Sequence[int] | str | None = 'ordinal') -> dict:
  """Alignment of the generator's local PCA with the factor axes.

  The defaults are the documented criterion (docs/analysis.md): the ordinal
  factors' Jacobian columns of renders blurred by one pixel for images
  (none for vectors). ``blur=0.0, columns=None`` gives the raw scores.

  Args:
    dataset: a ``GroundTruthData`` (any variant).
    factors: int (N, K) grid points (see ``sample_points``).
    radius: finite-difference stencil half width (``jacobian``).
    chunk: points per jitted Jacobian call.
    blur: Gaussian blur sigma (pixels) of the renders (``jacobian``); None:
      1 for image observations, 0 for vectors (``criterion``).
    columns: the factors whose Jacobian columns are scored: ``'ordinal'``
      (default, ``perturbations.mixed_factors``: a finite difference along a
      categorical factor such as dSprites / Shapes3D shape is a jump between
      unrelated images, not a local direction), None for all, or indices.

  Returns:
    dict: ``median_dto``, ``median_offdiag_mass``, ``median_offdiag_mass_raw``,
    ``median_max_abs_cosine``; per score a quantile summary under
    ``<score>_summary``; the raw per-point arrays under ``per_point``
    (numpy, not JSON); ``column_norm_median`` (K,) median |J[:, k]|;
    ``mean_abs_cosine`` (K, K) mean |cosine| between columns; the ``blur``
    and ``columns`` used (None: all).
  """
  blur, columns = criterion(dataset, blur, columns)
  jacs = jacobian.generator_jacobians(dataset, factors, radius=radius,
                                      chunk=chunk, blur=blur)
  if columns is not None:
    jacs = jacs[..., np.asarray(list(columns), np.int64)]
  scores = alignment.batch_alignment_scores(jacs)
  cos = np.abs(np.asarray(jax.vmap(alignment.cosine_matrix)(jacs)))
  norms = np.linalg.norm(jacs, axis=1)  # (N, K)
  out = {'num_points': int(len(factors)), 'radius': radius, 'blur': blur,
         'columns': None if columns is None else [int(c) for c in columns]}
  for name in ('dto', 'offdiag_mass', 'offdiag_mass_raw', 'max_abs_cosine'):
    out[f'median_{name}'] = float(np.median(scores[name]))
    out[f'{name}_summary'] = _summary(scores[name])
  out['column_norm_median'] = np.median(norms, 0).tolist()
  out['mean_abs_cosine'] = cos.mean(0).round(4).tolist()
  out['per_point'] = {k: v for k, v in scores.items()}
  return out


def _render(dataset, factors: np.ndarray, chunk: int = 256) -> np.ndarray:
  """Renders in chunks of one shape (the last is padded): one compilation."""
  parts = []
  for i in range(0, len(factors), chunk):
    part = factors[i:i + chunk]
    n = len(part)
    if dataset.is_pure and n < chunk:
      part = np.concatenate([part, np.repeat(part[-1:], chunk - n, 0)])
    parts.append(sampling.observe(dataset, part)[:n])
  return np.concatenate(parts, 0).astype(np.float32)


def count_duplicates(images: np.ndarray, decimals: int = 6) -> int:
  """Images equal to an earlier one after rounding: exact, sort-based.

  Each rounded image's bytes are one sort key (-0.0 is mapped to 0.0 first),
  so equal images are found without comparing all pairs.
  """
  flat = np.round(images.reshape(len(images), -1), decimals) + 0.0
  flat = np.ascontiguousarray(flat)
  rows = flat.view(np.dtype((np.void, flat.dtype.itemsize * flat.shape[1])))
  return int(len(flat) - len(np.unique(rows[:, 0])))


def nearest_neighbour_probe(images: np.ndarray, factors: np.ndarray, *,
                            train_fraction: float = 0.8, seed: int = 0,
                            tolerance: int = 0) -> np.ndarray:
  """Per-factor accuracy of a 1-NN classifier from images to factors: (K,).

  A prediction counts as correct when it is within ``tolerance`` grid steps
  (0: exact class).
  """
  from sklearn import neighbors  # pylint: disable=g-import-not-at-top
  n = len(images)
  order = np.random.default_rng(seed).permutation(n)
  cut = int(train_fraction * n)
  tr, te = order[:cut], order[cut:]
  flat = images.reshape(n, -1)
  knn = neighbors.NearestNeighbors(n_neighbors=1).fit(flat[tr])
  _, idx = knn.kneighbors(flat[te])
  pred = factors[tr][idx[:, 0]]
  return (np.abs(pred - factors[te]) <= tolerance).mean(0)


def perturbation_report(original, variant, factors: np.ndarray, *,
                        probe_points: int | None = None,
                        tolerance: int = 0) -> dict:
  """Checks a variant against its original on sampled grid points.

  Args:
    original: the ``original`` dataset.
    variant: the same grid with a variant applied (``perturbed``/``noise``).
    factors: int (N, K) distinct grid points.
    probe_points: how many of them the nearest-neighbour probe uses (all
      when None).
    tolerance: probe tolerance in grid steps.

  Returns:
    dict: ``epsilon``; ``max_abs_change`` (max over points of
    |x' - x|_inf) and ``bound_holds``; ``mean_abs_change`` (mean over pixels
    and points); ``total_variance_original`` / ``_variant`` (sum over pixels
    of the per-pixel variance across the sample) and
    ``variance_change_relative``; ``num_duplicates`` (sampled points whose
    variant image equals another's) and ``num_duplicates_original`` (the
    same for the original images); ``probe_accuracy_original`` /
    ``_variant`` (K,) and their difference.
  """
  return perturbation_reports(original, [variant], factors,
                              probe_points=probe_points,
                              tolerance=tolerance)[0]


def perturbation_reports(original, variants, factors: np.ndarray, *,
                         probe_points: int | None = None,
                         tolerance: int = 0) -> list[dict]:
  """``perturbation_report`` for several variants of one original.

  The original is rendered and probed once for all of them.
  """
  x = _render(original, factors)
  var_x = float(x.reshape(len(x), -1).var(0).sum())
  duplicates_x = count_duplicates(x)
  m = len(factors) if probe_points is None else min(probe_points, len(factors))
  acc_x = nearest_neighbour_probe(x[:m], factors[:m], tolerance=tolerance)
  reports = []
  for variant in variants:
    y = _render(variant, factors)
    diff = np.abs(y - x).reshape(len(x), -1)
    per_point = diff.max(1)
    var_y = float(y.reshape(len(y), -1).var(0).sum())
    acc_y = nearest_neighbour_probe(y[:m], factors[:m], tolerance=tolerance)
    eps = float(variant.epsilon)
    reports.append({
        'variant': variant.variant,
        'epsilon': eps,
        'num_points': int(len(factors)),
        'max_abs_change': float(per_point.max()),
        'bound_holds': bool((per_point <= eps + 1e-6).all()),
        'mean_abs_change': float(diff.mean()),
        'total_variance_original': var_x,
        'total_variance_variant': var_y,
        'variance_change_relative': (var_y - var_x) / max(var_x, 1e-12),
        'num_duplicates': count_duplicates(y),
        'num_duplicates_original': duplicates_x,
        'probe_points': int(m),
        'probe_tolerance': int(tolerance),
        'probe_accuracy_original': acc_x.tolist(),
        'probe_accuracy_variant': acc_y.tolist(),
        'probe_accuracy_drop_max': float(np.max(acc_x - acc_y)),
    })
  return reports
