r"""Bounded jobs of a reproduction protocol, from the checkout.

The ``disent-bias-job`` console script (``disent_bias/cli/job.py`` has the
flags and the docs) as the accelerator runs it (docs/gpu.md):

  python -m experiments.job \
    --config=experiments/configs/reproduce.py:paper_core --out=DIR \
    --budget_s=540

Missing packages (ml-collections) are installed from the wheels in ``.whl/``
first (``experiments/bootstrap.py``), before anything else is imported, and
the default ledger is the repository's ``results/<protocol>/ledger.json``.
"""

from experiments import bootstrap

bootstrap.ensure_packages()

# pylint: disable=g-import-not-at-top,wrong-import-position
from disent_bias.cli import job

if __name__ == '__main__':
  job.entry(root=bootstrap.ROOT)
