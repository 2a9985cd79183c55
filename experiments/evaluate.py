r"""Scores the newest checkpoint of a training workdir; writes DIR/eval.json.

  python -m experiments.evaluate --workdir=/tmp/run \
    [--metrics=mig,dci,sap,modularity_explicitness,unsupervised] [--seed=0] \
    [--num_train=10000] [--num_test=5000] [--step=N] \
    [--dci_backend=exact|lightgbm]

Every model seed of the run is scored on the same samples
(``disent_bias.evaluate.evaluate_workdir``); DIR/eval_samples.npz keeps the
array metrics' samples. Default: all metrics at disentanglement_lib's sizes,
DCI with its exact trees; see docs/metrics.md for the run time and the fast
backend.
"""

from absl import app
from absl import flags
from absl import logging
import jax

from disent_bias import evaluate
from disent_bias import logging_utils
from disent_bias import metrics
from experiments import cli

_WORKDIR = flags.DEFINE_string('workdir', None, 'Training workdir.',
                               required=True)
_METRICS = flags.DEFINE_string(
    'metrics', 'all',
    f'Comma separated metric names or "all"; valid: '
    f'{", ".join(metrics.METRICS)}.')
_SEED = flags.DEFINE_integer('seed', 0, 'Evaluation seed.')
_NUM_TRAIN = flags.DEFINE_integer('num_train', 10000,
                                  'Training points (and FactorVAE / BetaVAE '
                                  'training votes).')
_NUM_TEST = flags.DEFINE_integer('num_test', 5000,
                                 'Test points (and evaluation votes).')
_STEP = flags.DEFINE_integer('step', None, 'Checkpoint step; newest if unset.')
_DCI_BACKEND = flags.DEFINE_enum(
    'dci_backend', 'exact', list(metrics.dci_lib.BACKENDS),
    "DCI's trees: exact (scikit-learn, disentanglement_lib's) or lightgbm "
    "(histogram trees; pip install 'disent_bias[fast]').")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}')
  logging_utils.quiet_third_party_logs()
  logging.info('devices: %s', jax.local_devices())
  with cli.user_errors():
    evaluate.evaluate_workdir(_WORKDIR.value, _METRICS.value, seed=_SEED.value,
                              num_train=_NUM_TRAIN.value,
                              num_test=_NUM_TEST.value, step=_STEP.value,
                              dci_backend=_DCI_BACKEND.value)


if __name__ == '__main__':
  app.run(main)
