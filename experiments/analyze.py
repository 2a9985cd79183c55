"""Local PCA / Jacobian analysis of one dataset variant.

The checkout's ``python -m experiments.analyze``: the ``disent-bias-analyze``
console script (``disent_bias/cli/analyze.py`` has the flags and the docs).
"""

from disent_bias.cli import analyze

if __name__ == '__main__':
  analyze.entry()
