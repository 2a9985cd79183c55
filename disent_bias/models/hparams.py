"""The check of ``config.model``'s objective fields.

The objectives registry (``objectives.OBJECTIVES``) validates its own config
section here: ``validate_config(config.model)``. The hyperparameters'
names and defaults are each objective's dataclass (``Objective.hparams``).
"""

from __future__ import annotations

from typing import Any

from disent_bias.models import losses
from disent_bias.models import objectives
from disent_bias.utils import checks


# Hyperparameters that may be negative: k < 1 draws k per pair (Ada-GVAE).
SIGNED_HPARAMS = ('k',)


def validate_config(model: Any) -> None:
  """Checks ``config.model``'s objective fields (name, likelihood, hparams).

  Raises:
    ValueError: an unknown model or reconstruction, a hyperparameter the
      objective does not take, or an impossible value.
    TypeError: a field of the wrong type.
  """
  checks.check_type(model.name, lambda x: isinstance(x, str), 'model.name',
                    'a str')
  if model.name not in objectives.OBJECTIVES:
    raise ValueError(f'invalid config: unknown model {model.name!r}; valid: '
                     f'{", ".join(sorted(objectives.OBJECTIVES))}')
  checks.check(model.recon in losses.RECONSTRUCTION,
               f'unknown model.recon {model.recon!r}; valid: '
               f'{", ".join(sorted(losses.RECONSTRUCTION))}')
  checks.check_type(model.recon_weight, checks.is_number, 'model.recon_weight',
                    'a float')
  checks.check_finite(model.recon_weight, 'model.recon_weight')
  checks.check(model.recon_weight > 0,
               f'model.recon_weight must be > 0, got {model.recon_weight}')
  for name in ('disc_hidden', 'disc_layers'):
    value = model[name]
    checks.check(checks.is_int(value) and value >= 1,
                 f'model.{name} must be a positive int, got {value!r}')
  names = objectives.OBJECTIVES[model.name].hparam_names
  for name, value in model.hparams.items():
    if value is None:
      continue
    takes = ', '.join(names) or 'no hyperparameters'
    checks.check(name in names,
                 f'model.hparams.{name}={value!r} is set but {model.name} '
                 f'takes ({takes})')
    checks.check_type(value, checks.is_number, f'model.hparams.{name}',
                      'a number')
    checks.check_finite(value, f'model.hparams.{name}')
    if name not in SIGNED_HPARAMS:  # A weight < 0 trains the opposite way.
      checks.check(value >= 0,
                   f'model.hparams.{name} must be >= 0, got {value}')
