"""Studies: small self-contained experiments with their own tables.

``pca2019``: the predecessor's linear task and equal-scale test (Rolinek et
al., CVPR 2019).
"""
