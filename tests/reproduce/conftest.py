"""Fixtures of the reproduction tests: the smoke grid and a fake trainer.

The fake ``train_and_evaluate`` writes ``results.json`` in the contract of
the train loop: one record per seed under ``per_seed`` (``seed``,
``metrics``: a real score record, ``score_records.real_records``, with its
counts and timings, whose scores are replaced by ones that encode the cell,
``eval``), and only summaries under ``metrics`` and ``eval``.
"""

import dataclasses
import json
import os

import pytest

from disent_bias.configs import reproduce as reproduce_configs
from score_records import real_records

VARIANT_MIG = {'original': 0.5, 'perturbed': 0.1, 'noise': 0.45}


def default_mig(config, index):
  """MIG of seed ``index`` of a cell: encodes its variant and the seed."""
  return VARIANT_MIG[config.data.variant] + 0.02 * index


def write_fake_results(config, workdir, mig=default_mig):
  """What ``train_and_evaluate`` writes, with scores that encode the cell."""
  seeds = [config.seed + s for s in range(config.train.num_seeds)]
  base = VARIANT_MIG[config.data.variant]
  real = real_records()
  per_seed = [{'seed': seed,
               'metrics': dataclasses.replace(
                   real[s % len(real)], seed=seed,
                   scores={'mig': mig(config, s),
                           'dci.disentanglement': base}).to_json(),
               'eval': {'eval/loss': 1.0 + s}}
              for s, seed in enumerate(seeds)]
  results = {'model': config.model.name, 'dataset': config.data.name,
             'variant': config.data.variant, 'seeds': seeds,
             'num_steps': config.train.num_steps, 'per_seed': per_seed,
             'metrics': {'mig': 0.0, 'mig_sd': 0.0},
             'eval': {'eval/loss': 1.0},
             'timings': {'train_seconds': 1.0, 'total_seconds': 2.0}}
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, 'results.json'), 'w') as f:
    json.dump(results, f)
  return results


class FakeTrain:
  """Records the cells it trains; optionally fails on one of them."""

  def __init__(self, fail_on=None, mig=default_mig):
    self.calls = []
    self.fail_on = fail_on
    self.mig = mig

  def __call__(self, config, workdir):
    cell = (config.data.name, config.data.variant, config.model.name)
    if cell == self.fail_on:
      raise KeyboardInterrupt('killed')
    self.calls.append(cell)
    return write_fake_results(config, workdir, self.mig)


@pytest.fixture
def fake_train():
  """The ``FakeTrain`` class."""
  return FakeTrain


@pytest.fixture
def fake_results():
  """``write_fake_results``."""
  return write_fake_results


def smoke_config(**changes):
  """The smoke protocol without the dataset analysis, with ``changes``."""
  config = reproduce_configs.get_config('smoke')
  config.analysis.enabled = False
  for key, value in changes.items():
    config[key] = value
  return config


def eps_sweep_config(**changes):
  """The smoke grid with data.epsilon swept; the original variant unswept."""
  config = smoke_config(**changes)
  config.sweep.field = 'data.epsilon'
  config.sweep.points = (0.05, 0.2)
  config.sweep.unswept_variants = ('original',)
  config.sweep.baseline = 0.0
  return config


@pytest.fixture
def smoke():
  """``smoke_config``."""
  return smoke_config


@pytest.fixture
def eps_sweep():
  """``eps_sweep_config``."""
  return eps_sweep_config
