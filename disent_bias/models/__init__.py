"""Networks, per-example loss terms and objectives."""

from disent_bias.models import losses
from disent_bias.models import networks
from disent_bias.models import objectives
from disent_bias.models.networks import VAE
from disent_bias.models.objective_base import Objective
from disent_bias.models.objectives import OBJECTIVES

__all__ = ['losses', 'networks', 'objectives', 'OBJECTIVES', 'Objective',
           'VAE']
