"""Unsupervised scores from the code covariance and binned mutual information.

References:
  disentanglement_lib ``evaluation/metrics/unsupervised_metrics.py``
  (Locatello et al., "Challenging Common Assumptions in the Unsupervised
  Learning of Disentangled Representations", ICML 2019, App. C).
"""

from __future__ import annotations

import jax
import numpy as np
import scipy.linalg

from disent_bias.metrics import utils


def gaussian_total_correlation(cov: np.ndarray) -> float:
  """KL(N(0, cov) || N(0, diag(cov))) in nats.

  = 0.5 * (sum_i log cov_ii - log det cov); 0 for a diagonal ``cov``.
  """
  return float(0.5 * (np.sum(np.log(np.diag(cov)))
                      - np.linalg.slogdet(cov)[1]))


def gaussian_wasserstein_correlation(cov: np.ndarray) -> float:
  """Squared 2-Wasserstein distance between N(0, cov) and N(0, diag(cov)).

  2 tr(cov) - 2 tr(sqrtm(cov * diag(cov)[:, None])), as in the reference.
  """
  root = scipy.linalg.sqrtm(cov * np.expand_dims(np.diag(cov), axis=1))
  return float(2 * np.trace(cov) - 2 * np.real(np.trace(root)))


def unsupervised(codes: jax.typing.ArrayLike,
                 num_bins: int = 20) -> dict[str, float]:
  """Gaussian total / Wasserstein correlation and mean pairwise binned MI.

  Args:
    codes: (N, D) codes, D >= 2, N >= 2.
    num_bins: histogram bins per code for the mutual information.

  Returns:
    ``gaussian_total_correlation`` (nats), ``gaussian_wasserstein_correlation``
    and its value divided by tr(cov)
    (``gaussian_wasserstein_correlation_norm``), from the sample covariance
    (ddof=1); ``mutual_info_score``: mean over ordered pairs of
    distinct codes of their binned mutual information (nats). Constant codes
    (variance 0) are independent of the rest and are left out of the three
    Gaussian scores (the reference returns NaN); if all are constant those
    scores are 0.

  Raises:
    ValueError: non-finite codes, fewer than 2 codes or 2 points.
  """
  codes = utils.check_codes(codes)
  utils.require_min_codes(codes, 2, 'unsupervised scores')
  if codes.shape[0] < 2:
    raise ValueError(f'need at least 2 points for a covariance, got '
                     f'{codes.shape}')
  num_codes = codes.shape[1]
  cov = np.cov(codes.T)
  varying = np.diag(cov) > 0.
  scores = {}
  if varying.any():
    sub = cov[np.ix_(varying, varying)]
    scores['gaussian_total_correlation'] = gaussian_total_correlation(sub)
    wasserstein = gaussian_wasserstein_correlation(sub)
    scores['gaussian_wasserstein_correlation'] = wasserstein
    scores['gaussian_wasserstein_correlation_norm'] = float(
        wasserstein / np.sum(np.diag(sub)))
  else:
    scores['gaussian_total_correlation'] = 0.
    scores['gaussian_wasserstein_correlation'] = 0.
    scores['gaussian_wasserstein_correlation_norm'] = 0.
  binned = utils.histogram_discretize(codes, num_bins)
  mi = utils.discrete_mutual_info(binned, binned)
  np.fill_diagonal(mi, 0.)
  scores['mutual_info_score'] = float(np.sum(mi) / (num_codes**2 - num_codes))
  return scores
