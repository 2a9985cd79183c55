"""A bare machine's set-up for a batch job: missing packages from wheels.

Batch machines often reach no package index. The wheels a job needs travel
with the repository in ``.whl/`` (git-ignored; docs/gpu.md says how to fetch
them); ``ensure_packages`` installs the missing ones into ``.whl/site`` with
pip (no index, no dependencies) and puts that folder on ``sys.path``. Only
the standard library is used here: it runs before anything else is imported.
"""

from __future__ import annotations

import glob
import importlib
import importlib.util
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WHEEL_DIR = os.path.join(ROOT, '.whl')
# Import name -> distribution name of what a job imports beyond the
# accelerator images' usual stack (jax, flax, optax, orbax, numpy, absl).
REQUIRED = {'ml_collections': 'ml-collections', 'absl': 'absl-py'}


def missing_packages() -> list[str]:
  return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def ensure_packages(wheel_dir: str = WHEEL_DIR) -> list[str]:
  """Installs missing ``REQUIRED`` packages from ``wheel_dir``'s wheels.

  Returns:
    The import names that were installed (empty when nothing was missing).

  Raises:
    SystemExit: a package is missing and no wheel provides it (one line
      naming the package and how to fetch its wheel).
  """
  missing = missing_packages()
  if not missing:
    return []
  site = os.path.join(wheel_dir, 'site')
  if site not in sys.path:
    sys.path.insert(0, site)
  importlib.invalidate_caches()
  if not missing_packages():
    return missing
  wheels = sorted(glob.glob(os.path.join(wheel_dir, '*.whl')))
  if wheels:
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q',
                    '--no-index', '--no-deps', '--no-compile', '--upgrade',
                    '--target', site, *wheels], check=False)
    importlib.invalidate_caches()
  still = missing_packages()
  if still:
    names = ' '.join(REQUIRED[n] for n in still)
    sys.exit(f'FATAL missing packages {", ".join(still)} and no wheel for '
             f'them in {wheel_dir}: run `pip download --no-deps -d .whl '
             f'{names}` where an index is reachable (docs/gpu.md)')
  return missing
