"""disent_bias: why (beta-)VAEs disentangle, reproduced in JAX.

Reproduces and extends Zietlow, Rolinek & Martius, "Demystifying Inductive
Biases for (beta-)VAE Based Architectures" (ICML 2021).

``disent_bias.encode(workdir_or_model, images)`` is
`disent_bias.tools.encoding.encode`, imported on first use: the posterior means
of any images under a trained model.
"""

__version__ = '0.1.0'


def __getattr__(name: str):
  """``encode`` on first use, so ``import disent_bias`` stays light."""
  if name == 'encode':
    from disent_bias.tools.encoding import encode  # pylint: disable=g-import-not-at-top
    return encode
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
