"""The toy tier's variants against their MIG ceilings (the noise control).

For the original strip and the ``perturbed`` / ``noise`` variants at each
eps, ``run`` trains a model with the toy-tier config
(``disent_bias/configs/toy.py``) and the same encoder to regress the factors
(``experiment.train_supervised``, the variant's MIG ceiling), all in one
program each, and scores per seed: MIG, MIG / ceiling, a cubic least-squares
readout of the factors from the model's codes and a linear readout from the
images (``experiment.readout_mig``). ``docs/perturbations.md``, "The noise
control"; the binary is ``disent-bias-noise-control``.
"""

from __future__ import annotations

import os
import time
from typing import Sequence

from absl import logging
import numpy as np

from disent_bias import data
from disent_bias.analysis import dataset as dataset_lib
from disent_bias.analysis import model as model_lib
from disent_bias.configs import toy as toy_config
from disent_bias.studies import experiment
from disent_bias.training import runner
from disent_bias.utils import atomic_files
from disent_bias.utils import stats


def run(model_name: str, epsilons, workdir: str, *, num_seeds: int = 5,
        num_steps: int = toy_config.NUM_STEPS,
        num_points: int = 3000) -> list[dict]:
  """Trains, scores and writes the study; returns one record per variant."""
  epsilons = [float(e) for e in epsilons]
  specs = [('original', None)] + [(v, e) for e in epsilons
                                  for v in ('perturbed', 'noise')]
  datasets = [data.load(toy_config.DATASET, variant=v, epsilon=e)
              for v, e in specs]
  config = toy_config.get_config(f'model={model_name}')
  start = time.time()
  logging.info('training %d x %d %s models, %d steps', len(specs), num_seeds,
               model_name, num_steps)
  model, runs = experiment.train_variants(config, datasets,
                                          num_seeds=num_seeds,
                                          num_steps=num_steps)
  logging.info('training %d x %d ceiling encoders (%.0f s so far)',
               len(specs), num_seeds, time.time() - start)
  _, ceilings = experiment.train_supervised(config, datasets,
                                            num_seeds=num_seeds,
                                            num_steps=num_steps)
  records = []
  for (variant, eps), dataset, (params, _), (top, _) in zip(
      specs, datasets, runs, ceilings):
    test = dataset_lib.sample_points(dataset, num_points, seed=1)
    train = dataset_lib.sample_points(dataset, num_points, seed=2)
    x_test, x_train = (np.asarray(dataset.render(f)) for f in (test, train))
    mig = experiment.seed_mig(model, params, dataset, num_points=num_points)
    ceiling = experiment.seed_mig(model, top, dataset, num_points=num_points)
    code_readout = []
    for s in range(num_seeds):
      p = runner.select_seed(params, s)
      codes = [model_lib.posterior_stats(model, p, x)['mu']
               for x in (x_train, x_test)]
      code_readout.append(experiment.readout_mig(
          codes[0], train, codes[1], test, degree=3))
    record = dict(
        variant=variant, epsilon=dataset.epsilon, model=model_name,
        num_seeds=num_seeds, num_steps=num_steps, num_points=num_points,
        mig=mig.tolist(), ceiling=ceiling.tolist(),
        ratio=(mig / ceiling.mean()).tolist(),
        code_readout_mig=code_readout,
        image_readout_mig=experiment.readout_mig(x_train, train, x_test,
                                                 test, degree=1))
    records.append(record)
    logging.info('%s eps=%s: MIG %s, ceiling %s, ratio %s', variant, eps,
                 stats.mean_sd(mig), stats.mean_sd(ceiling),
                 stats.mean_sd(record['ratio']))
  write(records, workdir)
  logging.info('wrote %s (%.0f s)', workdir, time.time() - start)
  return records


def write(records: Sequence[dict], workdir: str) -> None:
  """Writes ``noise_control.json`` and the Markdown ``table.md``."""
  os.makedirs(workdir, exist_ok=True)
  atomic_files.write_json(os.path.join(workdir, 'noise_control.json'),
                          records, indent=1)
  first = records[0]
  lines = [f"{first['model']}, {first['num_seeds']} seeds, "
           f"{first['num_steps']} steps, MIG on {first['num_points']} points "
           '(mean ± sd over seeds)', '',
           '| variant | eps | ceiling | MIG | MIG / ceiling | '
           'code readout | image readout |', '|---|---|---|---|---|---|---|']
  for r in records:
    eps = '-' if r['variant'] == 'original' else f"{r['epsilon']:g}"
    lines.append(f"| {r['variant']} | {eps} | {stats.mean_sd(r['ceiling'])} | "
                 f"{stats.mean_sd(r['mig'])} | {stats.mean_sd(r['ratio'])} | "
                 f"{stats.mean_sd(r['code_readout_mig'])} | "
                 f"{r['image_readout_mig']:.3f} |")
  atomic_files.write_text(os.path.join(workdir, 'table.md'),
                          '\n'.join(lines) + '\n')
