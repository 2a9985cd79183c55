"""The 2019 checks: ``disent_bias.studies.pca2019.run``.

The checkout's ``python -m experiments.pca2019``: the ``disent-bias-pca2019``
console script (``disent_bias/cli/pca2019.py`` has the flags and the docs).
"""

from disent_bias.cli import pca2019

if __name__ == '__main__':
  pca2019.entry()
