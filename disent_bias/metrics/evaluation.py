"""Score a representation on a ground-truth dataset with named metrics.

``evaluate_representation`` draws one train (``num_train``) and one test
(``num_test``) sample of factors and codes, shared by all array-level metrics,
and runs the sampling scores (FactorVAE, BetaVAE) with their own draws. Every
draw is a pure function of ``seed``.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

from absl import logging
import jax
import numpy as np

# Functions, not modules: the package re-exports functions under the module
# names (``metrics.mig`` is the function).
from disent_bias.metrics import sampling
from disent_bias.metrics.beta_vae import beta_vae_score
from disent_bias.metrics.dci import dci
from disent_bias.metrics.factor_vae import factor_vae_score
from disent_bias.metrics.factor_vae import varying_factors
from disent_bias.metrics.mig import mig
from disent_bias.metrics.modularity import modularity_explicitness
from disent_bias.metrics.sap import sap
from disent_bias.metrics.unsupervised import unsupervised
from disent_bias.metrics import utils


@dataclasses.dataclass
class _Context:
  """What a metric needs; the shared sample is drawn on first use."""
  dataset: object
  representation_fn: sampling.RepresentationFn
  seed: int
  num_train: int
  num_test: int
  _sample: tuple | None = None
  sample_seconds: float = 0.

  def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(codes_train, factors_train, codes_test, factors_test)."""
    if self._sample is None:
      start = time.perf_counter()
      k_train, k_test = jax.random.split(
          jax.random.fold_in(jax.random.key(self.seed), 0))
      codes_train, factors_train = sampling.sample_codes(
          self.dataset, self.representation_fn, self.num_train, k_train)
      codes_test, factors_test = sampling.sample_codes(
          self.dataset, self.representation_fn, self.num_test, k_test)
      # Factors with one value carry no information and make the supervised
      # scores undefined; disentanglement_lib's datasets omit them.
      keep = np.array(varying_factors(self.dataset))
      if keep.size < self.dataset.num_factors:
        logging.info('dropping single-valued factors %s',
                     sorted(set(range(self.dataset.num_factors)) - set(keep)))
      self._sample = (codes_train, factors_train[:, keep], codes_test,
                      factors_test[:, keep])
      self.sample_seconds = time.perf_counter() - start
    return self._sample


def _mig(ctx: _Context) -> dict[str, float]:
  codes, factors, _, _ = ctx.arrays()
  return {'': mig(codes, factors)}


def _dci(ctx: _Context) -> dict[str, float]:
  return dci(*ctx.arrays(), seed=ctx.seed)


def _sap(ctx: _Context) -> dict[str, float]:
  return {'': sap(*ctx.arrays(), seed=ctx.seed)}


def _modularity(ctx: _Context) -> dict[str, float]:
  return modularity_explicitness(*ctx.arrays(), seed=ctx.seed)


def _unsupervised(ctx: _Context) -> dict[str, float]:
  codes, _, _, _ = ctx.arrays()
  return unsupervised(codes)


def _factor_vae(ctx: _Context) -> dict[str, float]:
  return factor_vae_score(
      ctx.dataset, ctx.representation_fn, seed=ctx.seed + 1,
      num_train=ctx.num_train, num_eval=ctx.num_test,
      num_variance_estimate=ctx.num_train)


def _beta_vae(ctx: _Context) -> dict[str, float]:
  return beta_vae_score(
      ctx.dataset, ctx.representation_fn, seed=ctx.seed + 2,
      num_train=ctx.num_train, num_eval=ctx.num_test)


# Name -> function of the context returning {sub_key: value}; result keys are
# '<name>' for a single score ('' sub key) and '<name>.<sub_key>' otherwise.
METRICS: dict[str, Callable[[_Context], dict[str, float]]] = {
    'mig': _mig,
    'dci': _dci,
    'sap': _sap,
    'modularity_explicitness': _modularity,
    'unsupervised': _unsupervised,
    'factor_vae': _factor_vae,
    'beta_vae': _beta_vae,
}

# Metrics that use the shared train/test sample (cheap once it is drawn).
ARRAY_METRICS = ('mig', 'dci', 'sap', 'modularity_explicitness',
                 'unsupervised')
# Everything; FactorVAE and BetaVAE encode 64 points per vote, so at the
# default sizes they dominate the run time (about 1M and 2M encoded images).
ALL_METRICS = tuple(METRICS)


def check_names(names) -> tuple[str, ...]:
  """Validates metric names; a comma separated string or a list.

  ``'all'`` stands for every metric (``ALL_METRICS``).
  """
  if isinstance(names, str):
    names = [n.strip() for n in names.split(',') if n.strip()]
  names = tuple(names)
  if names == ('all',):
    names = ALL_METRICS
  if not names:
    raise ValueError(f'no metric names given; valid: {", ".join(METRICS)}')
  unknown = [n for n in names if n not in METRICS]
  if unknown:
    raise ValueError(f'unknown metric(s) {", ".join(map(repr, unknown))}; '
                     f'valid: {", ".join(METRICS)} (or all)')
  return names


def evaluate_representation(dataset, representation_fn, names, *, seed: int,
                            num_train: int = 10000,
                            num_test: int = 5000) -> dict:
  """Runs the named metrics and returns a flat, JSON-ready dict.

  Args:
    dataset: ``disent_bias.data.GroundTruthData``.
    representation_fn: numpy (n, *obs) -> numpy (n, D) codes.
    names: metric names (keys of ``METRICS``) or a comma separated string.
    seed: every draw and every classifier's ``random_state`` derive from it.
    num_train: training points of the array metrics, votes / points of the
      FactorVAE and BetaVAE training sets, points for the FactorVAE
      variances (disentanglement_lib: 10,000).
    num_test: test points / evaluation votes (disentanglement_lib: 5,000).

  Returns:
    Scores (``mig``, ``sap``, ``dci.disentanglement``, ...), ``metrics``,
    ``num_train``, ``num_test``, ``seed``; ``time_s.<name>`` total wall time
    per metric and ``sklearn_s.<name>`` the part inside scikit-learn fits and
    predictions; ``time_s.sample`` the shared sample (rendering and encoding),
    counted separately from the array metrics; ``cpu_s.<name>`` the process
    CPU time (all threads), less sensitive to other load on the machine.

  Raises:
    ValueError: unknown metric names or non-positive sizes.
  """
  names = check_names(names)
  if int(num_train) < 2 or int(num_test) < 1:
    raise ValueError(f'need num_train >= 2 and num_test >= 1, got '
                     f'{num_train} and {num_test}')
  ctx = _Context(dataset, representation_fn, int(seed), int(num_train),
                 int(num_test))
  results = {'metrics': list(names), 'num_train': int(num_train),
             'num_test': int(num_test), 'seed': int(seed)}
  if any(n in ARRAY_METRICS for n in names):
    cpu_start = time.process_time()
    ctx.arrays()
    results['time_s.sample'] = ctx.sample_seconds
    results['cpu_s.sample'] = time.process_time() - cpu_start
  for name in names:
    logging.info('computing %s', name)
    start, fit_start = time.perf_counter(), utils.sklearn_seconds()
    cpu_start = time.process_time()
    scores = METRICS[name](ctx)
    results[f'time_s.{name}'] = time.perf_counter() - start
    results[f'cpu_s.{name}'] = time.process_time() - cpu_start
    results[f'sklearn_s.{name}'] = utils.sklearn_seconds() - fit_start
    for key, value in scores.items():
      results[f'{name}.{key}' if key else name] = value
    logging.info('%s: %s (%.1fs)', name, scores, results[f'time_s.{name}'])
  return results


def _mean_over_seeds(per_seed: list[dict]) -> dict[str, float]:
  keys = [k for k, v in per_seed[0].items()
          if isinstance(v, (int, float)) and not isinstance(v, bool)
          and k not in ('seed', 'model_seed', 'num_train', 'num_test')]
  return {k: float(np.mean([r[k] for r in per_seed])) for k in keys}


def evaluate_workdir(workdir: str, names, *, seed: int = 0,
                     num_train: int = 10000, num_test: int = 5000,
                     step: int | None = None,
                     filename: str | None = 'eval.json') -> dict:
  """Scores every seed of a training run's checkpoint; writes the result.

  Args:
    workdir: a ``disent_bias.train.train_and_evaluate`` workdir.
    names: metric names (``METRICS`` keys) or a comma separated string.
    seed: evaluation seed (the same samples for every model seed).
    num_train: see ``evaluate_representation``.
    num_test: see ``evaluate_representation``.
    step: checkpoint step; the newest when None.
    filename: written as ``workdir/filename`` (JSON) unless None.

  Returns:
    ``{'workdir', 'step', 'dataset', 'metrics', 'seed', 'num_train',
    'num_test', 'per_seed': [scores of model seed config.seed + s, ...],
    'mean': mean over model seeds of every numeric entry, 'time_s'}``.
  """
  # Imported here: train imports this package to score at the end of a run.
  import json  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top
  from disent_bias import checkpoint  # pylint: disable=g-import-not-at-top
  from disent_bias import train  # pylint: disable=g-import-not-at-top

  names = check_names(names)
  start = time.perf_counter()
  if step is None:
    mngr = checkpoint.manager(workdir, read_only=True)
    step = mngr.latest_step()
    mngr.close()
    if step is None:
      raise FileNotFoundError(f'no checkpoint in {workdir}/checkpoints')
  config, model, params, dataset = train.restore(workdir, step)
  num_seeds = int(jax.tree.leaves(params)[0].shape[0])
  logging.info('evaluating %s step %d: %d model seed(s) on %r, metrics %s',
               workdir, step, num_seeds, dataset, names)
  per_seed = []
  for s in range(num_seeds):
    fn = train.representation_fn(model, train.select_seed(params, s))
    scores = evaluate_representation(dataset, fn, names, seed=seed,
                                     num_train=num_train, num_test=num_test)
    scores['model_seed'] = int(config.seed) + s
    per_seed.append(scores)
  result = {
      'workdir': os.path.abspath(workdir), 'step': int(step),
      'dataset': dataset.name, 'variant': dataset.variant,
      'metrics': list(names), 'seed': int(seed), 'num_train': int(num_train),
      'num_test': int(num_test), 'per_seed': per_seed,
      'mean': _mean_over_seeds(per_seed),
      'time_s': time.perf_counter() - start,
  }
  if filename:
    path = os.path.join(workdir, filename)
    with open(path, 'w', encoding='utf-8') as f:
      json.dump(result, f, indent=2)
    logging.info('wrote %s', path)
  return result
