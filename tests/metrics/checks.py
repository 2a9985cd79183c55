"""The input checks of the metrics that score a train/test split of codes
and factors, shared by the DCI, modularity and SAP tests."""

import pytest

SPLIT = ('codes_train', 'factors_train', 'codes_test', 'factors_test')


def assert_rejects(metric, split, error, match=None, **changes):
  """``metric`` raises ``error`` on ``split`` with some arrays changed.

  Args:
    metric: a score of ``SPLIT``, the four arrays passed in that order.
    split: the four arrays.
    error: the exception type expected.
    match: a pattern the message must match (any message if None).
    **changes: arrays that replace those of ``split``, by ``SPLIT`` name.
  """
  assert set(changes) <= set(SPLIT), changes
  args = dict(zip(SPLIT, split)) | changes
  with pytest.raises(error, match=match):
    metric(*args.values())
