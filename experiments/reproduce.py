"""Reproduces the paper's table: ``disent_bias.reproduce.reproduce``.

The checkout's ``python -m experiments.reproduce``: the ``disent-bias-reproduce``
console script (``disent_bias/cli/reproduce.py`` has the flags and the docs).
"""

from disent_bias.cli import reproduce

if __name__ == '__main__':
  reproduce.entry()
