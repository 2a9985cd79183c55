"""Tests of disent_bias.utils.stats: the one seed-spread definition."""

# pylint: disable=protected-access

import numpy as np
import pytest

from disent_bias import reproduce
from disent_bias.training import scoring
from disent_bias.utils import stats

# Scores of three seeds; mean 0.3, squared deviations 0.04, 0.01, 0.09, so
# the sample sd (ddof=1) is sqrt(0.14 / 2) = sqrt(0.07) = 0.26458 (the
# population sd, ddof=0, would be sqrt(0.14 / 3) = 0.21602).
SCORES = (0.1, 0.2, 0.6)
SAMPLE_SD = 0.2645751311064591


class TestSeedSd:

  def test_is_the_sample_sd(self):
    np.testing.assert_allclose(stats.seed_sd(SCORES), SAMPLE_SD, rtol=1e-12)

  def test_single_seed_is_zero_and_none_is_nan(self):
    assert stats.seed_sd([0.4]) == 0.0
    assert np.isnan(stats.seed_sd([]))

  def test_rejects_more_than_one_axis(self):
    with pytest.raises(ValueError, match=r'shape \(S,\), got \(2, 3\)'):
      stats.seed_sd(np.zeros((2, 3)))


def test_train_reproduce_and_studies_use_it():
  per_seed = [{'mig': v} for v in SCORES]
  reduced = scoring.reduce_seeds(per_seed, 'eval/')
  np.testing.assert_allclose(reduced['eval/mig_sd'], SAMPLE_SD, rtol=1e-12)
  records = [{'model': 'm', 'dataset': 'd', 'variant': 'original', 'seed': s,
              'scores': {'mig': v}} for s, v in enumerate(SCORES)]
  (row,) = reproduce.summarize(records)
  np.testing.assert_allclose(row['sd'], SAMPLE_SD, rtol=1e-12)
  assert stats.mean_sd(SCORES) == '0.300 ± 0.265'
