"""The configs of the binaries and of the API (``get_config`` factories).

``default`` (any model on any dataset), ``toy`` (the toy tier), ``reproduce``
(the reproduction protocols), ``pca2019`` (the 2019 linear task) and
``common`` (typed preset arguments). Each module is also a config file for
``--config=disent_bias/configs/<name>.py[:presets]``, which the binaries
resolve against the installed package from any working directory
(``disent_bias.cli.flags.resolve_config_path``).
"""
