"""The Python API in one page: a dataset and its perturbed variant, a few
thousand training steps, the codes, MIG / DCI and the local PCA alignment.

  python docs/quickstart.py

About half a minute on a 2-core CPU (the toy tier: three bumps on a
128-value strip; ``docs/perturbations.md``). The beta-VAE disentangles the
original strip and not the perturbed one, whose local principal directions
are not the factor axes.
"""

import jax
import numpy as np

import disent_bias
from disent_bias import analysis
from disent_bias import data
from disent_bias import metrics
from disent_bias.configs import toy
from disent_bias.studies import experiment


def main(num_steps: int = 4_000, num_points: int = 1_500) -> dict:
  """Trains a beta-VAE on both variants and returns their scores (MIG and
  DCI on ``num_points`` codes)."""
  variants = {v: data.load('toy_bumps', variant=v)
              for v in ('original', 'perturbed')}
  config = toy.get_config('model=beta_vae')  # MLP (64, 64), beta 0.1
  model, runs = experiment.train_variants(config, list(variants.values()),
                                          num_seeds=1, num_steps=num_steps)
  scores = {}
  for (name, ds), (params, _) in zip(variants.items(), runs):
    points = analysis.sample_points(ds, num_points, seed=1)
    images = np.asarray(jax.jit(ds.render)(points))
    codes = disent_bias.encode((model, params), images)  # Posterior means.
    mig = metrics.mig(codes, points)
    dci = metrics.dci_sample(codes, points, seed=0)['disentanglement']
    alignment = analysis.local_alignment(ds, points[:128])  # The criterion.
    scores[name] = dict(mig=mig, dci=dci, data_dto=alignment['median_dto'])
    print(f'{name:9s} MIG {scores[name]["mig"]:.2f}  '
          f'DCI {scores[name]["dci"]:.2f}  '
          f'local PCA DtO of the data {scores[name]["data_dto"]:.2f}')
  return scores


if __name__ == '__main__':
  main()
