"""disent_bias: inductive biases of (beta-)VAEs, reproduced in JAX.

The package metadata is in ``pyproject.toml``; this shim keeps
``python setup.py ...`` and older tools working.
"""

import setuptools

setuptools.setup()
