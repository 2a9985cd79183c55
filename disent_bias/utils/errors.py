"""Errors a user can fix, told apart from the package's own failures.

A user error comes from something the user gave (a config, a data file, a
directory, a flag) and its message names it and the fix, so the binaries end
with that one line instead of a traceback (``disent_bias/cli/common.py``). They are:

- ``UserError`` and its subclasses (``workdir.ConfigMismatchError``,
  ``workdir.WorkdirBusyError``, ``workdir.WorkdirKindError``,
  ``checkpoint.DamagedCheckpointError``, ``InvalidInputError``);
- the ``ValueError`` / ``TypeError`` raised inside a ``user_input()`` block,
  which checks what the user gave (config validation, data loading, a stored
  run's config): the exception keeps its type and is marked;
- the ``OS_ERRORS`` on a path the user named, ``FloatingPointError`` (a
  non-finite loss; the message names the last good checkpoint) and
  ``ImportError`` (an optional extra that is not installed).

Anything else is an internal error and keeps its traceback. No JAX here.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

_MARK = '_disent_bias_user_input'

OS_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError,
             NotADirectoryError, PermissionError)


class UserError(Exception):
  """An error whose message says what the user gave and how to fix it."""


class InvalidInputError(UserError, ValueError):
  """An input that cannot be used (e.g. nothing to aggregate)."""


@contextlib.contextmanager
def user_input() -> Iterator[None]:
  """Marks the ``ValueError`` / ``TypeError`` raised inside as user errors.

  For code that checks what the user gave: a config, a data file, a stored
  run. The exception is re-raised unchanged (same type and traceback).
  """
  try:
    yield
  except (ValueError, TypeError) as e:
    setattr(e, _MARK, True)
    raise


def is_user_error(error: BaseException) -> bool:
  """Whether ``error`` is a user error (module docstring)."""
  return (isinstance(error, (UserError, FloatingPointError, ImportError)
                     + OS_ERRORS) or getattr(error, _MARK, False))


def one_line(error: BaseException) -> str:
  """``'<Type>: <message>'`` on one line."""
  return f'{type(error).__name__}: {" ".join(str(error).split())}'


__all__ = ['OS_ERRORS', 'UserError', 'InvalidInputError', 'user_input',
           'is_user_error', 'one_line']
