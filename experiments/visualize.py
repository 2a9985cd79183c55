r"""Figures of a trained run: ``disent_bias.visualize.visualize_workdir``.

  python -m experiments.visualize --workdir=/tmp/run [--out=DIR] [--step=N]

Writes reconstructions, one animated GIF traversal per latent (ranked by KL,
over the range of its posterior means), the posterior variance per latent and
the latent-vs-factor mutual information heatmap of every model seed into
``workdir/visualize/step_<n>/`` (or ``--out``), and logs each file.
"""

from absl import app
from absl import flags

from disent_bias import logging_utils
from disent_bias import visualize
from experiments import cli

_WORKDIR = flags.DEFINE_string('workdir', None, 'Training workdir.',
                               required=True)
_OUT = flags.DEFINE_string('out', None, 'Output directory (default '
                           'WORKDIR/visualize/step_<n>).')
_STEP = flags.DEFINE_integer('step', None, 'Checkpoint step; newest if unset.')
_NUM_IMAGES = flags.DEFINE_integer('num_images', 8, 'Inputs reconstructed '
                                   'and traversed side by side.')
_STEPS = flags.DEFINE_integer('traversal_steps', 16, 'Frames per GIF.')
_NUM_POINTS = flags.DEFINE_integer('num_points', 2_000, 'Sampled points for '
                                   'the posterior and mutual information.')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}')
  logging_utils.quiet_third_party_logs()
  with cli.user_errors():
    visualize.visualize_workdir(
        _WORKDIR.value, _OUT.value, step=_STEP.value,
        num_images=_NUM_IMAGES.value, traversal_steps=_STEPS.value,
        num_points=_NUM_POINTS.value)


if __name__ == '__main__':
  app.run(main)
