"""Writes a PNG of a dataset: random samples and one traversal row per factor.

The checkout's ``python -m experiments.show_data``: the ``disent-bias-show-data``
console script (``disent_bias/cli/show_data.py`` has the flags and the docs).
"""

from disent_bias.cli import show_data

if __name__ == '__main__':
  show_data.entry()
