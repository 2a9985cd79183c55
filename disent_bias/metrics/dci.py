"""Disentanglement, Completeness, Informativeness (Eastwood & Williams, 2018).

Gradient boosted trees as in disentanglement_lib ``evaluation/metrics/dci.py``
(the default, ``backend='exact'``), or LightGBM's histogram trees of the same
shape (``backend='lightgbm'``, the ``fast`` extra; docs/metrics.md gives the
deviation from the exact scores).
sklearn and scipy.stats are imported where they are used (here and in the
other sklearn-backed metrics): together they cost about 2 s of start-up that
a process scoring only MIG, or none, does not need.

References:
  Eastwood & Williams, "A Framework for the Quantitative Evaluation of
  Disentangled Representations", ICLR 2018, Sec. 2.
"""

from __future__ import annotations

import time
from typing import Sequence

import jax
import numpy as np

from disent_bias.metrics import utils


BACKENDS = ('exact', 'lightgbm')

# LightGBM's classifier in the shape of sklearn's GradientBoostingClassifier()
# defaults (100 rounds, learning rate 0.1, depth 3, leaves of one sample, no
# subsampling or penalty), one thread (the factors are fitted in parallel).
_LIGHTGBM_PARAMS = dict(
    n_estimators=100, learning_rate=0.1, max_depth=3, num_leaves=8,
    min_child_samples=1, subsample=1.0, colsample_bytree=1.0, reg_lambda=0.,
    importance_type='gain', n_jobs=1, deterministic=True,
    force_col_wise=True, verbose=-1)


def check_backend(backend: str) -> None:
  """Raises ValueError for an unknown backend and ImportError (one line)
  when the ``lightgbm`` backend's extra is not installed."""
  if backend not in BACKENDS:
    raise ValueError(f'unknown DCI backend {backend!r}; valid: '
                     f'{", ".join(BACKENDS)}')
  if backend == 'lightgbm':
    try:
      import lightgbm  # pylint: disable=g-import-not-at-top,unused-import
    except ImportError as e:
      raise ImportError(
          "DCI backend 'lightgbm' needs LightGBM: pip install "
          "'disent_bias[fast]' (or pip install lightgbm)") from e


def importance_gbt(codes_train: np.ndarray, factors_train: np.ndarray,
                   codes_test: np.ndarray, factors_test: np.ndarray, *,
                   seed: int = 0, n_jobs: int | None = -1,
                   backend: str = 'exact'
                   ) -> tuple[np.ndarray, float, float]:
  """Per-factor gradient boosted classifiers.

  The K classifiers are independent and fitted in parallel by joblib, in
  threads unless a ``joblib.parallel_config(backend=...)`` around the call
  says otherwise (the tree building releases the GIL; threads need no worker
  start-up and are as fast as ``loky``'s processes for the toy tier's three
  factors on two cores, docs/metrics.md). Each classifier is seeded with
  ``seed``, so the scores are the same for every ``n_jobs`` and backend.

  Args:
    codes_train, factors_train, codes_test, factors_test: (N, D), (N, K),
      (M, D), (M, K) numpy arrays.
    seed: ``random_state`` of every classifier.
    n_jobs: joblib's ``n_jobs``: -1 uses every core (at most K jobs), 1 fits
      one factor after the other.
    backend: ``'exact'`` (sklearn's ``GradientBoostingClassifier``) or
      ``'lightgbm'`` (histogram trees; ``fit_factor``).

  Returns:
    (importance (D, K), each column normalised to sum 1 (or 0), mean train
    accuracy, mean test accuracy).
  """
  import joblib  # pylint: disable=g-import-not-at-top
  check_backend(backend)
  num_factors = factors_train.shape[1]
  fit = joblib.delayed(fit_factor)
  with utils.sklearn_clock():
    n_jobs = min(joblib.effective_n_jobs(n_jobs), num_factors)
    fits = joblib.Parallel(n_jobs=n_jobs, prefer='threads')(
        fit(codes_train, factors_train[:, j], codes_test, factors_test[:, j],
            seed, backend) for j in range(num_factors))
  return _stack(fits)


def _stack(fits: Sequence[tuple[np.ndarray, float, float]]
           ) -> tuple[np.ndarray, float, float]:
  """(importance (D, K), mean train accuracy, mean test accuracy)."""
  importance = np.stack([f[0] for f in fits], axis=1)
  train_acc = float(np.mean([f[1] for f in fits]))
  test_acc = float(np.mean([f[2] for f in fits]))
  return importance, train_acc, test_acc


def fit_factor(codes_train: np.ndarray, target_train: np.ndarray,
               codes_test: np.ndarray, target_test: np.ndarray,
               seed: int, backend: str = 'exact'
               ) -> tuple[np.ndarray, float, float]:
  """One factor's classifier: (importance (D,), train acc, test acc).

  ``'exact'``: |``feature_importances_``| of sklearn's classifier (the
  impurity decrease of its splits, normalised to sum 1). ``'lightgbm'``: the
  total gain of each code's splits, normalised to sum 1 (docs/metrics.md).
  """
  if backend == 'lightgbm':
    import lightgbm  # pylint: disable=g-import-not-at-top
    model = lightgbm.LGBMClassifier(random_state=seed, **_LIGHTGBM_PARAMS)
    model.fit(codes_train, target_train)
    importance = np.abs(model.booster_.feature_importance('gain'))
    if importance.sum() > 0:
      importance = importance / importance.sum()
  else:
    from sklearn import ensemble  # pylint: disable=g-import-not-at-top
    model = ensemble.GradientBoostingClassifier(random_state=seed)
    model.fit(codes_train, target_train)
    importance = np.abs(model.feature_importances_)
  train_acc = np.mean(model.predict(codes_train) == target_train)
  test_acc = np.mean(model.predict(codes_test) == target_test)
  return importance, float(train_acc), float(test_acc)


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


def scores(importance: np.ndarray, train_acc: float, test_acc: float
           ) -> dict[str, float]:
  """DCI's four scores from the importance matrix and the accuracies."""
  return {
      'disentanglement': disentanglement(importance),
      'completeness': completeness(importance),
      'informativeness_train': train_acc,
      'informativeness_test': test_acc,
  }


def dci(codes_train: jax.typing.ArrayLike, factors_train: jax.typing.ArrayLike,
        codes_test: jax.typing.ArrayLike, factors_test: jax.typing.ArrayLike,
        *, seed: int = 0, n_jobs: int | None = -1,
        backend: str = 'exact') -> dict[str, float]:
  """DCI scores from gradient boosted trees.

  Args:
    codes_train: (N, D) codes, D >= 2.
    factors_train: (N, K) integer factor classes, K >= 2, none constant.
    codes_test: (M, D) codes.
    factors_test: (M, K) factor classes.
    seed: ``random_state`` of the classifiers.
    n_jobs: parallel fits of the per-factor classifiers (``importance_gbt``;
      -1: every core). The scores are the same for every value.
    backend: ``'exact'`` (default: sklearn, disentanglement_lib's
      classifier) or ``'lightgbm'`` (histogram trees, the ``fast`` extra;
      close to the exact scores, docs/metrics.md).

  Returns:
    ``disentanglement`` and ``completeness`` (entropies with bases K and D,
    +1e-11 as in disentanglement_lib) and ``informativeness_train`` /
    ``informativeness_test``: the mean classification accuracy over factors.
    A constant code gets zero importance.

  Raises:
    ValueError: bad shapes, non-finite codes, fewer than 2 codes or factors,
      a constant training factor, or an unknown backend.
    TypeError: non-integer factors.
    ImportError: ``backend='lightgbm'`` without LightGBM installed.
  """
  arrays = utils.check_supervised(codes_train, factors_train, codes_test,
                                  factors_test, 'DCI', min_codes=2,
                                  min_factors=2)
  return scores(*importance_gbt(*arrays, seed=seed, n_jobs=n_jobs,
                                backend=backend))


def split_sample(num_points: int, *, train_fraction: float = 2 / 3,
                 num_train: int | None = None, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
  """A seeded random train / test split of ``num_points`` rows.

  Args:
    num_points: rows of the sample.
    train_fraction: share of training rows (rounded down) when ``num_train``
      is None.
    num_train: training rows; overrides ``train_fraction``.
    seed: the split is ``jax.random.permutation(jax.random.key(seed))``.

  Returns:
    (train rows (num_train,), test rows (num_points - num_train,)), int64.

  Raises:
    ValueError: a split that leaves either side empty.
  """
  if num_train is None:
    if not 0.0 < train_fraction < 1.0:
      raise ValueError(f'train_fraction must be in (0, 1), got '
                       f'{train_fraction}')
    num_train = int(train_fraction * num_points)
  if not 0 < num_train < num_points:
    raise ValueError(f'a train / test split of {num_points} points needs '
                     f'0 < num_train < {num_points}, got {num_train}')
  order = np.asarray(jax.random.permutation(jax.random.key(seed), num_points),
                     np.int64)
  return order[:num_train], order[num_train:]


def dci_sample(codes: jax.typing.ArrayLike, factors: jax.typing.ArrayLike, *,
               train_fraction: float = 2 / 3, num_train: int | None = None,
               seed: int = 0, n_jobs: int | None = -1,
               backend: str = 'exact') -> dict[str, float]:
  """``dci`` of one sample, split at random into train and test rows.

  The trees are those of ``dci`` (same classifiers, same ``seed``), so
  ``dci_sample(c, f, seed=s)`` equals ``dci(c[tr], f[tr], c[te], f[te],
  seed=s)`` with ``tr, te = split_sample(len(c), seed=s)``.

  Args:
    codes: (N, D) codes, D >= 2.
    factors: (N, K) integer factor classes, K >= 2.
    train_fraction: share of the rows used for training (default 2/3).
    num_train: training rows; overrides ``train_fraction``.
    seed: seed of the split and of the classifiers.
    n_jobs, backend: see ``dci``.

  Returns:
    ``dci``'s scores.

  Raises:
    ValueError / TypeError: as ``dci``, and codes and factors with different
      numbers of rows, or a split with an empty side.
  """
  codes, factors = utils.check_pair(codes, factors)
  train, test = split_sample(len(codes), train_fraction=train_fraction,
                             num_train=num_train, seed=seed)
  return dci(codes[train], factors[train], codes[test], factors[test],
             seed=seed, n_jobs=n_jobs, backend=backend)


def dci_samples(samples: Sequence[Sequence[jax.typing.ArrayLike]],
                seeds: Sequence[int], *, backend: str = 'exact',
                n_jobs: int | None = -1
                ) -> tuple[list[dict[str, float]], list[float]]:
  """``dci`` of several samples, every (sample, factor) classifier fitted in
  one pool of joblib worker processes (``loky``).

  Each classifier is the one ``dci`` fits (same data, ``random_state``), so
  the scores equal ``dci(*sample, seed=seed, backend=backend)``.

  Args:
    samples: per sample ``(codes_train, factors_train, codes_test,
      factors_test)``.
    seeds: each sample's classifier seed.
    backend: as in ``dci``.
    n_jobs: worker processes (-1: every core; at most one per classifier;
      1: fitted here, one after the other).

  Returns:
    ``(scores, seconds)``: one ``dci`` result per sample, and the seconds
    its classifiers took to fit and predict, summed over its factors (in
    the workers).
  """
  import joblib  # pylint: disable=g-import-not-at-top
  check_backend(backend)
  checked = [utils.check_supervised(*sample, 'DCI', min_codes=2,
                                    min_factors=2) for sample in samples]
  tasks = [(i, j) for i, arrays in enumerate(checked)
           for j in range(arrays[1].shape[1])]
  # Longest first (a classifier's cost grows with its number of classes:
  # one tree per class per stage), so no worker is left with a long fit
  # at the end (dSprites' factors have 3 / 6 / 40 / 32 / 32 classes).
  order = sorted(range(len(tasks)), key=lambda t: -_num_classes(
      checked[tasks[t][0]][1][:, tasks[t][1]]))
  n_jobs = min(joblib.effective_n_jobs(n_jobs), max(len(tasks), 1))
  with utils.sklearn_clock():
    done = joblib.Parallel(n_jobs=n_jobs, prefer='processes')(
        joblib.delayed(_timed_fit)(
            checked[i][0], checked[i][1][:, j], checked[i][2],
            checked[i][3][:, j], int(seeds[i]), backend)
        for i, j in (tasks[t] for t in order))
  fits = [None] * len(tasks)
  for t, fit in zip(order, done):
    fits[t] = fit
  results, seconds = [], []
  for i in range(len(checked)):
    mine = [fit for (k, _), fit in zip(tasks, fits) if k == i]
    results.append(scores(*_stack([f[:3] for f in mine])))
    seconds.append(float(sum(f[3] for f in mine)))
  return results, seconds


def _num_classes(target: np.ndarray) -> int:
  """Distinct values of one factor's training targets."""
  return len(np.unique(target))


def _timed_fit(codes_train: np.ndarray, target_train: np.ndarray,
               codes_test: np.ndarray, target_test: np.ndarray, seed: int,
               backend: str) -> tuple[np.ndarray, float, float, float]:
  """``fit_factor`` and its wall seconds (a worker's task)."""
  start = time.perf_counter()
  fit = fit_factor(codes_train, target_train, codes_test, target_test, seed,
                   backend)
  return (*fit, time.perf_counter() - start)
