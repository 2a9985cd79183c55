"""``disent_bias.configs.common``, kept at this path for the checkout's commands.

``--config=experiments/configs/common.py`` and ``disent_bias/configs/common.py`` load
the same config (docs/architecture.md, "Configs").
"""

from disent_bias.configs.common import *  # pylint: disable=wildcard-import,unused-wildcard-import
