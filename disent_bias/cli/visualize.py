r"""Figures of a trained run: ``disent_bias.tools.visualize.visualize_workdir``.

  disent-bias-visualize --workdir=/tmp/run [--out=DIR] [--step=N]

Writes reconstructions, one animated GIF traversal per latent (ranked by KL,
over the range of its posterior means), the posterior variance per latent and
the latent-vs-factor mutual information heatmap of every model seed into
``workdir/visualize/step_<n>/`` (or ``--out``), and logs each file.
"""

from __future__ import annotations

from absl import flags

from disent_bias.cli import common
from disent_bias.tools import visualize


def define_flags() -> None:
  """The binary's flags."""
  flags.DEFINE_string('workdir', None, 'Training workdir.', required=True)
  flags.DEFINE_string('out', None, 'Output directory (default '
                      'WORKDIR/visualize/step_<n>).')
  flags.DEFINE_integer('step', None, 'Checkpoint step; newest if unset.')
  flags.DEFINE_integer('num_images', 8, 'Inputs reconstructed and traversed '
                       'side by side.')
  flags.DEFINE_integer('traversal_steps', 16, 'Frames per GIF.')
  flags.DEFINE_integer('num_points', 2_000, 'Sampled points for the posterior '
                       'and mutual information.')


def main(argv: list[str]) -> None:
  """Writes the figures of ``--workdir``."""
  f = flags.FLAGS
  with common.binary(argv):
    visualize.visualize_workdir(
        f.workdir, f.out, step=f.step, num_images=f.num_images,
        traversal_steps=f.traversal_steps, num_points=f.num_points)


def entry(argv: list[str] | None = None) -> None:
  """The ``disent-bias-visualize`` console script."""
  common.run(define_flags, main, argv)
