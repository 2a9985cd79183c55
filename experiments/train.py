"""Trains models: ``disent_bias.training.train.train_and_evaluate(config, workdir)``.

The checkout's ``python -m experiments.train``: the ``disent-bias-train``
console script (``disent_bias/cli/train.py`` has the flags and the docs).
"""

from disent_bias.cli import train

if __name__ == '__main__':
  train.entry()
