"""A job's output folder: few, bounded, verifiable files.

What comes back from a batch job is often limited (here: at most 8 files of
at most 16 MiB, 64 MiB together, at most 2 folders deep). A job writes, flat
in its output folder:

- ``job.json``, the manifest: the job, its units (each with the part that
  holds it) and every part's size and SHA-256, rewritten after each unit;
- ``job.log``, its log;
- ``part-NNN.zip``: the finished units, each as ``<unit>.json`` (records)
  and ``<unit>.npz`` (arrays), filled up to the size limit.

Every file is replaced atomically and the manifest is written after the part
it names, so a job killed at any moment leaves a folder that lists only
complete units; ``read_manifest`` refuses a folder whose parts do not match
their recorded size and digest (a half-copied folder).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import zipfile
from typing import Any, Mapping

import numpy as np

from disent_bias.utils import errors
from disent_bias.utils import logging_utils
from disent_bias.utils import workdir as workdir_lib

MANIFEST = 'job.json'
LOG = 'job.log'
MiB = 1 << 20


class IncompleteJobError(errors.UserError, ValueError):
  """A job folder whose files do not match its manifest."""


@dataclasses.dataclass(frozen=True)
class Limits:
  """What may come back from a job: file count, per-file and total bytes."""
  max_files: int = 8
  max_file_bytes: int = 16 * MiB
  max_total_bytes: int = 64 * MiB
  log_bytes: int = 1 * MiB  # Kept free for job.log (its tail is kept).
  manifest_bytes: int = 1 * MiB  # Kept free for job.json.

  @property
  def max_parts(self) -> int:
    return self.max_files - 2


def _safe(unit_id: str) -> str:
  """A unit id as a flat file name."""
  return unit_id.replace('/', '__')


def _sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(MiB), b''):
      digest.update(block)
  return digest.hexdigest()


def unit_payload(record: Mapping[str, Any],
                 arrays: Mapping[str, np.ndarray]) -> tuple[bytes, bytes]:
  """A unit's JSON record and its ``.npz`` arrays as bytes."""
  buffer = io.BytesIO()
  np.savez_compressed(buffer, **arrays)
  text = json.dumps(logging_utils.to_jsonable(dict(record)), indent=1)
  return text.encode('utf-8'), buffer.getvalue()


class JobFolder:
  """The output folder of one job (continued when it holds a manifest)."""

  def __init__(self, out_dir: str, limits: Limits = Limits()):
    self.out_dir = out_dir
    self.limits = limits
    os.makedirs(out_dir, exist_ok=True)
    manifest = workdir_lib.read_json_or_none(self.path(MANIFEST))
    self.manifest: dict[str, Any] = manifest or {'units': [], 'parts': {}}

  def path(self, name: str) -> str:
    return os.path.join(self.out_dir, name)

  def unit_ids(self) -> list[str]:
    return [u['id'] for u in self.manifest['units']]

  def _parts_bytes(self) -> int:
    return sum(p['bytes'] for p in self.manifest['parts'].values())

  def fits(self, nbytes: int) -> bool:
    """Whether a unit of ``nbytes`` (both payloads) can still be packed."""
    return self._target_part(nbytes) is not None

  def _target_part(self, nbytes: int) -> str | None:
    """The part a unit of ``nbytes`` goes to (the last one if it has room,
    else a new one), or None when the limits leave no room."""
    lim = self.limits
    room_total = (lim.max_total_bytes - lim.log_bytes - lim.manifest_bytes
                  - self._parts_bytes())
    if nbytes + 4096 > room_total:
      return None
    parts = sorted(self.manifest['parts'])
    if parts and (self.manifest['parts'][parts[-1]]['bytes'] + nbytes + 4096
                  <= lim.max_file_bytes):
      return parts[-1]
    if len(parts) >= lim.max_parts or nbytes + 4096 > lim.max_file_bytes:
      return None
    return f'part-{len(parts):03d}.zip'

  def add_unit(self, unit_id: str, record: Mapping[str, Any],
               arrays: Mapping[str, np.ndarray], **entry: Any) -> None:
    """Packs a finished unit into a part, then records it in the manifest.

    Raises:
      ValueError: the limits leave no room (check ``fits`` first).
    """
    text, npz = unit_payload(record, arrays)
    part = self._target_part(len(text) + len(npz))
    if part is None:
      raise ValueError(f'no room for unit {unit_id} in {self.out_dir}')
    path = self.path(part)
    buffer = io.BytesIO()
    if os.path.exists(path):
      with open(path, 'rb') as f:
        buffer.write(f.read())
    with zipfile.ZipFile(buffer, 'a', zipfile.ZIP_STORED) as z:
      z.writestr(f'{_safe(unit_id)}.json', text)
      z.writestr(f'{_safe(unit_id)}.npz', npz)
    workdir_lib.write_bytes(path, buffer.getvalue())
    self.manifest['parts'][part] = {'bytes': os.path.getsize(path),
                                    'sha256': _sha256(path)}
    self.manifest['units'].append({'id': unit_id, 'part': part, **entry})
    self.write_manifest()

  def write_manifest(self, **fields: Any) -> None:
    """Updates and atomically rewrites ``job.json``."""
    self.manifest.update(fields)
    workdir_lib.write_json(self.path(MANIFEST),
                           logging_utils.to_jsonable(self.manifest))

  def log(self, line: str) -> None:
    """Appends a line to ``job.log``, keeping its tail within the limit."""
    path = self.path(LOG)
    with open(path, 'a', encoding='utf-8') as f:
      f.write(line.rstrip('\n') + '\n')
    if os.path.getsize(path) > self.limits.log_bytes:
      with open(path, 'rb') as f:
        tail = f.read()[-self.limits.log_bytes // 2:]
      workdir_lib.write_bytes(path, b'[earlier lines dropped]\n' + tail)


def read_manifest(out_dir: str) -> dict[str, Any]:
  """The manifest of a job folder, every part checked against it.

  Raises:
    IncompleteJobError: no manifest, or a part missing, of another size or
      digest (copy the folder again; nothing was changed).
  """
  path = os.path.join(out_dir, MANIFEST)
  try:
    manifest = workdir_lib.read_json(path)
  except (FileNotFoundError, ValueError) as e:
    raise IncompleteJobError(
        f'{path}: {e if not isinstance(e, FileNotFoundError) else "missing"};'
        ' not a complete job folder') from None
  for name, part in manifest.get('parts', {}).items():
    part_path = os.path.join(out_dir, name)
    if (not os.path.isfile(part_path)
        or os.path.getsize(part_path) != part['bytes']
        or _sha256(part_path) != part['sha256']):
      raise IncompleteJobError(
          f'{part_path} is missing or differs from {MANIFEST} (size or '
          'SHA-256): the folder was copied only in part; copy it again')
  return manifest


def load_unit(out_dir: str, entry: Mapping[str, Any]
              ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
  """The record and arrays of a manifest's unit entry."""
  with zipfile.ZipFile(os.path.join(out_dir, entry['part'])) as z:
    record = json.loads(z.read(f'{_safe(entry["id"])}.json'))
    with np.load(io.BytesIO(z.read(f'{_safe(entry["id"])}.npz'))) as npz:
      arrays = {k: npz[k] for k in npz.files}
  return record, arrays


def check_limits(out_dir: str, limits: Limits = Limits()) -> list[str]:
  """What in ``out_dir`` breaks ``limits`` (empty when nothing does): file
  count, per-file and total size, depth (at most 2 folders down)."""
  problems, sizes = [], []
  for root, _, names in os.walk(out_dir):
    depth = os.path.relpath(root, out_dir).count(os.sep) + (root != out_dir)
    for name in names:
      path = os.path.join(root, name)
      sizes.append(os.path.getsize(path))
      if depth > 2:
        problems.append(f'{path} is more than 2 folders down')
      if sizes[-1] > limits.max_file_bytes:
        problems.append(f'{path} has {sizes[-1]} bytes')
  if len(sizes) > limits.max_files:
    problems.append(f'{len(sizes)} files (at most {limits.max_files})')
  if sum(sizes) > limits.max_total_bytes:
    problems.append(f'{sum(sizes)} bytes in all')
  return problems
