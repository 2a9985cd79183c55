"""Shared pytest fixtures and the test session's compilation cache."""

import contextlib
import os
import shutil
import tempfile

import jax
import pytest

from disent_bias.training import train
from distributed_config import toy_mlp_config
from tiny_run import tiny_config
from tiny_run import tiny_dataset

_CACHE_DIR = 'JAX_COMPILATION_CACHE_DIR'
_CACHE_MIN_SECS = 'JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS'
_OPT_LEVEL = '--xla_backend_optimization_level'


def pytest_configure(config):
  """One XLA compilation cache for the whole test session.

  Many tests compile the same small programs (the same tiny train step, the
  same metric kernels), in both xdist workers and in the subprocesses the
  end-to-end tests start. A cache directory created here, before the workers
  start, is inherited by all of them through the environment, so each such
  program is compiled once per session. Every program is cached, however
  fast it compiles: most tests compile without XLA's optimisations, in well
  under 0.2 s a program, and the same small programs recur across tests and
  processes (measured on a whole-suite run: 286 cache hits instead of 72,
  249 instead of 276 worker-seconds of compilation). A directory the user
  set is used as it is; the one created here is removed at the end.
  """
  if _CACHE_DIR not in os.environ:
    path = tempfile.mkdtemp(prefix='disent_bias_tests_xla_cache_')
    os.environ[_CACHE_DIR] = path
    os.environ.setdefault(_CACHE_MIN_SECS, '0')
    config.disent_bias_cache_dir = path
  jax.config.update('jax_compilation_cache_dir', os.environ[_CACHE_DIR])
  _set_backend_optimization_level()
  if _CACHE_MIN_SECS in os.environ:
    jax.config.update('jax_persistent_cache_min_compile_time_secs',
                      float(os.environ[_CACHE_MIN_SECS]))


def _set_backend_optimization_level():
  """Compiles the session's programs with LLVM at optimisation level 1.

  XLA's CPU backend hands its generated code to LLVM at a higher level by
  default. Level 1 halves the compile time of this project's programs and
  leaves their speed as it is (measured on one core: the toy-tier training
  program 9.1 -> 4.9 s of compilation, the conv beta-VAE train loop 25.8 ->
  13.4 s, the same steps per second). The programs of the science tests
  (toy-tier beta-VAE and PCL, the MIG ceiling, the 2019 mechanism check)
  and the conv beta-VAE give bit-identical results; beta-TCVAE's does not
  (its toy cells' MIG moves by up to 0.016), so, as with the
  ``fast_compiles`` fixtures, no test compares a result against one
  computed at the default level (docs/performance.md). Set in the
  environment before any backend starts, so the xdist workers, subprocesses
  and notebook kernels inherit it; a level the user set in ``XLA_FLAGS`` is
  kept.
  """
  flags = os.environ.get('XLA_FLAGS', '')
  if _OPT_LEVEL not in flags:
    os.environ['XLA_FLAGS'] = f'{flags} {_OPT_LEVEL}=1'.strip()


def pytest_unconfigure(config):
  path = getattr(config, 'disent_bias_cache_dir', None)
  if path:
    shutil.rmtree(path, ignore_errors=True)


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


def toy_config():
  """A 20-step beta-VAE on the toy tier (MLP, L2): images at steps 10, 20."""
  config = toy_mlp_config()
  config.eval.num_images = 3
  config.eval.traversal_steps = 4
  return config


@pytest.fixture(scope='session')
def toy_run(tmp_path_factory):
  """The workdir of one ``toy_config`` run, shared by the tests that read
  a trained workdir (TensorBoard events, visualize, aggregate)."""
  workdir = str(tmp_path_factory.mktemp('toy_run'))
  with _most_optimizations_disabled():
    train.train_and_evaluate(toy_config(), workdir)
  return workdir


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """A finished 4-step run of the tiny config (checkpoints at steps 2 and 4),
  made once per module of the workdir-contract tests (workdir_test,
  workdir_files_test); they copy it (``workdir_faults.copy_run``)."""
  path = str(tmp_path_factory.mktemp('trained'))
  train.train_and_evaluate(tiny_config(num_steps=4), path,
                           dataset=tiny_dataset())
  return path
