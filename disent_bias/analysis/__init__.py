"""Local PCA / Jacobian analysis of datasets and models.

- ``jacobian``: finite-difference generator Jacobians in factor space;
- ``alignment``: local PCA, distance to orthogonality, off-diagonal mass;
- ``dataset``: alignment over a sample of grid points, perturbation checks;
- ``model``: decoder Jacobians, posterior variances, active latents,
  polarized regime, ``model_summary`` (logged by the train loop).
"""

from disent_bias.analysis import alignment
from disent_bias.analysis import dataset
from disent_bias.analysis import jacobian
from disent_bias.analysis import model
from disent_bias.analysis.alignment import alignment_scores
from disent_bias.analysis.alignment import batch_alignment_scores
from disent_bias.analysis.alignment import distance_to_orthogonality
from disent_bias.analysis.alignment import local_pca
from disent_bias.analysis.alignment import offdiag_mass
from disent_bias.analysis.dataset import block_points
from disent_bias.analysis.dataset import criterion
from disent_bias.analysis.dataset import local_alignment
from disent_bias.analysis.dataset import perturbation_report
from disent_bias.analysis.dataset import perturbation_reports
from disent_bias.analysis.dataset import sample_points
from disent_bias.analysis.jacobian import generator_jacobian
from disent_bias.analysis.jacobian import generator_jacobians
from disent_bias.analysis.model import decoder_jacobian
from disent_bias.analysis.model import model_summary
from disent_bias.analysis.model import polarized_fraction
from disent_bias.analysis.model import posterior_stats

__all__ = [
    'alignment', 'dataset', 'jacobian', 'model', 'alignment_scores',
    'batch_alignment_scores', 'distance_to_orthogonality', 'local_pca',
    'offdiag_mass', 'block_points', 'criterion', 'local_alignment', 'perturbation_report',
    'perturbation_reports', 'sample_points',
    'generator_jacobian', 'generator_jacobians', 'decoder_jacobian',
    'model_summary', 'polarized_fraction', 'posterior_stats',
]
