"""``disent_bias.configs.default``, kept at this path for the checkout's commands.

``--config=experiments/configs/default.py`` and ``disent_bias/configs/default.py`` load
the same config (docs/architecture.md, "Configs").
"""

from disent_bias.configs.default import *  # pylint: disable=wildcard-import,unused-wildcard-import
