"""Config checks shared by the registries that validate their own section.

Every failure is a ``ValueError`` (or ``TypeError`` for a wrong type) whose
message starts with ``invalid config:``, so a launcher can print it as one
line.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np


def is_int(x: Any) -> bool:
  """An int (numpy ints too), not a bool."""
  return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def is_number(x: Any) -> bool:
  """An int or float (numpy ones too), not a bool."""
  number = (int, float, np.integer, np.floating)
  return isinstance(x, number) and not isinstance(x, bool)


def check(condition: bool, message: str) -> None:
  """Raises ``ValueError('invalid config: <message>')`` unless ``condition``."""
  if not condition:
    raise ValueError(f'invalid config: {message}')


def check_type(value: Any, predicate: Callable[[Any], bool], name: str,
               expected: str, optional: bool = False) -> None:
  """Raises ``TypeError`` unless ``predicate(value)`` (or None if optional)."""
  if optional and value is None:
    return
  if not predicate(value):
    raise TypeError(f'invalid config: {name} must be {expected}, got '
                    f'{value!r} ({type(value).__name__})')


def check_choice(value: Any, valid, name: str) -> None:
  """``value`` is one of ``valid``; the message lists them."""
  check(value in valid, f'unknown {name} {value!r}; valid: '
        f'{", ".join(valid)}')


def check_positive_ints(section, names, low: int = 1,
                        prefix: str = '') -> None:
  """Each ``section[name]`` is an int >= ``low``."""
  for name in names:
    check_type(section[name], is_int, f'{prefix}{name}', 'an int')
    check(section[name] >= low,
          f'{prefix}{name} must be >= {low}, got {section[name]}')


def check_finite(value: float, name: str) -> None:
  """``value`` is finite."""
  check(math.isfinite(value), f'{name} must be finite, got {value}')
