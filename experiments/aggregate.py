r"""One table of many runs: ``disent_bias.aggregate.collect``.

  python -m experiments.aggregate /tmp/quick /tmp/run [--out=runs.csv]

Walks training and reproduction workdirs (shards included) and writes one row
per model seed with the resolved hyperparameters, every score, steps,
timings, library versions, device and commit: ``--out`` as CSV, and next to
it ``.parquet`` when pyarrow is installed. Needs the ``aggregate`` extra.
"""

from absl import app
from absl import flags
from absl import logging

from disent_bias import aggregate
from disent_bias import logging_utils
from experiments import cli

_OUT = flags.DEFINE_string('out', 'runs.csv', 'Output CSV path.')


def main(argv):
  if len(argv) < 2:
    raise app.UsageError('give one or more workdirs: python -m '
                         'experiments.aggregate DIR [DIR ...]')
  logging_utils.quiet_third_party_logs()
  with cli.user_errors():
    aggregate.check_out(_OUT.value)
    frame = aggregate.collect(argv[1:])
    for path in aggregate.save(frame, _OUT.value):
      logging.info('wrote %s (%d rows, %d columns)', path, len(frame),
                   frame.shape[1])


if __name__ == '__main__':
  app.run(main)
