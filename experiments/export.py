"""Writes a dataset variant to a file other frameworks read.

The checkout's ``python -m experiments.export``: the ``disent-bias-export``
console script (``disent_bias/cli/export.py`` has the flags and the docs).
"""

from disent_bias.cli import export

if __name__ == '__main__':
  export.entry()
