"""Separated Attribute Predictability (Kumar et al., 2018), discrete factors.

References:
  Kumar, Sattigeri & Balakrishnan, "Variational Inference of Disentangled
  Latent Concepts from Unlabeled Observations", ICLR 2018, Sec. 3;
  disentanglement_lib ``evaluation/metrics/sap_score.py``
  (``continuous_factors=False``).
"""

from __future__ import annotations

import jax
import numpy as np

from disent_bias.metrics import utils


def sap_matrix(codes_train: np.ndarray, factors_train: np.ndarray,
               codes_test: np.ndarray, factors_test: np.ndarray, *,
               seed: int = 0) -> np.ndarray:
  """Test accuracy of a one-code linear SVM per (code, factor): (D, K).

  ``LinearSVC(C=0.01, class_weight='balanced')`` with the dual solver, the
  scikit-learn default when disentanglement_lib was published.
  """
  from sklearn import svm  # pylint: disable=g-import-not-at-top
  num_codes, num_factors = codes_train.shape[1], factors_train.shape[1]
  scores = np.zeros((num_codes, num_factors))
  for i in range(num_codes):
    for j in range(num_factors):
      clf = svm.LinearSVC(C=0.01, class_weight='balanced', dual=True,
                          random_state=seed)
      with utils.sklearn_clock():
        clf.fit(codes_train[:, i:i + 1], factors_train[:, j])
        pred = clf.predict(codes_test[:, i:i + 1])
      scores[i, j] = np.mean(pred == factors_test[:, j])
  return scores


def sap(codes_train: jax.typing.ArrayLike, factors_train: jax.typing.ArrayLike,
        codes_test: jax.typing.ArrayLike, factors_test: jax.typing.ArrayLike,
        *, seed: int = 0) -> float:
  """SAP score: mean over factors of the gap between the two best codes.

  Args:
    codes_train: (N, D) codes, D >= 2.
    factors_train: (N, K) integer classes, none constant.
    codes_test: (M, D) codes.
    factors_test: (M, K) classes.
    seed: ``random_state`` of the SVMs.

  Returns:
    The score as a float. Not invariant to rescaling a code: the SVM's
    regularisation (C=0.01) acts on the raw code scale, as in the reference.

  Raises:
    ValueError: bad shapes, non-finite codes, < 2 codes, constant factor.
    TypeError: non-integer factors.
  """
  codes_train, factors_train, codes_test, factors_test = (
      utils.check_supervised(codes_train, factors_train, codes_test,
                             factors_test, 'SAP', min_codes=2))
  scores = sap_matrix(codes_train, factors_train, codes_test, factors_test,
                      seed=seed)
  sorted_scores = np.sort(scores, axis=0)
  return float(np.mean(sorted_scores[-1] - sorted_scores[-2]))
