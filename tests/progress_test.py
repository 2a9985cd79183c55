"""Tests of the shared progress text."""

import math

from disent_bias.utils import progress


def test_format_seconds():
  assert progress.format_seconds(0) == '0:00:00'
  assert progress.format_seconds(59.6) == '0:01:00'
  assert progress.format_seconds(3 * 3600 + 62) == '3:01:02'
  assert progress.format_seconds(None) == '?'
  assert progress.format_seconds(math.inf) == '?'


def test_eta_seconds():
  assert progress.eta_seconds(10, 30, 2.0) == 10.0
  assert progress.eta_seconds(30, 30, 2.0) == 0.0
  assert progress.eta_seconds(0, 5, 0.0) > 1e9


def test_rate_logger_logs_at_the_end(monkeypatch):
  lines = []
  monkeypatch.setattr(progress.logging_utils, 'log_detail',
                      lambda fmt, *args: lines.append(fmt % args))
  logger = progress.RateLogger('encode', total=4, every_s=1e9)
  logger.update(2)
  assert not lines
  logger.update(4)
  assert len(lines) == 1 and lines[0].startswith('encode: 4/4 (')


def test_start_text_names_the_steps_and_warns_of_a_long_run():
  short = progress.start_text('training x', 0, 3_000, 500)
  assert short == ('training x: 3,000 steps; steps/s and ETA from step 500 '
                   'on')
  long = progress.start_text('training x', 1_000, 300_000, 2_000)
  assert '300,000 steps (resuming at step 1,000)' in long
  assert 'A long run' in long and '--config.train.num_steps=N' in long
  assert 'ETA' not in progress.start_text('training x', 50, 50, 50)
