"""Summaries of scores over seeds, one definition for the whole package.

Every seed spread the package reports (``train``'s ``*_sd`` fields,
``reproduce``'s tables and ``results.json``, ``studies.noise_control``)
is ``seed_sd``: the sample standard deviation, ddof=1.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def seed_sd(values: npt.ArrayLike) -> float:
  """Sample standard deviation (ddof=1) of one score over seeds.

  Args:
    values: (S,) the score of each of S seeds.

  Returns:
    sqrt(sum((x - mean)^2) / (S - 1)); 0.0 for a single seed and NaN for
    none.

  Raises:
    ValueError: ``values`` is not 1-D.
  """
  values = np.asarray(values, np.float64)
  if values.ndim != 1:
    raise ValueError(f'expected one value per seed, shape (S,), got '
                     f'{values.shape}')
  if values.size == 0:
    return float('nan')
  if values.size == 1:
    return 0.0
  return float(values.std(ddof=1))


def mean_sd(values: npt.ArrayLike) -> str:
  """``mean ± sd`` of per-seed values (S,), 3 decimals; sd as ``seed_sd``."""
  values = np.asarray(values, np.float64)
  return f'{values.mean():.3f} ± {seed_sd(values):.3f}'
