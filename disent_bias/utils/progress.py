"""Progress text shared by the train loop, the metrics' samplers and the grid.

``format_seconds`` and ``eta_seconds`` are the one place where elapsed and
remaining times are computed and written; ``RateLogger`` logs a long loop's
rate and ETA at most every few seconds.
"""

from __future__ import annotations

import math
import time

from disent_bias.utils import logging_utils


def format_seconds(seconds: float | None) -> str:
  """``H:MM:SS`` of ``seconds`` rounded to whole seconds; ``?`` if unknown."""
  if seconds is None or not math.isfinite(seconds):
    return '?'
  seconds = int(round(seconds))
  return f'{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


# A training run of more steps than this says so in its start line.
LONG_RUN_STEPS = 50_000


def start_text(what: str, done: int, total: int, first_eta_step: int) -> str:
  """The start line of a run of ``total`` steps: its size, where it resumes,
  the step of the first ETA, and a warning when it is long."""
  text = f'{what}: {total:,} steps'
  if done:
    text += f' (resuming at step {done:,})'
  if done < total:
    text += f'; steps/s and ETA from step {first_eta_step:,} on'
  if total - done > LONG_RUN_STEPS:
    text += (f'. A long run (over {LONG_RUN_STEPS:,} steps: hours on a CPU); '
             'shrink it with --config.train.num_steps=N')
  return text


def eta_seconds(done: float, total: float, rate: float) -> float:
  """Seconds left for ``total - done`` units at ``rate`` units per second."""
  return (total - done) / max(rate, 1e-9)


class RateLogger:
  """Logs ``what: done/total (rate/s, ETA)`` at most every ``every_s`` s."""

  def __init__(self, what: str, total: int, every_s: float = 15.):
    self.what, self.total, self.every_s = what, total, every_s
    self.start = self.last = time.perf_counter()

  def update(self, done: int) -> None:
    now = time.perf_counter()
    if now - self.last < self.every_s and done < self.total:
      return
    self.last = now
    rate = done / max(now - self.start, 1e-9)
    logging_utils.log_detail('%s: %d/%d (%.0f/s, ETA %s)', self.what, done,
                             self.total, rate,
                             format_seconds(eta_seconds(done, self.total,
                                                        rate)))
