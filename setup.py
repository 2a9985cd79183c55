"""disent_bias: inductive biases of (beta-)VAEs, reproduced in JAX.

The package metadata is in ``pyproject.toml``; this shim keeps
``python setup.py ...`` working and gives the ``Home-page`` field that
``pip show`` prints (``project.urls`` fills only ``Project-URL``).
"""

import setuptools

setuptools.setup(url='https://github.com/disent-bias/disent_bias')
