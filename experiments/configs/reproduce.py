"""``disent_bias.configs.reproduce``, kept at this path for the checkout's commands.

``--config=experiments/configs/reproduce.py`` and ``disent_bias/configs/reproduce.py`` load
the same config (docs/architecture.md, "Configs").
"""

from disent_bias.configs.reproduce import *  # pylint: disable=wildcard-import,unused-wildcard-import
