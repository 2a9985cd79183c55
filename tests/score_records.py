"""Score records made by the real code, for the tests that read them.

``real_records``: ``metrics.evaluate_representations`` (MIG and DCI) of three
fixed linear representations of the tiny synthetic dataset, computed once per
process, so every field the scoring writes (scores, counts, timings) is
there. ``legacy_results``: a ``results.json`` the code wrote before the
score record (committed under results/sprites_conv): flat per-seed
``metrics`` mixing scores, ``seed``, ``metrics``, counts and ``time_s.*`` /
``cpu_s.*`` / ``sklearn_s.*`` timings.
"""

import functools
import json
import os

import numpy as np

from disent_bias import metrics
from tiny_run import tiny_dataset

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEGACY_RESULTS = os.path.join(REPO, 'results', 'sprites_conv', 'cells',
                              'dsprites32', 'noise', 'beta_vae',
                              'results.json')


def _projection(seed: int):
  """A fixed random linear map of the 6-d observations to 3 codes."""
  weights = np.random.default_rng(seed).normal(size=(6, 3))
  return lambda x: np.asarray(x, np.float64) @ weights


@functools.lru_cache(maxsize=None)
def real_records() -> tuple[metrics.ScoreRecord, ...]:
  """Three real ``ScoreRecord``s (eval seeds 0, 1, 2; different scores)."""
  evaluated = metrics.evaluate_representations(
      tiny_dataset(), [_projection(s) for s in range(3)], 'mig,dci',
      seeds=[0, 1, 2], num_train=100, num_test=50, n_jobs=1)
  return tuple(record for record, _ in evaluated)


def legacy_results() -> dict:
  """The committed ``results.json`` of an older version (a fresh copy)."""
  with open(LEGACY_RESULTS, encoding='utf-8') as f:
    return json.load(f)
