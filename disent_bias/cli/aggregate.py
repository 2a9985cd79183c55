r"""One table of many runs: ``disent_bias.tools.aggregate.collect``.

  disent-bias-aggregate /tmp/quick /tmp/run [--out=runs.csv]

Walks training and reproduction workdirs (shards included) and writes one row
per model seed with the resolved hyperparameters, every score, steps,
timings, library versions, device and commit: ``--out`` as CSV, and next to
it ``.parquet`` when pyarrow is installed. Needs the ``aggregate`` extra.
"""

from __future__ import annotations

from absl import app
from absl import flags
from absl import logging

from disent_bias.cli import common
from disent_bias.tools import aggregate
from disent_bias.utils import logging_utils


def define_flags() -> None:
  """The binary's flags."""
  flags.DEFINE_string('out', 'runs.csv', 'Output CSV path.')


def main(argv: list[str]) -> None:
  """Writes the table of the workdirs given as arguments."""
  if len(argv) < 2:
    raise app.UsageError('give one or more workdirs: disent-bias-aggregate '
                         'DIR [DIR ...]')
  logging_utils.quiet_third_party_logs()
  out = flags.FLAGS.out
  with common.user_errors():
    aggregate.check_out(out)
    frame = aggregate.collect(argv[1:])
    for path in aggregate.save(frame, out):
      logging.info('wrote %s (%d rows, %d columns)', path, len(frame),
                   frame.shape[1])


def entry(argv: list[str] | None = None) -> None:
  """The ``disent-bias-aggregate`` console script."""
  common.run(define_flags, main, argv)
