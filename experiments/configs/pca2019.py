"""``disent_bias.configs.pca2019``, kept at this path for the checkout's commands.

``--config=experiments/configs/pca2019.py`` and ``disent_bias/configs/pca2019.py`` load
the same config (docs/architecture.md, "Configs").
"""

from disent_bias.configs.pca2019 import *  # pylint: disable=wildcard-import,unused-wildcard-import
