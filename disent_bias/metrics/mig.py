"""Mutual Information Gap (Chen et al., 2018), disentanglement_lib semantics.

References:
  Chen, Li, Grosse & Duvenaud, "Isolating Sources of Disentanglement in
  Variational Autoencoders", NeurIPS 2018 (arXiv:1802.04942), Eq. (5);
  disentanglement_lib ``evaluation/metrics/mig.py`` (``discrete_mig``).
"""

from __future__ import annotations

import jax
import numpy as np

from disent_bias.metrics import utils


def mig_matrix(codes: np.ndarray, factors: np.ndarray,
               num_bins: int = 20) -> np.ndarray:
  """Discrete MI (nats) between histogram-binned codes and factors: (D, K)."""
  return utils.discrete_mutual_info(
      utils.histogram_discretize(codes, num_bins), factors)


def mig(codes: jax.typing.ArrayLike, factors: jax.typing.ArrayLike,
        num_bins: int = 20) -> float:
  """Mutual information gap, averaged over factors.

  Each code is discretised into ``num_bins`` equal-width bins over its own
  range; ``m[i, j]`` is the discrete mutual information (nats) of binned code
  i and factor j; per factor the gap between its largest and second largest
  ``m`` is divided by the factor's entropy; the score is the mean over
  factors.

  Args:
    codes: (N, D) real codes, D >= 2. numpy or JAX.
    factors: (N, K) integer factor classes, each taking at least two values.
    num_bins: bins per code (disentanglement_lib uses 20).

  Returns:
    The score in [0, 1] as a Python float. A constant code has zero mutual
    information with every factor; a duplicated code gives its factor a gap
    of 0.

  Raises:
    ValueError: non-finite codes, mismatched N, fewer than 2 codes, or a
      constant factor (zero entropy, the ratio is undefined).
    TypeError: factors are not integers.
  """
  codes, factors = utils.check_pair(codes, factors)
  utils.require_min_codes(codes, 2, 'MIG')
  utils.require_varying_factors(factors, 'MIG')
  m = mig_matrix(codes, factors, num_bins)
  entropy = utils.discrete_entropy(factors)
  sorted_m = np.sort(m, axis=0)[::-1]
  return float(np.mean((sorted_m[0] - sorted_m[1]) / entropy))
