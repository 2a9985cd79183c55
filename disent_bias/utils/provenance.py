"""What produced a result: library versions, device and source commit.

Every ``results.json`` and ``eval.json`` records ``provenance()``, so a number
can be traced to the code and libraries that computed it, and
``disent_bias.tools.aggregate`` puts these fields next to the scores.
"""

from __future__ import annotations

import functools
from importlib import metadata
import os
import platform
import subprocess
from typing import Any

import jax

# Distribution names whose versions are recorded (pip names).
PACKAGES = ('jax', 'jaxlib', 'flax', 'optax', 'orbax-checkpoint', 'numpy',
            'scikit-learn')
# The directory holding the package (a checkout's root).
_SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _version(package: str) -> str | None:
  try:
    return metadata.version(package)
  except metadata.PackageNotFoundError:
    return None


def _git(*args: str) -> str | None:
  """Output of a git command in the package's source tree (None if none)."""
  try:
    out = subprocess.run(['git', '-C', _SOURCE_DIR, *args], check=True,
                         capture_output=True, text=True, timeout=10)
  except (OSError, subprocess.SubprocessError):
    return None
  return out.stdout.strip()


# The commit of a source tree copied without its git directory.
COMMIT_ENV = 'DISENT_BIAS_COMMIT'


@functools.lru_cache(maxsize=1)
def git_commit() -> dict[str, Any]:
  """``{'commit': sha or None, 'dirty': bool or None}`` of the source tree.

  ``dirty`` says whether tracked files differ from the commit, so a result
  from uncommitted code is marked as such. Read once per process. A copy of
  the tree sent to a batch machine names its commit in the environment
  variable ``COMMIT_ENV``, which then wins: such a copy may carry no git
  directory, or an older one under the newer files.
  """
  if os.environ.get(COMMIT_ENV):
    return {'commit': os.environ[COMMIT_ENV], 'dirty': None}
  commit = _git('rev-parse', 'HEAD')
  if not commit:
    return {'commit': None, 'dirty': None}
  status = _git('status', '--porcelain', '--untracked-files=no')
  return {'commit': commit, 'dirty': None if status is None else bool(status)}


# CPU flags that decide which kernels XLA and PyTorch use on x86.
SIMD_FLAGS = ('avx2', 'fma', 'avx512f', 'avx512_bf16', 'avx512_vnni',
              'amx_tile', 'amx_bf16')


@functools.lru_cache(maxsize=1)
def cpu() -> dict[str, Any]:
  """``{'cpu_model', 'cpu_count', 'cpu_simd'}`` of this machine.

  ``cpu_model`` is ``lscpu``'s model name (from ``/proc/cpuinfo``; the
  processor name where that file is missing), ``cpu_simd`` the
  ``SIMD_FLAGS`` the CPU reports. Timings are only comparable on one CPU
  type, so every timing record carries these.
  """
  model, flags = None, set()
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        key, _, value = line.partition(':')
        key = key.strip()
        if key == 'model name' and model is None:
          model = value.strip()
        elif key == 'flags' and not flags:
          flags = set(value.split())
  except OSError:
    pass
  return {'cpu_model': model or platform.processor() or None,
          'cpu_count': os.cpu_count(),
          'cpu_simd': [f for f in SIMD_FLAGS if f in flags]}


def provenance() -> dict[str, Any]:
  """Versions, device kind and git commit, as a flat JSON-ready dict.

  Returns:
    ``{'versions': {package: version}, 'python', 'platform', 'device_kind',
    'device_platform', 'num_devices', 'num_processes', 'git_commit',
    'git_dirty', 'cpu_model', 'cpu_count', 'cpu_simd'}``.
  """
  device = jax.devices()[0]
  commit = git_commit()
  return {
      'versions': {p: _version(p) for p in PACKAGES},
      'python': platform.python_version(),
      'platform': platform.platform(),
      'device_kind': device.device_kind,
      'device_platform': device.platform,
      'num_devices': jax.device_count(),
      'num_processes': jax.process_count(),
      'git_commit': commit['commit'],
      'git_dirty': commit['dirty'],
      **cpu(),
  }
