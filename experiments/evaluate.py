"""Scores the newest checkpoint of a training workdir; writes DIR/eval.json.

The checkout's ``python -m experiments.evaluate``: the ``disent-bias-evaluate``
console script (``disent_bias/cli/evaluate.py`` has the flags and the docs).
"""

from disent_bias.cli import evaluate

if __name__ == '__main__':
  evaluate.entry()
