"""One table of many runs: ``disent_bias.tools.aggregate.collect``.

The checkout's ``python -m experiments.aggregate``: the ``disent-bias-aggregate``
console script (``disent_bias/cli/aggregate.py`` has the flags and the docs).
"""

from disent_bias.cli import aggregate

if __name__ == '__main__':
  aggregate.entry()
