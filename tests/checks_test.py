"""Tests of the shared config checks (``disent_bias.utils.checks``)."""

import math

import numpy as np
import pytest

from disent_bias.utils import checks


@pytest.mark.parametrize('value', [0, -3, 7, np.int32(2), np.int64(-1)])
def test_ints_are_ints(value):
  assert checks.is_int(value)


@pytest.mark.parametrize('value', [True, False, np.bool_(True), 1.0,
                                   np.float32(2), '1', None])
def test_bools_floats_and_strings_are_not_ints(value):
  assert not checks.is_int(value)


@pytest.mark.parametrize('value', [0, 2.5, -1e9, math.nan, math.inf,
                                   np.int16(3), np.float32(0.5)])
def test_ints_and_floats_are_numbers(value):
  assert checks.is_number(value)


@pytest.mark.parametrize('value', [True, np.bool_(False), '1.0', None, [1.0],
                                   1j])
def test_bools_strings_and_containers_are_not_numbers(value):
  assert not checks.is_number(value)


def test_check_passes_on_true_and_raises_the_message_on_false():
  checks.check(True, 'never shown')
  with pytest.raises(ValueError) as info:
    checks.check(False, 'train.num_steps must be >= 1')
  assert str(info.value) == 'invalid config: train.num_steps must be >= 1'


def test_check_type_names_the_field_the_expectation_and_the_value():
  checks.check_type(3, checks.is_int, 'train.batch_size', 'an int')
  with pytest.raises(TypeError) as info:
    checks.check_type(True, checks.is_int, 'train.batch_size', 'an int')
  assert str(info.value) == ('invalid config: train.batch_size must be an '
                             'int, got True (bool)')


def test_check_type_allows_none_only_when_optional():
  checks.check_type(None, checks.is_int, 'data.num_points', 'an int',
                    optional=True)
  with pytest.raises(TypeError, match=r'data\.num_points must be an int, got '
                     r'None \(NoneType\)'):
    checks.check_type(None, checks.is_int, 'data.num_points', 'an int')
  # Optional allows None, not any value.
  with pytest.raises(TypeError, match='got 1.5'):
    checks.check_type(1.5, checks.is_int, 'data.num_points', 'an int',
                      optional=True)


def test_check_choice_lists_the_valid_values():
  checks.check_choice('l2', ('bernoulli', 'l2'), 'model.recon')
  with pytest.raises(ValueError) as info:
    checks.check_choice('l1', ('bernoulli', 'l2'), 'model.recon')
  assert str(info.value) == ("invalid config: unknown model.recon 'l1'; "
                             'valid: bernoulli, l2')


def test_check_positive_ints_accepts_ints_at_or_above_low():
  checks.check_positive_ints({'a': 1, 'b': np.int64(5)}, ('a', 'b'))
  checks.check_positive_ints({'a': 0}, ('a',), low=0)
  # Only the named entries are checked.
  checks.check_positive_ints({'a': 2, 'c': -1}, ('a',))


def test_check_positive_ints_names_the_field_below_low():
  with pytest.raises(ValueError) as info:
    checks.check_positive_ints({'a': 3, 'b': 0}, ('a', 'b'), prefix='eval.')
  assert str(info.value) == 'invalid config: eval.b must be >= 1, got 0'
  with pytest.raises(ValueError, match='eval.a must be >= 4, got 3'):
    checks.check_positive_ints({'a': 3}, ('a',), low=4, prefix='eval.')


@pytest.mark.parametrize('value,shown', [(True, 'True (bool)'),
                                         (2.0, '2.0 (float)'),
                                         ('2', "'2' (str)")])
def test_check_positive_ints_refuses_non_ints_with_a_type_error(value, shown):
  with pytest.raises(TypeError) as info:
    checks.check_positive_ints({'n': value}, ('n',), prefix='train.')
  assert str(info.value) == (f'invalid config: train.n must be an int, got '
                             f'{shown}')


@pytest.mark.parametrize('value', [0.0, -1e300, 5, np.float32(1e-30)])
def test_finite_values_pass(value):
  checks.check_finite(value, 'model.hparams.beta')


@pytest.mark.parametrize('value,shown', [(math.nan, 'nan'), (math.inf, 'inf'),
                                         (-math.inf, '-inf'),
                                         (np.float32('nan'), 'nan')])
def test_nan_and_inf_are_not_finite(value, shown):
  with pytest.raises(ValueError) as info:
    checks.check_finite(value, 'model.hparams.beta')
  assert str(info.value) == (f'invalid config: model.hparams.beta must be '
                             f'finite, got {shown}')
