"""Config checking and resolution: what a run reads before anything compiles.

``validate_config`` composes the registries' own checks (``data``,
``models.objectives``, ``metrics``) with the network, optimiser and loop
fields; ``resolve_config`` fills the run-time defaults once, at the start of
a run, and the resolved config is what ``config.json`` records and what
every later piece (``setup.build``, the runner, scoring) reads.
"""

from __future__ import annotations

import os
from typing import Any

import ml_collections

from disent_bias import data as data_lib
from disent_bias import metrics as metrics_lib
from disent_bias.models import hparams as hparams_lib
from disent_bias.models import networks
from disent_bias.models import objective_base
from disent_bias.models import objectives as objectives_lib
from disent_bias.utils import checks
from disent_bias.utils import workdir as workdir_lib

CONV_IMPLS = ('matmul', 'native')


def validate_config(config: ml_collections.ConfigDict) -> None:
  """Checks names, types and ranges of a config before anything compiles.

  Raises:
    ValueError: unknown model, dataset, variant, source, architecture,
      reconstruction, metric or hyperparameter, or an impossible value.
    TypeError: a field of the wrong type.
  """
  checks.check_type(config.seed, checks.is_int, 'seed', 'an int')
  hparams_lib.validate_config(config.model)
  data_lib.validate_config(config.data)
  _validate_network(config.model)
  _validate_optimizer(config.optimizer)
  t = config.train
  # A run of 0 steps would score the untrained initialisation as a result.
  checks.check_positive_ints(
      t, ('batch_size', 'num_steps', 'num_seeds', 'steps_per_call'),
      prefix='train.')
  checks.check_type(t.inject_nan_at_step, checks.is_int,
                    'train.inject_nan_at_step', 'an int', optional=True)
  checks.check_positive_ints(
      config, ('log_every_steps', 'eval_every_steps', 'checkpoint_every_steps',
               'keep_checkpoints'))
  checks.check_positive_ints(
      config.eval, ('num_images', 'traversal_steps', 'num_summary_images'),
      prefix='eval.')
  metrics_lib.validate_config(config.metrics)


def _validate_network(m: ml_collections.ConfigDict) -> None:
  """``model.num_latents``, ``architecture``, ``hidden``, ``conv_impl`` and
  ``compute_dtype``."""
  checks.check_type(m.num_latents, checks.is_int, 'model.num_latents',
                    'an int', optional=True)
  if m.num_latents is not None:
    checks.check(m.num_latents >= 1,
                 f'model.num_latents must be >= 1, got {m.num_latents}')
  if m.architecture is not None:
    checks.check_choice(m.architecture, networks.ARCHITECTURES,
                        'model.architecture')
  checks.check(all(checks.is_int(w) and w >= 1 for w in m.hidden),
               f'model.hidden must be positive ints, got {m.hidden}')
  checks.check_choice(m.conv_impl, CONV_IMPLS, 'model.conv_impl')
  checks.check_choice(m.compute_dtype, tuple(networks.COMPUTE_DTYPES),
                      'model.compute_dtype')


def _validate_optimizer(o: ml_collections.ConfigDict) -> None:
  for name in ('lr', 'b1', 'b2', 'eps'):
    checks.check_type(o[name], checks.is_number, f'optimizer.{name}',
                      'a float')
    checks.check_finite(o[name], f'optimizer.{name}')
  checks.check(o.lr > 0 and o.eps > 0,
               'optimizer.lr and optimizer.eps must be > 0, '
               f'got {o.lr} and {o.eps}')
  checks.check(0 <= o.b1 < 1 and 0 <= o.b2 < 1,
               f'optimizer.b1 and b2 must be in [0, 1), got {o.b1} and {o.b2}')


def resolve_hparams(config: ml_collections.ConfigDict,
                    objective: objective_base.Objective | None = None
                    ) -> dict[str, Any]:
  """The selected objective's hyperparameters with their run-time values.

  Order: ``config.model.hparams`` (when not None), then
  ``config.model.presets[model][dataset]``, ``presets[model]['*']``, then the
  default of the objective's hyperparameter dataclass.

  Args:
    config: the config.
    objective: ``objectives.get(config.model.name)`` when the caller has it.

  Raises:
    ValueError: a hyperparameter with no value anywhere.
  """
  name = config.model.name
  objective = objective or objectives_lib.get(name)
  table = config.model.presets.get(name, None) or {}
  sources = (dict(config.model.hparams),
             dict(table.get(config.data.name, None) or {}),
             dict(table.get('*', None) or {}),
             objective.default_hparams())
  values = {}
  for hparam in objective.hparam_names:
    found = [s for s in sources[:3] if s.get(hparam, None) is not None]
    if found:
      values[hparam] = found[0][hparam]
    elif hparam in sources[3]:
      values[hparam] = sources[3][hparam]  # May be None (Ada-GVAE's k).
    else:
      raise ValueError(
          f'no value for hyperparameter {hparam!r} of {name}: set '
          f'--config.model.hparams.{hparam}=... or add it to model.presets')
  return values


def resolve_config(config: ml_collections.ConfigDict,
                   dataset: data_lib.GroundTruthData
                   ) -> ml_collections.ConfigDict:
  """A copy of ``config`` with run-time defaults filled in, once per run.

  ``model.hparams`` becomes the selected objective's hyperparameters only
  (``resolve_hparams``), ``model.num_latents`` the number of factors when
  unset, and ``model.architecture`` conv for (H, W, C) images, mlp
  otherwise, when unset.

  Raises:
    ValueError: a hyperparameter without a value, or the conv architecture
      on observations it cannot take.
  """
  resolved = ml_collections.ConfigDict(config.to_dict())
  resolved.model.hparams = resolve_hparams(config)
  if resolved.model.num_latents is None:
    resolved.model.num_latents = dataset.num_factors
  if resolved.model.architecture is None:
    resolved.model.architecture = (
        'conv' if len(dataset.observation_shape) == 3 else 'mlp')
  if resolved.model.architecture == 'conv':
    shape = dataset.observation_shape
    if len(shape) != 3 or shape[0] % 16 or shape[1] % 16:
      raise ValueError(
          f'invalid config: the conv architecture needs (H, W, C) images with '
          f'H and W multiples of 16 (64x64 in the paper), got {shape} for '
          f'{dataset.name}; use --config.model.architecture=mlp')
  return resolved


def is_resolved(config: ml_collections.ConfigDict,
                objective: objective_base.Objective | None = None) -> bool:
  """Whether ``resolve_config`` made ``config`` (or an equal stored one);
  ``objective`` is ``objectives.get(config.model.name)`` when the caller
  has it."""
  objective = objective or objectives_lib.get(config.model.name)
  return (config.model.num_latents is not None and
          config.model.architecture is not None and
          set(config.model.hparams) == set(objective.hparam_names))


def stored_config(workdir: str) -> ml_collections.ConfigDict:
  """The resolved config a run stored in ``workdir/config.json``.

  Fields added since the run (``workdir.ADDED_FIELDS``) get the values the
  run had, and hyperparameters of other objectives (stored as None by older
  versions) are dropped, so the result is what ``resolve_config`` gives now.

  Raises:
    FileNotFoundError: no config.json.
  """
  path = os.path.join(workdir, 'config.json')
  if not os.path.exists(path):
    raise FileNotFoundError(f'no config.json in {workdir!r}; is it a workdir '
                            'written by train_and_evaluate?')
  raw = workdir_lib.with_added_fields(workdir_lib.read_json(path))
  config = ml_collections.ConfigDict(raw)
  config.model.hidden = tuple(config.model.hidden)
  config.metrics.names = tuple(config.metrics.names)
  names = objectives_lib.get(config.model.name).hparam_names
  config.model.hparams = {k: config.model.hparams[k] for k in names}
  return config


__all__ = ['CONV_IMPLS', 'validate_config', 'resolve_hparams',
           'resolve_config', 'is_resolved', 'stored_config']
