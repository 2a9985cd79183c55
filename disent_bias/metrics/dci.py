"""Disentanglement, Completeness, Informativeness (Eastwood & Williams, 2018).

Gradient boosted trees as in disentanglement_lib ``evaluation/metrics/dci.py``.
sklearn and scipy.stats are imported where they are used (here and in the
other sklearn-backed metrics): together they cost about 2 s of start-up that
a process scoring only MIG, or none, does not need.

References:
  Eastwood & Williams, "A Framework for the Quantitative Evaluation of
  Disentangled Representations", ICLR 2018, Sec. 2.
"""

from __future__ import annotations

import jax
import numpy as np

from disent_bias.metrics import utils


def importance_gbt(codes_train: np.ndarray, factors_train: np.ndarray,
                   codes_test: np.ndarray, factors_test: np.ndarray, *,
                   seed: int = 0) -> tuple[np.ndarray, float, float]:
  """Per-factor GradientBoostingClassifier (sklearn defaults).

  Returns:
    (importance (D, K) = |feature_importances_|, mean train accuracy, mean
    test accuracy).
  """
  from sklearn import ensemble  # pylint: disable=g-import-not-at-top
  num_codes, num_factors = codes_train.shape[1], factors_train.shape[1]
  importance = np.zeros((num_codes, num_factors), dtype=np.float64)
  train_acc, test_acc = [], []
  for j in range(num_factors):
    model = ensemble.GradientBoostingClassifier(random_state=seed)
    with utils.sklearn_clock():
      model.fit(codes_train, factors_train[:, j])
      pred_train = model.predict(codes_train)
      pred_test = model.predict(codes_test)
    importance[:, j] = np.abs(model.feature_importances_)
    train_acc.append(np.mean(pred_train == factors_train[:, j]))
    test_acc.append(np.mean(pred_test == factors_test[:, j]))
  return importance, float(np.mean(train_acc)), float(np.mean(test_acc))


def disentanglement(importance: np.ndarray) -> float:
  """Importance-weighted mean of 1 - H_K(code's importance over factors).

  Args:
    importance: (D, K) non-negative importance of code i for factor j.
  """
  import scipy.stats  # pylint: disable=g-import-not-at-top
  per_code = 1. - scipy.stats.entropy(importance.T + 1e-11,
                                      base=importance.shape[1])
  if importance.sum() == 0.:
    importance = np.ones_like(importance)
  code_importance = importance.sum(axis=1) / importance.sum()
  return float(np.sum(per_code * code_importance))


def completeness(importance: np.ndarray) -> float:
  """Importance-weighted mean of 1 - H_D(factor's importance over codes)."""
  import scipy.stats  # pylint: disable=g-import-not-at-top
  per_factor = 1. - scipy.stats.entropy(importance + 1e-11,
                                        base=importance.shape[0])
  if importance.sum() == 0.:
    importance = np.ones_like(importance)
  factor_importance = importance.sum(axis=0) / importance.sum()
  return float(np.sum(per_factor * factor_importance))


def dci(codes_train: jax.typing.ArrayLike, factors_train: jax.typing.ArrayLike,
        codes_test: jax.typing.ArrayLike, factors_test: jax.typing.ArrayLike,
        *, seed: int = 0) -> dict[str, float]:
  """DCI scores from gradient boosted trees.

  Args:
    codes_train: (N, D) codes, D >= 2.
    factors_train: (N, K) integer factor classes, K >= 2, none constant.
    codes_test: (M, D) codes.
    factors_test: (M, K) factor classes.
    seed: ``random_state`` of the classifiers.

  Returns:
    ``disentanglement`` and ``completeness`` (entropies with bases K and D,
    +1e-11 as in disentanglement_lib) and ``informativeness_train`` /
    ``informativeness_test``: the mean classification accuracy over factors.
    A constant code gets zero importance.

  Raises:
    ValueError: bad shapes, non-finite codes, fewer than 2 codes or factors,
      or a constant training factor.
    TypeError: non-integer factors.
  """
  codes_train, factors_train, codes_test, factors_test = (
      utils.check_train_test(codes_train, factors_train, codes_test,
                             factors_test))
  utils.require_min_codes(codes_train, 2, 'DCI')
  utils.require_min_factors(factors_train, 2, 'DCI')
  utils.require_varying_factors(factors_train, 'DCI', 'factors_train')
  importance, train_acc, test_acc = importance_gbt(
      codes_train, factors_train, codes_test, factors_test, seed=seed)
  return {
      'disentanglement': disentanglement(importance),
      'completeness': completeness(importance),
      'informativeness_train': train_acc,
      'informativeness_test': test_acc,
  }
