"""Shared pytest fixtures."""

import contextlib

import jax
import pytest


@contextlib.contextmanager
def _most_optimizations_disabled():
  previous = jax.config.values['jax_disable_most_optimizations']
  jax.config.update('jax_disable_most_optimizations', True)
  try:
    yield
  finally:
    jax.config.update('jax_disable_most_optimizations', previous)


@pytest.fixture
def fast_compiles():
  """Tiny programs: compile time dominates, so skip most XLA optimisations."""
  with _most_optimizations_disabled():
    yield


@pytest.fixture(scope='module')
def fast_compiles_module():
  """``fast_compiles`` for every test of a module."""
  with _most_optimizations_disabled():
    yield
