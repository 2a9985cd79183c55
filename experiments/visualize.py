"""Figures of a trained run: ``disent_bias.tools.visualize.visualize_workdir``.

The checkout's ``python -m experiments.visualize``: the ``disent-bias-visualize``
console script (``disent_bias/cli/visualize.py`` has the flags and the docs).
"""

from disent_bias.cli import visualize

if __name__ == '__main__':
  visualize.entry()
