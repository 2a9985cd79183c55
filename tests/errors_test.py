"""Tests of which errors are the user's to fix (``disent_bias.utils.errors``)."""

import pytest

from disent_bias.training import checkpoint
from disent_bias.utils import errors
from disent_bias.utils import workdir


def test_errors_raised_while_checking_user_input_are_marked_unchanged():
  error = ValueError('invalid config: x must be >= 0')
  with pytest.raises(ValueError) as raised:
    with errors.user_input():
      raise error
  assert raised.value is error and errors.is_user_error(error)
  assert not errors.is_user_error(ValueError('an internal failure'))
  with pytest.raises(KeyError) as raised:  # Not a check of user input.
    with errors.user_input():
      raise KeyError('hidden')
  assert not errors.is_user_error(raised.value)


@pytest.mark.parametrize('error', [
    workdir.ConfigMismatchError('x'), workdir.WorkdirBusyError('x'),
    workdir.WorkdirKindError('x'), checkpoint.DamagedCheckpointError('x'),
    errors.InvalidInputError('x'), FileNotFoundError('x'),
    PermissionError('x'), IsADirectoryError('x'), FloatingPointError('x'),
    ImportError('x')])
def test_user_errors(error):
  assert errors.is_user_error(error)


def test_one_line():
  assert errors.one_line(ValueError('a\n  b')) == 'ValueError: a b'
