"""Shared by the binaries: flag parsing, and user errors as one clear line."""

from __future__ import annotations

import contextlib
import importlib.util
import re
import sys
from typing import Iterator

from absl import app
from absl import logging

from disent_bias import errors


def parse_flags(argv: list[str]) -> list[str]:
  """``app.parse_flags_with_usage``, with an unknown config field in one line.

  ml_collections answers ``--config.model.nmae=x`` with a 20-line traceback
  (AttributeError / KeyError). This names the flag, the missing field, the
  closest field and the valid ones, and exits with status 1 as absl does for
  its own flag errors. Pass it as ``app.run(main, flags_parser=...)``.
  """
  try:
    return app.parse_flags_with_usage(argv)
  except (AttributeError, KeyError) as e:
    sys.stderr.write(f'FATAL Flags parsing error: {_unknown_field(argv, e)}\n')
    sys.exit(1)


def _unknown_field(argv: list[str], error: Exception) -> str:
  """One line for an override of a field that the config does not have."""
  text = str(error.args[0]) if error.args else str(error)
  match = re.search(r"\\?'(\w+)\\?'", text)
  key = match.group(1) if match else text
  hint = re.search(r'Did you mean "([^"]+)"', text)
  for arg in argv[1:]:
    name, _, _ = arg.lstrip('-').partition('=')
    parts = name.split('.')
    if len(parts) > 1 and key in parts[1:]:
      parent = '.'.join(parts[1:parts.index(key, 1)])
      valid = _valid_fields(parts[0], parent, argv)
      return (f'flag {arg}: the config has no field '
              f'{".".join(parts[1:])!r}'
              + (f' (did you mean {hint.group(1)!r}?)' if hint else '')
              + (f'; valid at {parent or "the top level"}: {valid}'
                 if valid else ''))
  return f'unknown config field {key!r}' + (
      f' (did you mean {hint.group(1)!r}?)' if hint else '')


def _valid_fields(flag: str, parent: str, argv: list[str]) -> str:
  """The fields of ``parent`` in the config file given as ``--flag``, or ''.

  The file is loaded again: ml_collections fails before it sets the flag.
  """
  prefix = f'--{flag}='
  spec = next((a[len(prefix):] for a in argv if a.startswith(prefix)), None)
  if spec is None:
    return ''
  path, _, arg = spec.partition(':')
  try:
    loader = importlib.util.spec_from_file_location('_config_file', path)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    node = module.get_config(arg) if arg else module.get_config()
    for part in filter(None, parent.split('.')):
      node = node[part]
    return ', '.join(sorted(node.keys()))
  except Exception:  # pylint: disable=broad-except
    return ''  # The hint is optional; the error line stands without it.


# Exit status of a user error (absl's own flag errors exit with 1).
USER_ERROR_STATUS = 2


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
  """Ends the program with ``FATAL <Type>: <message>`` and status 2 on a
  user error (``disent_bias.errors.is_user_error``).

  Its message names what to fix; the traceback is shown only with
  ``--verbosity=1``. Any other exception is an internal error and keeps its
  traceback. Every binary wraps its work in it.
  """
  try:
    yield
  except Exception as e:  # pylint: disable=broad-except
    if not errors.is_user_error(e) or logging.get_verbosity() >= 1:
      raise
    sys.stderr.write(f'FATAL {errors.one_line(e)}\n')
    sys.exit(USER_ERROR_STATUS)
