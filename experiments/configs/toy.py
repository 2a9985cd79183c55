"""``disent_bias.configs.toy``, kept at this path for the checkout's commands.

``--config=experiments/configs/toy.py`` and ``disent_bias/configs/toy.py`` load
the same config (docs/architecture.md, "Configs").
"""

from disent_bias.configs.toy import *  # pylint: disable=wildcard-import,unused-wildcard-import
