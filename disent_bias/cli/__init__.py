"""The binaries: one module per command, each with ``define_flags``, ``main``
and ``entry`` (the console script, e.g. ``disent-bias-train``).

The checkout's ``python -m experiments.<name>`` runs the same ``entry``;
``common`` holds what they share (config paths resolved from any working
directory, one-line flag and user errors).
"""
