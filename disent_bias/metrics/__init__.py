"""Disentanglement metrics (disentanglement_lib semantics)."""
