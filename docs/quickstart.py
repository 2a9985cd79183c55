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

from disent_bias import analysis
from disent_bias import data
from disent_bias import metrics
from disent_bias import runner
from disent_bias.analysis import experiment
from disent_bias.configs import toy
from disent_bias.data import perturbations


def main(num_steps: int = 4_000) -> dict:
  """Trains a beta-VAE on both variants and returns their scores."""
  variants = {v: data.load('toy_bumps', variant=v)
              for v in ('original', 'perturbed')}
  config = toy.get_config('model=beta_vae')  # MLP (64, 64), beta 0.1
  model, runs = experiment.train_variants(config, list(variants.values()),
                                          num_seeds=1, num_steps=num_steps)
  scores = {}
  for (name, ds), (params, _) in zip(variants.items(), runs):
    params = runner.select_seed(params, 0)
    train = analysis.sample_points(ds, 1_000, seed=1)
    test = analysis.sample_points(ds, 500, seed=2)
    codes_train, codes_test = (
        analysis.posterior_stats(model, params,
                                 np.asarray(jax.jit(ds.render)(f)))['mu']
        for f in (train, test))
    alignment = analysis.local_alignment(
        ds, test[:128], radius=1,
        columns=perturbations.mixed_factors(ds.factor_sizes))
    mig = metrics.mig(codes_test, test)
    dci = metrics.dci(codes_train, train, codes_test, test)['disentanglement']
    scores[name] = dict(mig=mig, dci=dci, data_dto=alignment['median_dto'])
    print(f'{name:9s} MIG {scores[name]["mig"]:.2f}  '
          f'DCI {scores[name]["dci"]:.2f}  '
          f'local PCA DtO of the data {scores[name]["data_dto"]:.2f}')
  return scores


if __name__ == '__main__':
  main()
