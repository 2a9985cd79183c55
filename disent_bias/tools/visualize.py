"""Looks at a trained run: reconstructions, traversal GIFs, posterior, MI.

``visualize_workdir(workdir)`` restores a training workdir's checkpoint and
writes, per model seed, into ``workdir/visualize/step_<n>/`` (or ``out``):

- ``reconstructions_seed<s>.png``: inputs over their reconstructions;
- ``traversal_seed<s>_rank<i>_z<d>.gif``: one animated GIF per latent,
  ranked by KL (rank 0 carries the most information), each frame the
  traversed inputs at one value of the posterior-mean range
  (``disent_bias.analysis.traversals``);
- ``posterior_seed<s>.png``: mean posterior variance and KL per latent;
- ``mutual_information_seed<s>.png``: the latent-vs-factor mutual information
  (MIG's matrix, normalised by each factor's entropy) as a heatmap.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from absl import logging
import jax
from matplotlib import figure as mpl_figure
import numpy as np

from disent_bias.analysis import traversals
from disent_bias.metrics import utils as metric_utils
from disent_bias.metrics.mig import mig_matrix
from disent_bias.training import runner
from disent_bias.training import stored_run
from disent_bias.utils import images as images_lib
from disent_bias.utils import workdir as workdir_lib


def mutual_information(codes: np.ndarray, factors: np.ndarray,
                       num_bins: int = 20) -> np.ndarray:
  """MI of binned codes and factors over the factor's entropy: (D, K).

  1 means the latent determines the factor; MIG's matrix
  (``metrics.mig.mig_matrix``) divided by each factor's entropy.
  """
  entropy = metric_utils.discrete_entropy(np.asarray(factors))
  return mig_matrix(codes, factors, num_bins) / np.maximum(entropy, 1e-12)


def plot_posterior(images: traversals.ModelImages, path: str,
                   title: str = '') -> str:
  """Bars of the mean posterior variance and KL of each latent (by KL)."""
  order = images.order
  labels = [f'z{d}' for d in order]
  fig = mpl_figure.Figure(figsize=(max(4.0, 0.5 * len(order) + 2.0), 4.5))
  top, bottom = fig.subplots(2, 1, sharex=True)
  top.bar(labels, images.variance[order], color='tab:blue')
  top.axhline(1.0, color='grey', lw=0.8, ls='--')  # The prior's variance.
  top.set_ylabel('posterior variance')
  top.set_title(title, fontsize=9)
  bottom.bar(labels, images.kl[order], color='tab:orange')
  bottom.set_ylabel('KL (nats)')
  bottom.set_xlabel('latent (by KL)')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  return path


def plot_mutual_information(matrix: np.ndarray, order: np.ndarray,
                            factor_names: Sequence[str], path: str,
                            title: str = '') -> str:
  """Heatmap of ``matrix`` (D, K), latents in ``order`` as rows."""
  rows = matrix[order]
  fig = mpl_figure.Figure(figsize=(1.0 + 0.9 * rows.shape[1],
                                   1.2 + 0.4 * rows.shape[0]))
  ax = fig.subplots()
  im = ax.imshow(rows, vmin=0.0, vmax=1.0, cmap='viridis', aspect='auto')
  ax.set_xticks(range(rows.shape[1]))
  ax.set_xticklabels(factor_names, rotation=30, ha='right', fontsize=8)
  ax.set_yticks(range(rows.shape[0]))
  ax.set_yticklabels([f'z{d}' for d in order], fontsize=8)
  for (i, j), value in np.ndenumerate(rows):
    ax.text(j, i, f'{value:.2f}', ha='center', va='center', fontsize=7,
            color='white' if value < 0.5 else 'black')
  ax.set_title(title or 'MI(latent; factor) / H(factor)', fontsize=9)
  fig.colorbar(im, ax=ax)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  return path


def visualize_workdir(workdir: str, out: str | None = None, *,
                      step: int | None = None, num_images: int = 8,
                      traversal_steps: int = 16, num_points: int = 2_000,
                      seed: int = 0, scale: int = 3) -> dict[str, Any]:
  """Writes the figures of a training workdir (module docstring).

  Args:
    workdir: a ``train.train_and_evaluate`` workdir.
    out: output directory; ``workdir/visualize/step_<n>`` when None.
    step: checkpoint step; the newest that verifies when None.
    num_images: inputs reconstructed and traversed side by side.
    traversal_steps: frames per traversal GIF.
    num_points: sampled points for the posterior statistics, the traversal
      ranges and the mutual information.
    seed: seed of the sampled points.
    scale: pixel upscaling of the PNG and GIF files.

  Returns:
    ``{'step', 'out', 'files': [paths], 'orders': {seed: latents by KL}}``.

  Raises:
    workdir.WorkdirKindError: ``workdir`` holds no training run, or ``out``
      holds a run.
  """
  if out is not None:
    workdir_lib.check_kind(out, workdir_lib.EVALUATION, '--out')
  restored = stored_run.restore_run(workdir, step)
  step, config, model, params, dataset = (
      restored.step, restored.config, restored.model, restored.params,
      restored.dataset)
  out = out or os.path.join(workdir, 'visualize', f'step_{step:08d}')
  os.makedirs(out, exist_ok=True)
  factors = np.asarray(dataset.sample_factors(jax.random.key(seed),
                                              num_points))
  render = jax.jit(dataset.render) if dataset.is_pure else dataset.render
  observations = np.asarray(render(factors), np.float32)
  encode = jax.jit(lambda p, x: model.apply({'params': p}, x, method='encode'))
  decode = jax.jit(lambda p, z: model.apply({'params': p}, z, method='decode'))
  files, orders = [], {}
  num_seeds = int(jax.tree.leaves(params)[0].shape[0])
  for s in range(num_seeds):
    seed_params = runner.select_seed(params, s)
    images = traversals.model_images(
        encode, decode, seed_params, observations, recon=config.model.recon,
        steps=traversal_steps, rows=num_images)
    model_seed = config.seed + s
    files += _write_seed(images, factors, dataset, out, model_seed, scale)
    orders[model_seed] = images.order.tolist()
  for path in files:
    logging.info('wrote %s', path)
  return {'step': step, 'out': out, 'files': files, 'orders': orders}


def _write_seed(images: traversals.ModelImages, factors: np.ndarray,
                dataset, out: str, model_seed: int, scale: int) -> list[str]:
  """The files of one model seed."""
  files = [images_lib.save_png(
      os.path.join(out, f'reconstructions_seed{model_seed}.png'),
      traversals.reconstruction_grid(images), scale)]
  for rank, latent in enumerate(images.order):
    files.append(images_lib.save_gif(
        os.path.join(out, f'traversal_seed{model_seed}_rank{rank}_z'
                     f'{latent}.gif'),
        traversals.traversal_frames(images, rank), scale))
  title = f'{dataset.name} ({dataset.variant}), seed {model_seed}'
  files.append(plot_posterior(
      images, os.path.join(out, f'posterior_seed{model_seed}.png'), title))
  files.append(plot_mutual_information(
      mutual_information(images.codes, factors), images.order,
      list(dataset.factor_names),
      os.path.join(out, f'mutual_information_seed{model_seed}.png'), title))
  return files
