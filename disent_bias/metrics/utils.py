"""Input checks, histogram discretisation and discrete information measures.

These follow ``disentanglement_lib/evaluation/metrics/utils.py``; arrays here
are ``(N, D)`` codes and ``(N, K)`` factors (the library stores them
transposed).
"""

from __future__ import annotations

import contextlib
import time
from typing import Iterator

import numpy as np

# Seconds spent inside scikit-learn fits and predictions since import; read
# with ``sklearn_seconds()``. Used to report where evaluation time goes.
_SKLEARN_SECONDS = [0.0]


@contextlib.contextmanager
def sklearn_clock() -> Iterator[None]:
  """Adds the wall time of the enclosed scikit-learn calls to the counter."""
  start = time.perf_counter()
  try:
    yield
  finally:
    _SKLEARN_SECONDS[0] += time.perf_counter() - start


def sklearn_seconds() -> float:
  """Total seconds spent inside ``sklearn_clock`` blocks so far."""
  return _SKLEARN_SECONDS[0]


def check_codes(codes, name: str = 'codes') -> np.ndarray:
  """Validates codes and returns them as float64 numpy (N, D).

  Raises:
    ValueError: not 2-D, empty, or containing NaN / infinite values.
    TypeError: not a real numeric array.
  """
  arr = np.asarray(codes)
  if arr.ndim != 2:
    raise ValueError(f'{name} must have shape (N, num_codes), got {arr.shape}')
  if arr.shape[0] == 0 or arr.shape[1] == 0:
    raise ValueError(f'{name} is empty: shape {arr.shape}')
  if not (np.issubdtype(arr.dtype, np.floating)
          or np.issubdtype(arr.dtype, np.integer)):
    raise TypeError(f'{name} must be a real numeric array, got {arr.dtype}')
  arr = arr.astype(np.float64)
  finite = np.isfinite(arr)
  if not finite.all():
    num_nan = int(np.isnan(arr).sum())
    num_inf = int(np.isinf(arr).sum())
    bad_codes = sorted(set(np.nonzero(~finite)[1].tolist()))
    raise ValueError(
        f'{name} contain non-finite values ({num_nan} NaN, {num_inf} inf) '
        f'in code columns {bad_codes}')
  return arr


def check_factors(factors, name: str = 'factors') -> np.ndarray:
  """Validates integer factor classes and returns int64 numpy (N, K).

  Raises:
    TypeError: the dtype is not an integer type (floats holding whole
      numbers are rejected too: factors are class indices).
    ValueError: not 2-D or empty.
  """
  arr = np.asarray(factors)
  if not np.issubdtype(arr.dtype, np.integer):
    raise TypeError(
        f'{name} must be integer class indices, got dtype {arr.dtype}')
  if arr.ndim != 2:
    raise ValueError(
        f'{name} must have shape (N, num_factors), got {arr.shape}')
  if arr.shape[0] == 0 or arr.shape[1] == 0:
    raise ValueError(f'{name} is empty: shape {arr.shape}')
  return arr.astype(np.int64)


def check_pair(codes, factors, *, suffix: str = ''
               ) -> tuple[np.ndarray, np.ndarray]:
  """Checks codes and factors and that they have the same number of points."""
  codes = check_codes(codes, 'codes' + suffix)
  factors = check_factors(factors, 'factors' + suffix)
  if codes.shape[0] != factors.shape[0]:
    raise ValueError(
        f'codes{suffix} and factors{suffix} need the same N, got '
        f'{codes.shape} and {factors.shape}')
  return codes, factors


def check_train_test(codes_train, factors_train, codes_test, factors_test):
  """Checks a train and a test split; both need the same code/factor counts."""
  codes_train, factors_train = check_pair(codes_train, factors_train,
                                          suffix='_train')
  codes_test, factors_test = check_pair(codes_test, factors_test,
                                        suffix='_test')
  if codes_train.shape[1] != codes_test.shape[1]:
    raise ValueError(
        'codes_train and codes_test need the same number of codes, got '
        f'{codes_train.shape} and {codes_test.shape}')
  if factors_train.shape[1] != factors_test.shape[1]:
    raise ValueError(
        'factors_train and factors_test need the same number of factors, got '
        f'{factors_train.shape} and {factors_test.shape}')
  return codes_train, factors_train, codes_test, factors_test


def check_supervised(codes_train, factors_train, codes_test, factors_test,
                     metric: str, *, min_codes: int = 1, min_factors: int = 1
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
  """The input checks of a train/test metric, in one place.

  ``check_train_test``, then at least ``min_codes`` codes and ``min_factors``
  factors, and no constant training factor; errors name ``metric``.

  Returns:
    (codes_train (N, D), factors_train (N, K), codes_test (M, D),
    factors_test (M, K)) as float64 / int64 numpy arrays.
  """
  codes_train, factors_train, codes_test, factors_test = check_train_test(
      codes_train, factors_train, codes_test, factors_test)
  require_min_codes(codes_train, min_codes, metric)
  require_min_factors(factors_train, min_factors, metric)
  require_varying_factors(factors_train, metric, 'factors_train')
  return codes_train, factors_train, codes_test, factors_test


def require_min_codes(codes: np.ndarray, minimum: int, metric: str):
  if codes.shape[1] < minimum:
    raise ValueError(
        f'{metric} needs at least {minimum} codes, got codes of shape '
        f'{codes.shape}')


def require_min_factors(factors: np.ndarray, minimum: int, metric: str):
  if factors.shape[1] < minimum:
    raise ValueError(
        f'{metric} needs at least {minimum} factors, got factors of shape '
        f'{factors.shape}')


def require_varying_factors(factors: np.ndarray, metric: str,
                            name: str = 'factors'):
  """Raises when a factor column takes a single value (score undefined)."""
  constant = [j for j in range(factors.shape[1])
              if np.all(factors[:, j] == factors[0, j])]
  if constant:
    raise ValueError(
        f'{metric} is undefined for a factor that takes a single value: '
        f'{name} columns {constant} are constant (drop them first)')


def histogram_discretize(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
  """Each code column into ``num_bins`` equal-width bins over its own range.

  Exactly ``np.digitize(x, np.histogram(x, num_bins)[1][:-1])`` per column, as
  disentanglement_lib's ``_histogram_discretize``; labels are 1..num_bins. A
  constant column falls into a single bin.

  Args:
    codes: float (N, D).
    num_bins: number of bins per code.

  Returns:
    int64 (N, D) bin labels.
  """
  if int(num_bins) < 1:
    raise ValueError(f'num_bins must be a positive int, got {num_bins}')
  out = np.zeros(codes.shape, dtype=np.int64)
  for i in range(codes.shape[1]):
    edges = np.histogram(codes[:, i], int(num_bins))[1]
    out[:, i] = np.digitize(codes[:, i], edges[:-1])
  return out


def _relabel(x: np.ndarray) -> tuple[np.ndarray, int]:
  values, inverse = np.unique(x, return_inverse=True)
  return inverse.reshape(-1), values.size


def mutual_info(a: np.ndarray, b: np.ndarray) -> float:
  """Mutual information (nats) of two discrete labelings of the same points.

  The same formula as ``sklearn.metrics.mutual_info_score`` (empirical joint
  distribution from the contingency table), written with ``np.bincount``.
  """
  ia, na = _relabel(a)
  ib, nb = _relabel(b)
  if na == 1 or nb == 1:
    return 0.0
  n = ia.size
  counts = np.bincount(ia * nb + ib, minlength=na * nb).reshape(na, nb)
  rows, cols = np.nonzero(counts)
  nz = counts[rows, cols].astype(np.float64)
  pi = counts.sum(axis=1).astype(np.float64)
  pj = counts.sum(axis=0).astype(np.float64)
  joint = nz / n
  log_outer = -np.log(pi[rows] * pj[cols]) + 2.0 * np.log(n)
  terms = joint * (np.log(nz) - np.log(n)) + joint * log_outer
  terms = np.where(np.abs(terms) < np.finfo(np.float64).eps, 0.0, terms)
  return float(max(terms.sum(), 0.0))


def discrete_mutual_info(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
  """Pairwise discrete MI (nats): (N, D) x (N, K) labels -> float64 (D, K)."""
  out = np.zeros((codes.shape[1], factors.shape[1]))
  for i in range(codes.shape[1]):
    for j in range(factors.shape[1]):
      out[i, j] = mutual_info(factors[:, j], codes[:, i])
  return out


def discrete_entropy(factors: np.ndarray) -> np.ndarray:
  """Empirical entropy (nats) of each column: (N, K) labels -> (K,)."""
  out = np.zeros(factors.shape[1])
  for j in range(factors.shape[1]):
    _, counts = np.unique(factors[:, j], return_counts=True)
    p = counts / counts.sum()
    out[j] = float(-(p * np.log(p)).sum())
  return out


def logistic_regression(seed: int):
  """``LogisticRegression()`` as disentanglement_lib ran it.

  The reference calls ``LogisticRegression()`` with scikit-learn's defaults of
  its time (< 0.22): the liblinear solver, C=1, one-vs-rest for several
  classes, with probabilities normalised over classes. Newer scikit-learn
  defaults to a multinomial lbfgs model, so the old defaults are spelled out.
  """
  from sklearn import linear_model, multiclass  # pylint: disable=g-import-not-at-top
  return multiclass.OneVsRestClassifier(
      linear_model.LogisticRegression(solver='liblinear', random_state=seed))
