"""disent_bias: why (beta-)VAEs disentangle, reproduced in JAX.

Reproduces and extends Zietlow, Rolinek & Martius, "Demystifying Inductive
Biases for (beta-)VAE Based Architectures" (ICML 2021).
"""

__version__ = '0.1.0'
