"""Shared by the binaries: config paths, flag parsing, user errors as one line.

``--config=disent_bias/configs/default.py`` (or the checkout's
``experiments/configs/default.py``) works from any working directory: a
config path that does not exist relative to the working directory and names
one of the package's config files is resolved against the installed
``disent_bias/configs/`` (``resolve_config_path``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
from typing import Callable, Iterator, Sequence

from absl import app
from absl import flags
from absl import logging

from disent_bias.utils import errors
from disent_bias.utils import logging_utils

CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'configs')
# Folders that name the package's config files in documented commands.
_CONFIG_PREFIXES = ('disent_bias/configs/', 'experiments/configs/')


def resolve_config_path(spec: str, cwd: str | None = None) -> str:
  """``file.py[:arg]`` with ``file.py`` made loadable from ``cwd``.

  A path that exists relative to ``cwd`` (default: the working directory)
  is kept. Otherwise ``disent_bias/configs/NAME.py``,
  ``experiments/configs/NAME.py`` and a bare ``NAME.py`` become the
  installed ``disent_bias/configs/NAME.py`` when that file exists; anything
  else is kept, and ml_collections reports it.
  """
  path, sep, arg = spec.partition(':')
  if os.path.exists(os.path.join(cwd or os.getcwd(), path)):
    return spec
  name = path.replace(os.sep, '/')
  for prefix in _CONFIG_PREFIXES:
    if name.startswith(prefix):
      name = name[len(prefix):]
      break
  candidate = os.path.join(CONFIG_DIR, name)
  if '/' in name or not os.path.isfile(candidate):
    return spec
  return candidate + sep + arg


def resolve_config_flags(argv: list[str],
                         names: tuple[str, ...] = ('config',)) -> list[str]:
  """``argv`` with each ``--NAME=PATH`` / ``--NAME PATH`` resolved."""
  out = list(argv)
  for i, arg in enumerate(out):
    for name in names:
      flag = f'--{name}'
      if arg.startswith(flag + '='):
        out[i] = flag + '=' + resolve_config_path(arg[len(flag) + 1:])
      elif arg == flag and i + 1 < len(out):
        out[i + 1] = resolve_config_path(out[i + 1])
  return out


def parse_flags(argv: list[str]) -> list[str]:
  """``app.parse_flags_with_usage``, with an unknown config field in one line.

  ml_collections answers ``--config.model.nmae=x`` with a 20-line traceback
  (AttributeError / KeyError). This names the flag, the missing field, the
  closest field and the valid ones, and exits with status 1 as absl does for
  its own flag errors. ``--config`` paths are resolved first
  (``resolve_config_flags``). Pass it as ``app.run(main, flags_parser=...)``.
  """
  argv = resolve_config_flags(argv)
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
  user error (``disent_bias.utils.errors.is_user_error``).

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


@contextlib.contextmanager
def binary(argv: Sequence[str]) -> Iterator[None]:
  """A binary's ``main`` body: it takes no positional arguments, hides other
  libraries' INFO lines (``logging_utils.quiet_third_party_logs``) and ends
  on a user error with one ``FATAL`` line (``user_errors``)."""
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}')
  logging_utils.quiet_third_party_logs()
  with user_errors():
    yield


def run(define_flags: Callable[[], None], main: Callable[[list[str]], None],
        argv: list[str] | None = None) -> None:
  """Defines a binary's flags and runs its ``main`` under absl.

  The flags are defined here, not at import, so that every binary's module
  can be imported in one process (the console scripts, the tests).
  """
  define_flags()
  # ``--help`` lists the main module's flags; absl names it by argv[0].
  main_name = (argv or sys.argv)[0]
  for flag in flags.FLAGS.get_flags_for_module(define_flags.__module__):
    flags.FLAGS.register_key_flag_for_module(main_name, flag)
  app.run(main, argv=argv, flags_parser=parse_flags)
