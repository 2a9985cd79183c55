"""The workdir contract: config check, lock, atomic JSON (docs/workdir.md).

A training workdir holds one run. Before anything is written to it:
- ``check_kind`` refuses a directory that holds another kind of run (a
  reproduction, evaluation output: ``directory_kind``); every binary checks
  the directories it writes or reads so;
- one process takes the workdir's lock (``lock``); a second start fails with
  the holder's process id, and the lock of a process that died is taken over
  with a warning;
- the stored ``config.json`` is compared with the new config
  (``check_config``); a difference in a field that changes the trained
  parameters is refused with the differing fields named, unless the caller
  asks to start over (``start_over``, which moves the old run aside).

Every JSON file is written atomically (``atomic_files``, whose functions
this module re-exports); the temporary files of killed writes are removed
when the next run takes the lock.

No JAX here: the lock and the config check run before anything compiles.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import json
import os
import socket
import tempfile
from typing import Any, Iterator, Mapping

from absl import logging
import filelock

from disent_bias.utils import atomic_files
from disent_bias.utils import errors

# Atomic files (``atomic_files``), part of this module's API as before.
PROCESS_START = atomic_files.PROCESS_START
format_list = atomic_files.format_list
read_json = atomic_files.read_json
read_json_or_none = atomic_files.read_json_or_none
write_bytes = atomic_files.write_bytes
write_json = atomic_files.write_json
write_text = atomic_files.write_text

LOCK_FILE = '.lock'
OWNER_FILE = '.lock.owner.json'
REPLACED_DIR = 'replaced'

# Sub-directories the sweep for stale temporary files leaves alone: Orbax's,
# a reproduction's cells (each swept under its own lock), moved-aside runs.
_NOT_SWEPT = ('checkpoints', 'damaged_checkpoints', 'cells', REPLACED_DIR)

# Fields of a train config that may change when a run resumes: they do not
# change the trained parameters (schedules, evaluation, scoring, launch
# addresses, the NaN-injection testing aid; the preset table, whose values
# for this run are in ``model.hparams``). ``train.num_steps`` may change
# too, but not below the newest checkpoint (``check_config``). A name ending
# in '.' covers a whole sub-config.
RESUMABLE_FIELDS = ('train.num_steps', 'train.inject_nan_at_step',
                    'log_every_steps', 'eval_every_steps',
                    'checkpoint_every_steps', 'keep_checkpoints', 'eval.',
                    'metrics.', 'distributed.', 'model.presets.')

# Fields added to the train config after runs were stored, with the value
# that reproduces what ran before them: a stored config without such a
# field is read as having this value, so finished runs stay valid when the
# package gains an option.
ADDED_FIELDS = {'model.recon_weight': 1.0, 'model.disc_hidden': 1000,
                'model.disc_layers': 6, 'model.conv_impl': 'matmul',
                'eval.model_summary': True, 'data.path': None,
                'data.data_dir': None, 'model.compute_dtype': 'float32',
                'metrics.dci_backend': 'exact'}

# Older versions stored every hyperparameter name of the config, unset ones
# as None; a None there and an absent name are the same field.
_UNSET_PREFIX = 'model.hparams.'


def with_added_fields(config: Mapping[str, Any]) -> dict[str, Any]:
  """A copy of a stored config (nested dicts) with every ``ADDED_FIELDS``
  field it lacks set to its listed value."""
  out = json.loads(json.dumps(config))
  for field, value in ADDED_FIELDS.items():
    *parents, leaf = field.split('.')
    node = out
    for name in parents:
      node = node.setdefault(name, {})
    node.setdefault(leaf, value)
  return out

# What a run writes into its workdir; ``start_over`` moves these aside.
RUN_FILES = ('config.json', 'metrics.jsonl', 'results.json', 'eval.json',
             'eval_samples.npz',
             'checkpoints', 'checkpoint_digests', 'checkpoint_digests.json',
             'damaged_checkpoints', 'images', 'tensorboard', 'visualize')


class WorkdirBusyError(errors.UserError, RuntimeError):
  """Another live process holds the workdir's lock."""


class ConfigMismatchError(errors.UserError, ValueError):
  """The new config differs from the one that made the workdir."""


class WorkdirKindError(errors.UserError, ValueError):
  """A directory that holds another kind of run than the one asked for."""


# ----------------------------------------------------------------------------
# Config comparison.


def _flatten(tree: Any, prefix: str = '') -> dict[str, Any]:
  if isinstance(tree, Mapping):
    out = {}
    for key, value in tree.items():
      out.update(_flatten(value, f'{prefix}{key}.'))
    return out if out or not prefix else {prefix[:-1]: {}}
  return {prefix[:-1]: tree}


def _same(a: Any, b: Any) -> bool:
  return a == b or (a != a and b != b)  # pylint: disable=comparison-with-itself


def config_differences(old: Mapping[str, Any], new: Mapping[str, Any]
                       ) -> dict[str, tuple[Any, Any]]:
  """Fields (dotted names) whose values differ: ``{name: (old, new)}``.

  A field present on one side only is ``(value, '<absent>')`` or the reverse,
  except an ``ADDED_FIELDS`` field missing from ``old`` (also under a prefix,
  e.g. a cell record's ``config.``), which counts as its listed value, and a
  ``model.hparams`` name that is None on one side and absent on the other.
  Lists and tuples compare equal (JSON has no tuples); NaN equals NaN.
  """
  # A JSON round trip makes tuples lists, as in a stored config.json.
  a, b = (_flatten(json.loads(json.dumps(x))) for x in (old, new))
  absent = '<absent>'
  for name in set(b) - set(a):
    for field, value in ADDED_FIELDS.items():
      if name == field or name.endswith('.' + field):
        a[name] = value
  for name in set(a) ^ set(b):
    if _UNSET_PREFIX in name and a.get(name, b.get(name)) is None:
      a[name] = b[name] = None
  return {name: (a.get(name, absent), b.get(name, absent))
          for name in sorted(set(a) | set(b))
          if not _same(a.get(name, absent), b.get(name, absent))}


def format_differences(differences: Mapping[str, tuple[Any, Any]]) -> str:
  """``'model.name: 'beta_vae' -> 'annealed_vae'; ...'`` (at most 8 named)."""
  return format_list([f'{name}: {old!r} -> {new!r}'
                      for name, (old, new) in differences.items()])


def _resumable(name: str) -> bool:
  return any(name == f or (f.endswith('.') and name.startswith(f))
             for f in RESUMABLE_FIELDS)


_WAYS_OUT = ('use a new --workdir, or pass --restart (train_and_evaluate('
             '..., restart=True)) to start over; the old run is then moved to '
             f'WORKDIR/{REPLACED_DIR}/<time>/, nothing is deleted')


def check_config(workdir: str, new: Mapping[str, Any], *,
                 newest_step: int | None) -> None:
  """Refuses to continue a workdir whose stored config differs from ``new``.

  Args:
    workdir: a training workdir (may be new or empty).
    new: the new resolved config as JSON-ready dicts.
    newest_step: the newest checkpoint step on disk, or None.

  Raises:
    ConfigMismatchError: a field outside ``RESUMABLE_FIELDS`` differs,
      ``train.num_steps`` is below ``newest_step``, or ``config.json`` is
      unreadable while checkpoints exist. The message names the fields and
      the ways out.
  """
  path = os.path.join(workdir, 'config.json')
  if not os.path.exists(path):
    if newest_step is not None:
      raise ConfigMismatchError(
          f'{workdir} has checkpoints (newest step {newest_step}) but no '
          f'config.json, so the config that made them is unknown; {_WAYS_OUT}')
    return
  try:
    old = read_json(path)
  except ValueError as e:
    if newest_step is None:
      logging.warning('%s; no checkpoint depends on it, replacing it', e)
      return
    raise ConfigMismatchError(
        f'{e}, so the config that made the checkpoints of {workdir} is '
        f'unknown; {_WAYS_OUT}') from None
  differences = {k: v for k, v in config_differences(old, new).items()
                 if not _resumable(k)}
  if differences:
    raise ConfigMismatchError(
        f'{workdir} was made by a different config ({path}): '
        f'{format_differences(differences)}; rerun with the stored values, '
        f'or {_WAYS_OUT}')
  num_steps = new.get('train', {}).get('num_steps', None)
  if newest_step is not None and num_steps is not None and (
      num_steps < newest_step):
    raise ConfigMismatchError(
        f'train.num_steps={num_steps} is below the newest checkpoint of '
        f'{workdir} (step {newest_step}), so results and checkpoints would '
        f'disagree; set --config.train.num_steps={newest_step} or more '
        f'(extending a run is allowed), or {_WAYS_OUT}')


# ----------------------------------------------------------------------------
# What a directory holds.

TRAINING = 'a training run'
REPRODUCTION = 'a reproduction'
EVALUATION = 'evaluation output'

# Without a readable config.json, what each kind holds at its top level
# (glob patterns), looked for in this order: a reproduction's cells, a
# training run's checkpoints and log, the outputs of experiments.evaluate,
# visualize, analyze and noise_control.
_MARKERS = ((REPRODUCTION, ('cells',)),
            (TRAINING, ('checkpoints', 'metrics.jsonl')),
            (EVALUATION, ('eval.json', 'analysis.json', 'noise_control.json',
                          'reconstructions_seed*.png')))


def _config_keys(path: str) -> set[str]:
  """The top-level keys of ``path/config.json`` (none when absent or torn)."""
  try:
    config = read_json(os.path.join(path, 'config.json'))
  except (OSError, ValueError):
    return set()
  return set(config) if isinstance(config, dict) else set()


def directory_kind(path: str) -> tuple[str, str] | None:
  """What ``path`` holds: ``(kind, evidence)``, or None (absent, empty or
  nothing recognised).

  A readable ``config.json`` decides: a reproduction config has
  ``base_train`` or ``datasets``, a train config ``train`` and ``model``.
  Otherwise the files of each kind decide (``_MARKERS``).
  """
  if not os.path.isdir(path):
    return None
  keys = _config_keys(path)
  if keys & {'base_train', 'datasets'}:
    return REPRODUCTION, 'its config.json is a reproduction config'
  if {'train', 'model'} <= keys:
    return TRAINING, 'its config.json is a train config'
  for kind, patterns in _MARKERS:
    for pattern in patterns:
      found = sorted(glob.glob(os.path.join(glob.escape(path), pattern)))
      if found:
        return kind, f'it has {os.path.basename(found[0])}'
  return None


def check_kind(path: str, expected: str, flag: str = '--workdir', *,
               must_hold: bool = False) -> None:
  """Refuses ``path`` if it holds another kind of run than ``expected``.

  Called before anything is written to ``path``.

  Args:
    path: the directory.
    expected: ``TRAINING``, ``REPRODUCTION`` or ``EVALUATION``.
    flag: the flag that named it, for the message.
    must_hold: for a binary that reads the run: ``path`` must exist and hold
      ``expected``.

  Raises:
    WorkdirKindError: it holds another kind (the message says which and how
      that was recognised), or ``must_hold`` and it holds nothing known.
    NotADirectoryError: ``path`` is a file.
    FileNotFoundError: ``must_hold`` and there is no such directory.
  """
  if os.path.lexists(path) and not os.path.isdir(path):
    raise NotADirectoryError(f'{flag}={path} is a file, not a directory')
  if must_hold and not os.path.isdir(path):
    raise FileNotFoundError(f'{flag}={path}: no such directory')
  found = directory_kind(path)
  if found is None and must_hold:
    raise WorkdirKindError(f'{flag}={path} does not hold {expected} (nothing '
                           f'in it was recognised); give another {flag}')
  if found is None or found[0] == expected:
    return
  kind, evidence = found
  cells = (f', or one of its cells ({os.path.join(path, "cells")}/...)'
           if kind == REPRODUCTION and expected == TRAINING else '')
  raise WorkdirKindError(
      f'{flag}={path} holds {kind} ({evidence}), not {expected}; nothing was '
      f'written: give another {flag}{cells}')


def moved_aside_stamp() -> str:
  """The local time, to the microsecond, naming a moved-aside file or folder.

  Used for ``replaced/<stamp>`` (``start_over``) and damaged checkpoints
  (``checkpoint``), so both sort by time alike.
  """
  return datetime.datetime.now().strftime('%Y%m%d-%H%M%S-%f')


def start_over(workdir: str) -> str | None:
  """Moves the run files of ``workdir`` into ``workdir/replaced/<time>/``.

  Returns:
    The directory they were moved to, or None when there was nothing to move.
  """
  present = [n for n in RUN_FILES if os.path.lexists(os.path.join(workdir, n))]
  if not present:
    return None
  target = os.path.join(workdir, REPLACED_DIR, moved_aside_stamp())
  os.makedirs(target)
  for name in present:
    os.replace(os.path.join(workdir, name), os.path.join(target, name))
  logging.warning('starting over in %s: the previous run (%s) was moved to %s',
                  workdir, ', '.join(present), target)
  return target


# ----------------------------------------------------------------------------
# The lock.


def check_writable(path: str) -> None:
  """Fails now, not after hours of work, if ``path`` cannot be written.

  Raises:
    PermissionError: its directory does not accept a new file.
  """
  directory = os.path.dirname(os.path.abspath(path))
  try:
    fd, probe = tempfile.mkstemp(dir=directory, prefix='.write_probe.')
  except OSError as e:
    raise PermissionError(
        f'{path} cannot be written: {directory} is not writable '
        f'({e.strerror}); make it writable or work on a copy') from None
  os.close(fd)
  os.remove(probe)


def _owner_record() -> dict[str, Any]:
  return {'pid': os.getpid(), 'host': socket.gethostname(),
          'started': datetime.datetime.now().isoformat(timespec='seconds')}


def _describe(owner: Mapping[str, Any] | None) -> str:
  if not owner:
    return 'another process (its owner file is missing)'
  return (f'process {owner.get("pid")} on {owner.get("host")} (started '
          f'{owner.get("started")})')


@contextlib.contextmanager
def lock(workdir: str) -> Iterator[None]:
  """Holds the lock of ``workdir`` (created) while the block runs.

  The lock is an OS file lock (``filelock``) on ``workdir/.lock``, released
  by the OS when the process dies; ``workdir/.lock.owner.json`` names the
  holder. An owner file left behind means its process died holding the lock:
  it is taken over with a warning naming that process. The temporary files
  of writes killed before this process started are removed
  (``remove_stale_temporaries``).

  Raises:
    WorkdirBusyError: a live process holds the lock.
  """
  os.makedirs(workdir, exist_ok=True)
  file_lock = filelock.FileLock(os.path.join(workdir, LOCK_FILE), timeout=0)
  owner_path = os.path.join(workdir, OWNER_FILE)
  try:
    file_lock.acquire()
  except filelock.Timeout:
    owner = read_json_or_none(owner_path)
    raise WorkdirBusyError(
        f'{workdir} is in use by {_describe(owner)}: one run per workdir; '
        'wait for it to finish, or use another --workdir') from None
  try:
    stale = read_json_or_none(owner_path)
    if stale is not None:
      logging.warning('%s: taking over the lock of %s, which ended without '
                      'releasing it', workdir, _describe(stale))
    write_json(owner_path, _owner_record())
    atomic_files.remove_stale_temporaries(workdir, skip=_NOT_SWEPT)
    yield
  finally:
    with contextlib.suppress(OSError):
      os.remove(owner_path)
    file_lock.release()

