"""The noise control study: ``disent_bias.studies.noise_control.run``.

The checkout's ``python -m experiments.noise_control``: the
``disent-bias-noise-control`` console script (``disent_bias/cli/
noise_control.py`` has the flags and the docs).
"""

from disent_bias.cli import noise_control

if __name__ == '__main__':
  noise_control.entry()
