r"""Scores the newest checkpoint of a training workdir; writes DIR/eval.json.

  disent-bias-evaluate --workdir=/tmp/run \
    [--metrics=mig,dci,sap,modularity_explicitness,unsupervised] [--seed=0] \
    [--num_train=10000] [--num_test=5000] [--step=N] \
    [--dci_backend=exact|lightgbm]

Every model seed of the run is scored on the same samples
(``disent_bias.tools.evaluate.evaluate_workdir``); DIR/eval_samples.npz keeps the
array metrics' samples. Default: all metrics at disentanglement_lib's sizes,
DCI with its exact trees; see docs/metrics.md for the run time and the fast
backend.
"""

from __future__ import annotations

from absl import flags
from absl import logging
import jax

from disent_bias import metrics
from disent_bias.cli import common
from disent_bias.tools import evaluate


def define_flags() -> None:
  """The binary's flags."""
  flags.DEFINE_string('workdir', None, 'Training workdir.', required=True)
  flags.DEFINE_string('metrics', 'all',
                      f'Comma separated metric names or "all"; valid: '
                      f'{", ".join(metrics.METRICS)}.')
  flags.DEFINE_integer('seed', 0, 'Evaluation seed.')
  flags.DEFINE_integer('num_train', 10000, 'Training points (and FactorVAE / '
                       'BetaVAE training votes).')
  flags.DEFINE_integer('num_test', 5000, 'Test points (and evaluation votes).')
  flags.DEFINE_integer('step', None, 'Checkpoint step; newest if unset.')
  flags.DEFINE_enum('dci_backend', 'exact', list(metrics.dci_lib.BACKENDS),
                    "DCI's trees: exact (scikit-learn, disentanglement_lib's) "
                    "or lightgbm (histogram trees; pip install "
                    "'disent_bias[fast]').")


def main(argv: list[str]) -> None:
  """Scores ``--workdir``."""
  logging.info('devices: %s', jax.local_devices())
  f = flags.FLAGS
  with common.binary(argv):
    evaluate.evaluate_workdir(f.workdir, f.metrics, seed=f.seed,
                              num_train=f.num_train, num_test=f.num_test,
                              step=f.step, dci_backend=f.dci_backend)


def entry(argv: list[str] | None = None) -> None:
  """The ``disent-bias-evaluate`` console script."""
  common.run(define_flags, main, argv)
