"""Atomic file writes and tolerant JSON reads.

Every file is written atomically (``write_bytes``: a temporary file in the
same directory, then ``os.replace``), so a killed write leaves the old file
or the new one, never a torn one; ``remove_stale_temporaries`` removes the
temporary files of killed writes. ``read_json_or_none`` reads a file that
may still be torn from an older version and says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
import time
from typing import Any, Sequence

from absl import logging

# This process's start, near enough: the module is imported before any lock
# is taken. Temporary files older than this are not being written by it.
PROCESS_START = time.time()
# The temporary file of a ``write_bytes`` of NAME: '.NAME.<8 characters of
# tempfile.mkstemp>.tmp'.
_TEMPORARY = re.compile(r'\..+\.[a-z0-9_]{8}\.tmp')
# Items listed in one message before '... and N more'.
_MAX_LISTED = 8


def format_list(items: Sequence[str]) -> str:
  """``'a; b; ...'``: at most 8 items, then ``'... and N more'``."""
  text = '; '.join(items[:_MAX_LISTED])
  if len(items) > _MAX_LISTED:
    text += f'; ... and {len(items) - _MAX_LISTED} more'
  return text


def write_text(path: str, text: str) -> None:
  """Writes ``text`` (UTF-8) atomically (``write_bytes``)."""
  write_bytes(path, text.encode('utf-8'))


def _umask() -> int:
  """The process's umask (read by setting it and restoring it)."""
  mask = os.umask(0o022)
  os.umask(mask)
  return mask


def write_bytes(path: str, data: bytes) -> None:
  """Writes ``data`` atomically: a temporary file in the same dir, renamed.

  A process killed during the write leaves the previous file (or none), never
  a torn one; the temporary file has a unique name, so concurrent writers
  never write into each other's. The file gets the permissions of any
  file the process creates (0666 less the umask), not ``mkstemp``'s 0600,
  so a shared results directory stays readable.
  """
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=directory,
                             prefix=f'.{os.path.basename(path)}.',
                             suffix='.tmp')
  try:
    os.fchmod(fd, 0o666 & ~_umask())
    with os.fdopen(fd, 'wb') as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(OSError):
      os.remove(tmp)
    raise


def remove_stale_temporaries(directory: str, before: float = PROCESS_START,
                             skip: Sequence[str] = ()) -> list[str]:
  """Removes the temporary files that killed ``write_bytes`` calls left.

  Only files of that name pattern, modified before ``before`` (default: this
  process's start), so a write in flight in another process (an evaluation,
  a shard) is never touched. Sweeps ``directory`` and its sub-directories
  except those named in ``skip``; follows no symlink.

  Returns:
    The removed paths (named in one warning).
  """
  removed = []
  for parent, subdirs, names in os.walk(directory):
    subdirs[:] = [d for d in subdirs if d not in skip]
    for name in names:
      path = os.path.join(parent, name)
      with contextlib.suppress(OSError):  # Renamed or removed meanwhile.
        info = os.lstat(path)
        if (_TEMPORARY.fullmatch(name) and stat.S_ISREG(info.st_mode)
            and info.st_mtime < before):
          os.remove(path)
          removed.append(path)
  if removed:
    logging.warning('removed %d temporary file(s) left by killed writes in '
                    '%s: %s', len(removed), directory,
                    format_list([os.path.relpath(p, directory)
                                 for p in removed]))
  return removed


def write_json(path: str, value: Any, indent: int | None = 2) -> None:
  """``json.dump`` of ``value`` to ``path``, atomically (``write_text``)."""
  write_text(path, json.dumps(value, indent=indent) + '\n')


def read_json(path: str) -> Any:
  """The JSON value in ``path``.

  Raises:
    FileNotFoundError: no such file.
    ValueError: the file is empty or not valid JSON (names the file).
  """
  with open(path, encoding='utf-8') as f:
    text = f.read()
  try:
    return json.loads(text)
  except json.JSONDecodeError as e:
    what = 'is empty' if not text.strip() else f'is not valid JSON ({e})'
    raise ValueError(f'{path} {what}; it was probably torn by a killed '
                     'write') from None


def read_json_or_none(path: str) -> Any:
  """``read_json``, or None (with a warning naming the file) if it is torn.

  Returns None without a warning when the file does not exist.
  """
  if not os.path.exists(path):
    return None
  try:
    return read_json(path)
  except ValueError as e:
    logging.warning('%s; ignoring it', e)
    return None


__all__ = ['PROCESS_START', 'format_list', 'write_text', 'write_bytes',
           'remove_stale_temporaries', 'write_json', 'read_json',
           'read_json_or_none']
