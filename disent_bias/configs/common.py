"""Helpers shared by config files: typed preset arguments.

A config file is selected with an optional argument string,
``--config=disent_bias/configs/default.py:model=factor_vae,dataset=shapes3d,quick``.
``parse_arg`` turns that string into a ``ConfigDict`` whose keys and types are
fixed by the defaults the config file declares; unknown keys raise.
"""

from __future__ import annotations

import ml_collections

_TRUE = ('1', 'true', 'yes', 'on')
_FALSE = ('0', 'false', 'no', 'off')


def _convert(key: str, text: str, default):
  """Parses ``text`` to the type of ``default``."""
  if isinstance(default, bool):
    if text.lower() in _TRUE:
      return True
    if text.lower() in _FALSE:
      return False
    raise ValueError(f'config argument {key}={text!r}: expected a boolean '
                     f'({"/".join(_TRUE)} or {"/".join(_FALSE)})')
  for kind in (int, float):
    if isinstance(default, kind):
      try:
        return kind(text)
      except ValueError:
        raise ValueError(f'config argument {key}={text!r}: expected '
                         f'a{"n" if kind is int else ""} {kind.__name__}'
                         ) from None
  return text


def parse_arg(arg: str | None, **defaults) -> ml_collections.ConfigDict:
  """Parses ``'key=value,flag,...'`` against typed defaults.

  A bare ``flag`` sets a boolean default to True. Values take the type of
  their default (bool, int, float or str).

  Args:
    arg: the text after ``:`` in ``--config=file.py:...``; None or ``''`` for
      all defaults.
    **defaults: every accepted key with its default value.

  Returns:
    A locked ``ConfigDict`` with one entry per default.

  Raises:
    ValueError: unknown key, a bare key that is not boolean, or a value that
      does not parse to the default's type.
  """
  result = ml_collections.ConfigDict(defaults)
  if arg:
    for item in arg.split(','):
      item = item.strip()
      if not item:
        continue
      key, eq, text = item.partition('=')
      key = key.strip()
      if key not in defaults:
        valid = ', '.join(sorted(defaults))
        raise ValueError(f'unknown config argument {key!r}; valid: {valid}')
      if not eq:
        if not isinstance(defaults[key], bool):
          raise ValueError(f'config argument {key!r} needs a value ({key}=...)')
        result[key] = True
      else:
        result[key] = _convert(key, text.strip(), defaults[key])
  result.lock()
  return result
