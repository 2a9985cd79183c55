"""Modularity and explicitness (Ridgeway & Mozer, 2018).

References:
  Ridgeway & Mozer, "Learning Deep Disentangled Embeddings With the
  F-Statistic Loss", NeurIPS 2018 (arXiv:1802.05312), Sec. 3;
  disentanglement_lib ``evaluation/metrics/modularity_explicitness.py``.
"""

from __future__ import annotations

import jax
import numpy as np

from disent_bias.metrics import utils


def modularity(mutual_information: np.ndarray) -> float:
  """Mean over codes of 1 - (sum of squared MI off the max) / (max * (K-1)).

  Args:
    mutual_information: (D, K) MI of code i with factor j, K >= 2.

  Returns:
    The score; a code with zero MI to every factor scores 0 (reference).
  """
  squared = np.square(mutual_information)
  max_squared = np.max(squared, axis=1)
  numerator = np.sum(squared, axis=1) - max_squared
  denominator = max_squared * (squared.shape[1] - 1.)
  zero = max_squared == 0.
  delta = numerator / np.where(zero, 1., denominator)
  score = np.where(zero, 0., 1. - delta)
  return float(np.mean(score))


def roc_auc(target: np.ndarray, score: np.ndarray) -> float:
  """Area under the ROC curve of ``score`` for boolean ``target``.

  The Mann-Whitney form (ties count one half), equal to
  ``sklearn.metrics.roc_auc_score`` and cheaper per call.
  """
  import scipy.stats  # pylint: disable=g-import-not-at-top
  ranks = scipy.stats.rankdata(score)
  num_pos = int(target.sum())
  num_neg = target.size - num_pos
  return float((ranks[target].sum() - num_pos * (num_pos + 1) / 2.)
               / (num_pos * num_neg))


def macro_roc_auc(labels: np.ndarray, proba: np.ndarray,
                  classes: np.ndarray) -> float:
  """One-vs-rest ROC AUC per class, averaged (sklearn's macro average).

  Classes with no positive or no negative example in ``labels`` are skipped
  (the reference would fail there).

  Args:
    labels: (N,) class labels.
    proba: (N, C) predicted probability of each class.
    classes: (C,) the class of each column of ``proba``.

  Returns:
    The mean AUC, NaN when every class is skipped.
  """
  aucs = []
  for c, cls in enumerate(classes):
    target = labels == cls
    if target.all() or not target.any():
      continue
    aucs.append(roc_auc(target, proba[:, c]))
  return float(np.mean(aucs)) if aucs else float('nan')


def explicitness_per_factor(codes_train: np.ndarray, y_train: np.ndarray,
                            codes_test: np.ndarray, y_test: np.ndarray, *,
                            seed: int = 0) -> tuple[float, float]:
  """ROC AUC (train, test) of a logistic regression predicting one factor."""
  clf = utils.logistic_regression(seed)
  with utils.sklearn_clock():
    clf.fit(codes_train, y_train)
    proba_train = clf.predict_proba(codes_train)
    proba_test = clf.predict_proba(codes_test)
  return (macro_roc_auc(y_train, proba_train, clf.classes_),
          macro_roc_auc(y_test, proba_test, clf.classes_))


def modularity_explicitness(
    codes_train: jax.typing.ArrayLike, factors_train: jax.typing.ArrayLike,
    codes_test: jax.typing.ArrayLike, factors_test: jax.typing.ArrayLike, *,
    num_bins: int = 20, seed: int = 0) -> dict[str, float]:
  """Modularity (from binned MI) and explicitness (classifier ROC AUC).

  Args:
    codes_train: (N, D) codes.
    factors_train: (N, K) integer classes, K >= 2, none constant.
    codes_test: (M, D) codes.
    factors_test: (M, K) classes.
    num_bins: histogram bins per code for the mutual information.
    seed: ``random_state`` of the classifiers.

  Returns:
    ``modularity``, ``explicitness_train``, ``explicitness_test``. Codes are
    standardised with the training mean and std before the classifier; a
    constant code (std 0) is only centred (the reference divides by zero).

  Raises:
    ValueError: bad shapes, non-finite codes, < 2 factors, constant factor.
    TypeError: non-integer factors.
  """
  codes_train, factors_train, codes_test, factors_test = (
      utils.check_supervised(codes_train, factors_train, codes_test,
                             factors_test, 'modularity_explicitness',
                             min_factors=2))
  mi = utils.discrete_mutual_info(
      utils.histogram_discretize(codes_train, num_bins), factors_train)
  mean = codes_train.mean(axis=0)
  std = codes_train.std(axis=0)
  std = np.where(std > 0., std, 1.)
  train_norm = (codes_train - mean) / std
  test_norm = (codes_test - mean) / std
  train, test = [], []
  for j in range(factors_train.shape[1]):
    auc_train, auc_test = explicitness_per_factor(
        train_norm, factors_train[:, j], test_norm, factors_test[:, j],
        seed=seed)
    train.append(auc_train)
    test.append(auc_test)
  return {
      'modularity': modularity(mi),
      'explicitness_train': float(np.mean(train)),
      'explicitness_test': float(np.mean(test)),
  }
