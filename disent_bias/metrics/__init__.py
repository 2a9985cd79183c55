"""Disentanglement metrics (disentanglement_lib semantics).

Array-level scores take codes (N, D) and integer factor classes (N, K);
sampling scores take a ``GroundTruthData`` and a representation function.
"""

from disent_bias.metrics import beta_vae as beta_vae_lib
from disent_bias.metrics import dci as dci_lib
from disent_bias.metrics import evaluation
from disent_bias.metrics import factor_vae as factor_vae_lib
from disent_bias.metrics import mig as mig_lib
from disent_bias.metrics import modularity as modularity_lib
from disent_bias.metrics import sampling
from disent_bias.metrics import sap as sap_lib
from disent_bias.metrics import unsupervised as unsupervised_lib
from disent_bias.metrics import utils
from disent_bias.metrics.beta_vae import beta_vae_score
from disent_bias.metrics.dci import dci
from disent_bias.metrics.dci import dci_sample
from disent_bias.metrics.evaluation import ALL_METRICS
from disent_bias.metrics.evaluation import ARRAY_METRICS
from disent_bias.metrics.evaluation import array_sample
from disent_bias.metrics.evaluation import evaluate_representation
from disent_bias.metrics.evaluation import evaluate_representations
from disent_bias.metrics.evaluation import METRICS
from disent_bias.metrics.evaluation import pack_sample
from disent_bias.metrics.evaluation import SAMPLE_KEYS
from disent_bias.metrics.evaluation import score_sample
from disent_bias.metrics.evaluation import unpack_sample
from disent_bias.metrics.evaluation import validate_config
from disent_bias.metrics.factor_vae import factor_vae_score
from disent_bias.metrics.mig import mig
from disent_bias.metrics.modularity import modularity_explicitness
from disent_bias.metrics.sampling import sample_codes
from disent_bias.metrics.sap import sap
from disent_bias.metrics.score_record import ScoreRecord
from disent_bias.metrics.unsupervised import unsupervised

__all__ = [
    'ALL_METRICS', 'ARRAY_METRICS', 'METRICS', 'SAMPLE_KEYS', 'ScoreRecord',
    'array_sample',
    'score_sample', 'pack_sample', 'unpack_sample', 'beta_vae_score', 'dci',
    'dci_sample', 'evaluate_representation', 'evaluate_representations',
    'factor_vae_score', 'mig', 'validate_config',
    'modularity_explicitness', 'sample_codes', 'sap', 'unsupervised',
    'evaluation', 'sampling', 'utils', 'beta_vae_lib', 'dci_lib',
    'factor_vae_lib', 'mig_lib', 'modularity_lib', 'sap_lib',
    'unsupervised_lib',
]
