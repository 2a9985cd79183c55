"""Fixtures and factor steps shared by the tests of the procedural
look-alikes (dsprites_test, shapes3d_test)."""

import jax
import numpy as np
import pytest

from disent_bias import data


def dataset_fixtures(name):
  """The module fixtures ``dataset`` (loaded by name) and ``render`` (jitted).

  Use as ``dataset, render = dataset_fixtures(name)`` at a module's top.
  """

  @pytest.fixture(scope='module')
  def dataset():
    return data.load(name)

  @pytest.fixture(scope='module')
  def render(dataset):
    return jax.jit(dataset.render)

  return dataset, render


def step_factor(factors, factor, sizes):
  """``factors`` with column ``factor`` one value up (down from the top)."""
  stepped = factors.copy()
  column = stepped[:, factor]
  stepped[:, factor] = np.where(column == sizes[factor] - 1, column - 1,
                                column + 1)
  return stepped


def random_batch(dataset, render, shape):
  """``render`` of ``shape[0]`` random factor rows: float32 of ``shape``."""
  x = np.asarray(render(dataset.sample_factors(jax.random.key(0), shape[0])))
  assert x.shape == shape
  assert x.dtype == np.float32
  return x
