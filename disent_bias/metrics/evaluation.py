"""Score a representation on a ground-truth dataset with named metrics.

``evaluate_representation`` draws one train (``num_train``) and one test
(``num_test``) sample of factors, shared by all array-level metrics, and the
sampling scores' (FactorVAE, BetaVAE) own draws. Every draw is a pure function
of ``seed``. All draws are then encoded together, each distinct grid point
once (``sampling.encode_draws``), and every metric scores its codes.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Sequence

from absl import logging
import jax
import numpy as np

from disent_bias.utils import checks
from disent_bias.utils import logging_utils
# Functions, not modules: the package re-exports functions under the module
# names (``metrics.mig`` is the function).
from disent_bias.metrics import beta_vae as beta_vae_lib
from disent_bias.metrics import dci as dci_lib
from disent_bias.metrics import factor_vae as factor_vae_lib
from disent_bias.metrics import sampling
from disent_bias.metrics import utils
from disent_bias.metrics.dci import dci
from disent_bias.metrics.factor_vae import varying_factors
from disent_bias.metrics.mig import mig
from disent_bias.metrics.modularity import modularity_explicitness
from disent_bias.metrics.sap import sap
from disent_bias.metrics.score_record import ScoreRecord
from disent_bias.metrics.unsupervised import unsupervised


@dataclasses.dataclass
class _Context:
  """What a metric needs: the draws of each group and their codes."""
  dataset: object
  seed: int
  draws: dict[str, dict[str, np.ndarray]]
  codes: dict[str, dict[str, np.ndarray]]
  dci_backend: str = 'exact'

  def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(codes_train, factors_train, codes_test, factors_test).

    Factors with one value carry no information and make the supervised
    scores undefined; disentanglement_lib's datasets omit them.
    """
    keep = np.array(varying_factors(self.dataset))
    draws, codes = self.draws['arrays'], self.codes['arrays']
    return (codes['train'], draws['train'][:, keep], codes['test'],
            draws['test'][:, keep])


def _draw_arrays(dataset, seed: int, num_train: int,
                 num_test: int) -> dict[str, np.ndarray]:
  """The shared uniform train / test factors of the array metrics."""
  k_train, k_test = jax.random.split(
      jax.random.fold_in(jax.random.key(seed), 0))
  keep = varying_factors(dataset)
  if len(keep) < dataset.num_factors:
    logging.info('dropping single-valued factors %s',
                 sorted(set(range(dataset.num_factors)) - set(keep)))
  return {'train': np.asarray(dataset.sample_factors(k_train, num_train),
                              np.int64),
          'test': np.asarray(dataset.sample_factors(k_test, num_test),
                             np.int64)}


def _mig(ctx: _Context) -> dict[str, float]:
  codes, factors, _, _ = ctx.arrays()
  return {'': mig(codes, factors)}


def _dci(ctx: _Context) -> dict[str, float]:
  return dci(*ctx.arrays(), seed=ctx.seed, backend=ctx.dci_backend)


def _sap(ctx: _Context) -> dict[str, float]:
  return {'': sap(*ctx.arrays(), seed=ctx.seed)}


def _modularity(ctx: _Context) -> dict[str, float]:
  return modularity_explicitness(*ctx.arrays(), seed=ctx.seed)


def _unsupervised(ctx: _Context) -> dict[str, float]:
  codes, _, _, _ = ctx.arrays()
  return unsupervised(codes)


def _factor_vae(ctx: _Context) -> dict[str, float]:
  return factor_vae_lib.score_codes(ctx.draws['factor_vae'],
                                    ctx.codes['factor_vae'],
                                    ctx.dataset.num_factors)


def _beta_vae(ctx: _Context) -> dict[str, float]:
  return beta_vae_lib.score_codes(ctx.draws['beta_vae'],
                                  ctx.codes['beta_vae'], ctx.seed + 2)


def _draws(dataset, names, seed: int, num_train: int,
           num_test: int) -> dict[str, dict[str, np.ndarray]]:
  """Factor draws per group ('arrays', 'factor_vae', 'beta_vae') needed."""
  draws = {}
  if any(n in ARRAY_METRICS for n in names):
    draws['arrays'] = _draw_arrays(dataset, seed, num_train, num_test)
  if 'factor_vae' in names:
    draws['factor_vae'] = factor_vae_lib.draw(
        dataset, seed=seed + 1, num_train=num_train, num_eval=num_test,
        num_variance_estimate=num_train)
  if 'beta_vae' in names:
    draws['beta_vae'] = beta_vae_lib.draw(
        dataset, seed=seed + 2, num_train=num_train, num_eval=num_test)
  return draws


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

# Metrics that use the shared train/test sample.
ARRAY_METRICS = ('mig', 'dci', 'sap', 'modularity_explicitness',
                 'unsupervised')
# Everything. FactorVAE and BetaVAE draw 64 points per vote (about 1M and 2M
# points at the default sizes); on a finite grid each distinct point is
# encoded once (dSprites: at most its 737,280 images).
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


def validate_config(section) -> None:
  """Checks a train config's ``metrics`` section (names and sample sizes).

  Raises:
    ValueError: an unknown metric name or DCI backend, or a sample size
      below 1.
    TypeError: a field of the wrong type.
    ImportError: DCI on the ``lightgbm`` backend without LightGBM.
  """
  names = section.names
  checks.check_type(names, lambda x: isinstance(x, (list, tuple)) and all(
      isinstance(n, str) for n in x), 'metrics.names', 'a tuple of str')
  if not names:
    return
  unknown = [n for n in names if n not in METRICS]
  checks.check(not unknown, f'unknown metrics {unknown}; valid: '
               f'{", ".join(sorted(METRICS))}')
  checks.check_positive_ints(section, ('num_train', 'num_test'),
                             prefix='metrics.')
  backend = section.get('dci_backend', 'exact')
  checks.check(backend in dci_lib.BACKENDS, f'metrics.dci_backend='
               f'{backend!r}; valid: {", ".join(dci_lib.BACKENDS)}')
  if 'dci' in names:  # Before training, not after it.
    dci_lib.check_backend(backend)


def array_sample(dataset, representation_fn, *, seed: int,
                 num_train: int = 10000, num_test: int = 5000
                 ) -> dict[str, np.ndarray]:
  """The codes and factors every array metric of ``evaluate_representation``
  scores (the same draws and codes), to save and score elsewhere.

  A representation can be encoded where the model is (an accelerator) and
  scored later, on another machine, by ``score_sample``: the scores equal
  those of ``evaluate_representation`` with the same ``seed`` and sizes.

  Returns:
    ``{'codes_train' (N, D) float64, 'factors_train' (N, K'), 'codes_test'
    (M, D), 'factors_test' (M, K')}``, factors int64 of the varying factors.
  """
  draws = {'arrays': _draw_arrays(dataset, int(seed), int(num_train),
                                  int(num_test))}
  codes = sampling.encode_draws(dataset, representation_fn,
                                list(draws.values()))
  ctx = _Context(dataset, int(seed), draws, dict(zip(draws, codes)))
  return dict(zip(SAMPLE_KEYS, ctx.arrays()))


# The arrays of ``array_sample``, in the order the array metrics take them.
SAMPLE_KEYS = ('codes_train', 'factors_train', 'codes_test', 'factors_test')


def score_sample(sample, names, *, seed: int,
                 dci_backend: str = 'exact') -> ScoreRecord:
  """Array metrics (``ARRAY_METRICS``) of an ``array_sample``.

  Args:
    sample: the four arrays of ``array_sample`` (a dict or an ``.npz``).
    names: array metric names.
    seed: the seed the sample was drawn with (the classifiers' seed).
    dci_backend: ``dci``'s ``backend``.

  Returns:
    The ``ScoreRecord``: scores, the sample's ``num_train`` / ``num_test``,
    each metric's wall and CPU seconds.

  Raises:
    ValueError: a name that is not an array metric.
  """
  names = check_names(names)
  others = [n for n in names if n not in ARRAY_METRICS]
  if others:
    raise ValueError(f'{", ".join(others)} cannot be scored from a saved '
                     f'sample; array metrics: {", ".join(ARRAY_METRICS)}')
  arrays = [np.asarray(sample[k]) for k in SAMPLE_KEYS]
  draws = {'arrays': {'train': arrays[1], 'test': arrays[3]}}
  codes = {'arrays': {'train': arrays[0], 'test': arrays[2]}}
  ctx = _SampleContext(None, int(seed), draws, codes, dci_backend)
  scores, timings = {}, {}
  for name in names:
    start, cpu_start = time.perf_counter(), time.process_time()
    for key, value in METRICS[name](ctx).items():
      scores[f'{name}.{key}' if key else name] = value
    timings[name] = {'wall_s': time.perf_counter() - start,
                     'cpu_s': time.process_time() - cpu_start}
  counts = {'num_train': len(arrays[0]), 'num_test': len(arrays[2])}
  return ScoreRecord(int(seed), names, scores, counts, timings)


class _SampleContext(_Context):
  """A context whose factors are already those of the varying factors."""

  def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    draws, codes = self.draws['arrays'], self.codes['arrays']
    return codes['train'], draws['train'], codes['test'], draws['test']


def evaluate_representation(dataset, representation_fn, names, *, seed: int,
                            num_train: int = 10000, num_test: int = 5000,
                            dci_backend: str = 'exact') -> ScoreRecord:
  """Runs the named metrics; their scores, counts and timings.

  Args:
    dataset: ``disent_bias.data.GroundTruthData``.
    representation_fn: numpy (n, *obs) -> numpy (n, D) codes.
    names: metric names (keys of ``METRICS``) or a comma separated string.
    seed: every draw and every classifier's ``random_state`` derive from it.
    num_train: training points of the array metrics, votes / points of the
      FactorVAE and BetaVAE training sets, points for the FactorVAE
      variances (disentanglement_lib: 10,000).
    num_test: test points / evaluation votes (disentanglement_lib: 5,000).
    dci_backend: ``dci``'s ``backend`` (``'exact'``: disentanglement_lib's
      classifier).

  Returns:
    The ``ScoreRecord``: ``seed``, ``names``, ``scores`` (``mig``, ``sap``,
    ``dci.disentanglement``, ...), ``counts`` (``num_train``, ``num_test``,
    ``num_drawn`` points drawn for every metric, ``num_encoded`` distinct
    ones), ``timings['encode']`` drawing, rendering and encoding them, and
    per metric ``timings[name]`` of its scoring from the codes: ``wall_s``,
    ``sklearn_s`` the part inside scikit-learn fits and predictions, and
    ``cpu_s`` the process CPU time (all threads, less sensitive to other
    load on the machine).

  Raises:
    ValueError: unknown metric names or non-positive sizes.
  """
  names = check_names(names)
  ctx, record = _encode(dataset, representation_fn, names, seed, num_train,
                        num_test, dci_backend)
  return record.merge(_score(ctx, names))


def evaluate_representations(dataset, representation_fns, names, *,
                             seeds: Sequence[int], num_train: int = 10000,
                             num_test: int = 5000,
                             dci_backend: str = 'exact', n_jobs: int = -1
                             ) -> list[tuple[ScoreRecord, dict | None]]:
  """``evaluate_representation`` of several representations, DCI's
  classifiers of all of them (representations x factors) fitted in one
  pool of worker processes (``dci_lib.dci_samples``).

  The scores equal ``evaluate_representation(dataset, fn, names, seed=s,
  ...)`` for each pair of ``representation_fns`` and ``seeds``. DCI's
  ``wall_s`` / ``sklearn_s`` timings are its classifiers' fit seconds in
  the workers, summed over factors, and its ``cpu_s`` is left out (the
  workers' CPU time is not this process's).

  Returns:
    Per representation ``(record, sample)``: ``evaluate_representation``'s
    ``ScoreRecord`` and the ``array_sample`` the array metrics scored (None when
    ``names`` has no array metric).
  """
  names = check_names(names)
  dci_lib.check_backend(dci_backend)
  here = tuple(n for n in names if n != 'dci')
  out, contexts = [], []
  for fn, seed in zip(representation_fns, seeds, strict=True):
    ctx, record = _encode(dataset, fn, names, seed, num_train, num_test,
                          dci_backend)
    arrays = 'arrays' in ctx.draws
    out.append((record.merge(_score(ctx, here)), dict(zip(SAMPLE_KEYS, ctx.arrays())) if arrays
                else None))
    contexts.append(ctx)
  if 'dci' in names:
    logging_utils.log_detail('computing dci of %d representation(s)',
                             len(contexts))
    scores, seconds = dci_lib.dci_samples(
        [ctx.arrays() for ctx in contexts], [ctx.seed for ctx in contexts],
        backend=dci_backend, n_jobs=n_jobs)
    out = [(record.merge(ScoreRecord(
        scores={f'dci.{k}': v for k, v in dci_scores.items()},
        timings={'dci': {'wall_s': fit_s, 'sklearn_s': fit_s}})), sample)
           for (record, sample), dci_scores, fit_s
           in zip(out, scores, seconds)]
  return out


def _encode(dataset, representation_fn, names: tuple[str, ...], seed: int,
            num_train: int, num_test: int, dci_backend: str
            ) -> tuple[_Context, ScoreRecord]:
  """Draws and encodes every metric's factors: the context, and a record
  of the run's counts and encoding times (no scores yet)."""
  if int(num_train) < 2 or int(num_test) < 1:
    raise ValueError(f'need num_train >= 2 and num_test >= 1, got '
                     f'{num_train} and {num_test}')
  start, cpu_start = time.perf_counter(), time.process_time()
  draws = _draws(dataset, names, int(seed), int(num_train), int(num_test))
  stats = {}
  codes = sampling.encode_draws(dataset, representation_fn,
                                list(draws.values()), stats=stats)
  encode = {'wall_s': time.perf_counter() - start,
            'cpu_s': time.process_time() - cpu_start}
  counts = {'num_train': int(num_train), 'num_test': int(num_test), **stats}
  return _Context(dataset, int(seed), draws, dict(zip(draws, codes)),
                  dci_backend), ScoreRecord(int(seed), names, {}, counts,
                                            {'encode': encode})


def _score(ctx: _Context, names: tuple[str, ...]) -> ScoreRecord:
  """Each named metric's scores and times."""
  scores, timings = {}, {}
  for name in names:
    logging_utils.log_detail('computing %s', name)
    start, fit_start = time.perf_counter(), utils.sklearn_seconds()
    cpu_start = time.process_time()
    metric = METRICS[name](ctx)
    timings[name] = {'wall_s': time.perf_counter() - start,
                     'cpu_s': time.process_time() - cpu_start,
                     'sklearn_s': utils.sklearn_seconds() - fit_start}
    for key, value in metric.items():
      scores[f'{name}.{key}' if key else name] = value
    logging_utils.log_detail('%s: %s (%.1fs)', name, metric,
                             timings[name]['wall_s'])
  return ScoreRecord(ctx.seed, names, scores, {}, timings)


def pack_sample(sample, seed: int) -> dict[str, np.ndarray]:
  """An ``array_sample`` in compact, lossless form, keyed
  ``seed<seed>/<key>`` (codes float32: the encoder's own precision;
  factors int16), for an ``.npz`` holding several seeds.

  Raises:
    ValueError: codes that float32 does not hold exactly.
  """
  out = {}
  for key in SAMPLE_KEYS:
    value = np.asarray(sample[key])
    kind = np.float32 if key.startswith('codes') else np.int16
    if kind is np.float32 and not np.array_equal(value,
                                                 value.astype(np.float32)):
      raise ValueError(f'{key} of seed {seed} is not float32-exact')
    out[f'seed{seed}/{key}'] = value.astype(kind)
  return out


def unpack_sample(arrays, seed: int) -> dict[str, np.ndarray]:
  """A seed's ``array_sample`` from ``pack_sample`` arrays (or their
  ``.npz``): codes float64, factors int64, as ``array_sample`` returns
  them, so ``score_sample`` gives the scores of the original sample."""
  return {key: np.asarray(arrays[f'seed{seed}/{key}']).astype(
      np.float64 if key.startswith('codes') else np.int64)
          for key in SAMPLE_KEYS}
