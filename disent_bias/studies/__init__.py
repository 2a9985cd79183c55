"""Studies: small self-contained experiments with their own tables.

``experiment``: train several seeds of a config without a workdir, and the
supervised MIG ceiling of a variant. ``noise_control``: the toy tier's
variants against their ceilings.

``pca2019``: the predecessor's linear task and equal-scale test (Rolinek et
al., CVPR 2019).
"""
