"""Local PCA / Jacobian analysis of datasets and models."""
