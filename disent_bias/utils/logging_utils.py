"""Workdir outputs of a training run and the logs a person reads.

- ``MetricWriter``: one writer (shaped like clu's ``write_scalars`` /
  ``write_images``) that always appends to ``metrics.jsonl``, writes images
  as PNG files, and, with the ``tensorboard`` extra (``tensorboardX``) also
  writes TensorBoard event files;
- ``quiet_third_party_logs`` and ``log_detail``: readable progress: other
  libraries' INFO lines (Orbax, ...) are hidden at the default verbosity, and
  a run inside a grid logs its per-interval lines only at ``-v 1``.
"""

from __future__ import annotations

import contextlib
import json
import logging as std_logging
import os
from typing import Any, Iterator, Mapping

from absl import logging
import numpy as np

from disent_bias.utils import checks
from disent_bias.utils import images as images_lib
from disent_bias.utils import workdir

try:
  import tensorboardX  # The optional ``tensorboard`` extra.
except ImportError:
  tensorboardX = None

# Where this project's code lives: its INFO lines are always shown.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
_OWN_DIRS = tuple(os.path.join(_ROOT, name) + os.sep
                  for name in ('disent_bias', 'experiments'))


def to_jsonable(value: Any) -> Any:
  """numpy / jax scalars and arrays -> plain Python (floats, nested lists)."""
  if isinstance(value, Mapping):
    return {str(k): to_jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [to_jsonable(v) for v in value]
  if hasattr(value, 'shape') and hasattr(value, 'dtype'):
    value = np.asarray(value)
    if value.ndim == 0:
      return value.item()
    return value.tolist()
  if isinstance(value, np.generic):
    return value.item()
  return value


def tensorboard_available() -> bool:
  """Whether the ``tensorboard`` extra (``tensorboardX``) is installed."""
  return tensorboardX is not None


class MetricWriter:
  """Scalars and images of a run: JSON lines, PNG files and TensorBoard.

  Every record goes to ``path`` (``metrics.jsonl``, one JSON record per line
  with its ``step``). Images go to ``images_dir/step_<n>/<name>.png`` when
  ``images_dir`` is set. With ``tensorboard_dir`` set and ``tensorboardX``
  installed, scalars and images are also written as TensorBoard events.
  ``truncate_after(step)`` drops records written after the step a run resumes
  from, so a resumed run does not log the same steps twice (TensorBoard
  discards them through ``purge_step``).
  """

  def __init__(self, path: str, enabled: bool = True, *,
               images_dir: str | None = None,
               tensorboard_dir: str | None = None, image_scale: int = 2):
    self.path = path
    self.enabled = enabled
    self.images_dir = images_dir
    self.tensorboard_dir = (tensorboard_dir if tensorboard_available()
                            else None)
    self.image_scale = image_scale
    self._purge_step = None
    self._summary = None

  @classmethod
  def for_workdir(cls, workdir_path: str, enabled: bool = True
                  ) -> MetricWriter:
    """The writer of a training workdir: ``metrics.jsonl``, ``images/`` and
    ``tensorboard/`` (when the extra is installed)."""
    return cls(os.path.join(workdir_path, 'metrics.jsonl'), enabled,
               images_dir=os.path.join(workdir_path, 'images'),
               tensorboard_dir=os.path.join(workdir_path, 'tensorboard'))

  def _tensorboard(self):
    """The event-file writer, opened on first use (None without the extra)."""
    if self._summary is None and self.enabled and self.tensorboard_dir:
      self._summary = tensorboardX.SummaryWriter(
          self.tensorboard_dir, purge_step=self._purge_step, flush_secs=30)
    return self._summary

  def truncate_after(self, step: int, drop_evals: bool = False) -> None:
    """Keeps the records up to ``step`` (atomically rewritten).

    Damaged lines are dropped with a warning (``read_jsonl``), so a damaged
    log never blocks a resume.

    Args:
      step: the step the run resumes from (0 without a checkpoint).
      drop_evals: also drop the eval records (no ``train/loss``) at ``step``,
        which a resumed finished run writes again.
    """
    self._purge_step = step + 1
    if not self.enabled or not os.path.exists(self.path):
      return
    kept = [r for r in read_jsonl(self.path)
            if r['step'] < step or r['step'] == step and not (
                drop_evals and 'train/loss' not in r)]
    workdir.write_text(self.path,
                       ''.join(json.dumps(r) + '\n' for r in kept))

  def write(self, record: Mapping[str, Any]) -> None:
    """Appends one record (with its ``step``) to ``metrics.jsonl`` only."""
    if not self.enabled:
      return
    with open(self.path, 'a', encoding='utf-8') as f:
      f.write(json.dumps(to_jsonable(record), allow_nan=True) + '\n')
      f.flush()

  def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
    """One ``metrics.jsonl`` record; its numbers also as TensorBoard scalars.

    Non-scalar entries (per-seed lists) go to the JSON record only.
    """
    self.write({'step': step, **scalars})
    summary = self._tensorboard()
    if summary is None:
      return
    for name, value in to_jsonable(dict(scalars)).items():
      if isinstance(value, (int, float)) and not isinstance(value, bool):
        summary.add_scalar(name, value, step)

  def write_images(self, step: int, images: Mapping[str, np.ndarray]
                   ) -> dict[str, str]:
    """Writes (H, W, C) images (float in [0, 1] or uint8) at ``step``.

    Returns:
      ``{name: PNG path}`` (empty without ``images_dir``).
    """
    if not self.enabled:
      return {}
    paths = {}
    summary = self._tensorboard()
    for name, image in images.items():
      image = images_lib.to_uint8(image)
      if self.images_dir:
        paths[name] = os.path.join(self.images_dir, f'step_{step:08d}',
                                   f'{name}.png')
        images_lib.save_png(paths[name], image, self.image_scale)
      if summary is not None:
        summary.add_image(name, image, step, dataformats='HWC')
    return paths

  def close(self) -> None:
    """Closes the TensorBoard event file (JSON lines need no closing)."""
    if self._summary is not None:
      self._summary.close()
      self._summary = None


def read_jsonl(path: str) -> list[dict]:
  """The records of a ``metrics.jsonl`` file: JSON objects with a ``step``.

  A line that is not one (torn by a kill, not UTF-8, invalid JSON, no
  integer ``step``) is skipped, with one warning naming the file and each
  such line's number and fault.
  """
  records, damaged = [], []
  with open(path, 'rb') as f:
    for number, line in enumerate(f, 1):
      record, fault = _parse_record(line)
      if fault:
        damaged.append(f'line {number} ({fault})')
      elif record is not None:
        records.append(record)
  if damaged:
    logging.warning('%s: dropped %d damaged line(s), kept the other records: '
                    '%s', path, len(damaged), workdir.format_list(damaged))
  return records


def _parse_record(line: bytes) -> tuple[dict | None, str | None]:
  """``(record, None)``, ``(None, fault)``, or ``(None, None)`` if blank."""
  if not line.strip():
    return None, None
  try:
    record = json.loads(line.decode('utf-8'))
  except UnicodeDecodeError:
    return None, 'not UTF-8'
  except json.JSONDecodeError:
    return None, 'invalid JSON'
  if not isinstance(record, dict) or not checks.is_int(record.get('step')):
    return None, 'no integer "step"'
  return record, None


# ----------------------------------------------------------------------------
# Readable logs.


def _is_own(record: std_logging.LogRecord) -> bool:
  return record.pathname.startswith(_OWN_DIRS)


class ThirdPartyInfoFilter(std_logging.Filter):
  """Drops other libraries' INFO (and lower) lines below ``-v 1``."""

  def filter(self, record: std_logging.LogRecord) -> bool:
    return (record.levelno >= std_logging.WARNING or _is_own(record)
            or logging.get_verbosity() >= 1)


_FILTER = ThirdPartyInfoFilter()


def quiet_third_party_logs() -> None:
  """Hides other libraries' INFO lines (Orbax, ...) unless ``-v 1``.

  Installs a filter on absl's handler and the root logger's handlers, so it
  applies to every library that logs through absl or Python logging. Their
  warnings and errors are kept. ``--verbosity=1`` (``-v 1``) brings the INFO
  lines back, together with the per-interval lines of runs inside a grid.
  Idempotent.
  """
  handlers = [logging.get_absl_handler()] + list(
      std_logging.getLogger().handlers)
  for handler in handlers:
    if _FILTER not in handler.filters:
      handler.addFilter(_FILTER)


_NESTED = [0]  # Depth of ``nested_run`` contexts in this process.


@contextlib.contextmanager
def nested_run() -> Iterator[None]:
  """Inside, ``log_detail`` lines are verbose (``-v 1``) instead of INFO.

  A grid of runs (``reproduce``) wraps each run in it, so the terminal shows
  one line per cell and the grid's progress, not every run's log.
  """
  _NESTED[0] += 1
  try:
    yield
  finally:
    _NESTED[0] -= 1


@logging.skip_log_prefix
def log_detail(msg: str, *args: Any) -> None:
  """A run's progress line: INFO, or ``vlog(1)`` inside ``nested_run``."""
  if _NESTED[0]:
    logging.vlog(1, msg, *args)
  else:
    logging.info(msg, *args)
