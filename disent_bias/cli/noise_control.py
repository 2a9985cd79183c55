r"""The toy tier's variants against their MIG ceilings (noise control study).

Run (beta-VAE, 5 seeds, eps 0.1 and 0.05; about 6 CPU-minutes):

  disent-bias-noise-control --model=beta_vae --epsilons=0.1,0.05 \
    --workdir=/tmp/noise_control

``disent_bias.studies.noise_control.run``: trains ``--model`` and its MIG
ceiling on the original strip and the ``perturbed`` / ``noise`` variants at
each eps, scores every seed, and writes ``workdir/noise_control.json`` and
``workdir/table.md`` (``docs/perturbations.md``, "The noise control").
"""

from __future__ import annotations

from absl import flags

from disent_bias.cli import common
from disent_bias.configs import toy as toy_config
from disent_bias.studies import noise_control


def define_flags() -> None:
  """The binary's flags."""
  flags.DEFINE_string('model', 'beta_vae', 'Objective to train.')
  flags.DEFINE_string('workdir', None, 'Output directory.', required=True)
  flags.DEFINE_list('epsilons', ['0.1'], 'Amplitudes of the perturbed and '
                    'noise variants.')
  flags.DEFINE_integer('num_seeds', 5, 'Seeds per variant.')
  flags.DEFINE_integer('num_steps', toy_config.NUM_STEPS,
                       'Training steps (model and ceiling).')
  flags.DEFINE_integer('num_points', 3000, 'Points of each scoring sample.')


def main(argv: list[str]) -> None:
  """Trains, scores and writes the study."""
  f = flags.FLAGS
  with common.binary(argv):
    noise_control.run(f.model, f.epsilons, f.workdir, num_seeds=f.num_seeds,
                      num_steps=f.num_steps, num_points=f.num_points)


def entry(argv: list[str] | None = None) -> None:
  """The ``disent-bias-noise-control`` console script."""
  common.run(define_flags, main, argv)
