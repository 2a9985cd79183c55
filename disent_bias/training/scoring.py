"""Evaluation of trained seeds: representations, eval points, final scores.

Per-seed values stay records: every function here returns one record per
seed (in seed order; ``score`` a ``metrics.ScoreRecord`` each, which
``read_scores`` reads back from ``results.json`` / ``eval.json``), and
``reduce_seeds`` makes the summaries (mean, and the sample sd
``stats.seed_sd`` over several seeds) that ``results.json`` and
``metrics.jsonl`` show next to them; ``score_summary`` summarises scores
only.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from disent_bias import analysis
from disent_bias import metrics as metrics_lib
from disent_bias.analysis import traversals
from disent_bias.models import networks
from disent_bias.training import runner as runner_lib
from disent_bias.training import step as step_lib
from disent_bias.utils import logging_utils
from disent_bias.utils import stats


def representation_fn(model: networks.VAE, params: Any,
                      batch_size: int = 256
                      ) -> Callable[[np.ndarray], np.ndarray]:
  """The posterior mean as a numpy function, jitted and batched.

  Args:
    model: the VAE.
    params: one model's parameters (no seed axis; see ``runner.select_seed``).
    batch_size: images per jitted call (the last call is padded).

  Returns:
    ``fn(images (n, *obs)) -> float32 (n, D)``, with attributes ``jax_fn``
    (the pure ``(params, images) -> codes`` function, for callers that fuse
    rendering and encoding into one jitted function) and ``params``.
  """
  posterior_mean, encode = _encoder(model)

  def fn(images):
    return apply_batched(encode, params, images, batch_size)

  fn.jax_fn = posterior_mean
  fn.params = params
  return fn


def apply_batched(fn: Callable, params: Any, images: np.ndarray,
                  batch_size: int = 256) -> Any:
  """``fn(params, chunk)`` over chunks of ``batch_size`` images, in numpy.

  Every call gets (batch_size, *obs) images (the last chunk is zero-padded),
  so a jitted ``fn`` compiles once.

  Args:
    fn: ``(params, images (B, *obs)) -> tree of (B, ...)`` arrays.
    params: passed through.
    images: (n, *obs), cast to float32.
    batch_size: images per call.

  Returns:
    The tree of ``fn``'s outputs for all n images, numpy (n, ...).
  """
  images = np.asarray(images, np.float32)
  n_total = len(images)
  outputs = []
  for start in range(0, max(n_total, 1), batch_size):
    chunk = images[start:start + batch_size]
    n = len(chunk)
    if n < batch_size:
      pad = np.zeros((batch_size - n, *images.shape[1:]), np.float32)
      chunk = np.concatenate([chunk, pad])
    outputs.append(jax.tree.map(lambda x, n=n: np.asarray(x)[:n],
                                fn(params, chunk)))
  return jax.tree.map(lambda *x: np.concatenate(x), *outputs)


@functools.lru_cache(maxsize=16)
def _encoder(model: networks.VAE) -> tuple[Callable, Callable]:
  """``(posterior_mean, jitted posterior_mean)`` of a model: one pair per
  model, so the representation functions of all its seeds share their
  compilations (and ``metrics.sampling``'s fused render + encode).

  Forward-only, with the model's own layers (``model.conv_impl``: the
  matmul forms by default, 2.2x XLA's native convolutions when encoding
  dSprites on an Intel Xeon, docs/metrics.md "Encoding").
  """
  posterior = _posterior(model)

  def posterior_mean(p, x):
    return posterior(p, x)[0]

  return posterior_mean, jax.jit(posterior_mean)


def _posterior(model: networks.VAE) -> Callable:
  """``(params, images) -> (mu, logvar)`` of ``model.encode``."""
  return lambda p, x: model.apply({'params': p}, x, method='encode')


@functools.lru_cache(maxsize=16)
def posterior_fn(model: networks.VAE) -> Callable:
  """Jitted ``(params, images (B, *obs)) -> (mu, logvar)`` (B, D) of one
  model (the encoder of ``representation_fn``, with the log-variances)."""
  return jax.jit(_posterior(model))


def reduce_seeds(per_seed: Sequence[Mapping[str, Any]], prefix: str = ''
                 ) -> dict[str, Any]:
  """Summaries over seeds: the mean, and ``_sd`` with several seeds.

  Args:
    per_seed: one record per seed with the same keys; values are numbers or
      arrays (e.g. per latent, averaged elementwise).
    prefix: prepended to every key.

  Returns:
    ``{prefix + key: mean}`` and, with several seeds, ``prefix + key +
    '_sd'``: ``stats.seed_sd`` (ddof=1) of every scalar key.
  """
  if not per_seed:
    return {}
  out = {}
  for name in per_seed[0]:
    values = np.asarray([r[name] for r in per_seed], np.float64)
    out[prefix + name] = values.mean(0)
    if len(per_seed) > 1 and values.ndim == 1:
      out[prefix + name + '_sd'] = stats.seed_sd(values)
  return out


def score_summary(per_seed: Iterable[metrics_lib.ScoreRecord]
                  ) -> dict[str, float]:
  """``reduce_seeds`` of the records' scores (their counts and timings are
  not scores): the ``metrics`` of ``results.json`` and ``summary`` of
  ``eval.json``."""
  return {k: float(v) for k, v in
          reduce_seeds([dict(r.scores) for r in per_seed]).items()}


def read_scores(per_seed_record: Mapping[str, Any]
                ) -> metrics_lib.ScoreRecord:
  """The ``ScoreRecord`` of a ``per_seed`` record of ``results.json`` or
  ``eval.json`` (its ``metrics``, in either layout; empty when absent)."""
  return metrics_lib.ScoreRecord.from_json(
      per_seed_record.get('metrics', None) or {})


def log_record(per_seed: Sequence[Mapping[str, Any]], prefix: str
               ) -> dict[str, Any]:
  """A ``metrics.jsonl`` record: summaries, and ``per_seed`` records (with
  the prefixed keys) when there are several seeds."""
  record = reduce_seeds(per_seed, prefix)
  if len(per_seed) > 1:
    record['per_seed'] = [{prefix + k: v for k, v in r.items()}
                          for r in per_seed]
  return record


def train_record(metrics: Mapping[str, np.ndarray], step: int, rate: float
                 ) -> dict[str, Any]:
  """The log record of a train interval: each seed's mean over its steps.

  ``metrics`` values have shape (S, T, ...).
  """
  num_seeds = next(iter(metrics.values())).shape[0]
  per_seed = [{k: np.asarray(v[s]).mean(0) for k, v in metrics.items()}
              for s in range(num_seeds)]
  record = {'step': step, 'steps_per_second': rate}
  record.update(log_record(per_seed, 'train/'))
  return logging_utils.to_jsonable(record)


def write_images(run: runner_lib.Run, params: Any, images: np.ndarray,
                 step: int, seed_index: int,
                 writer: logging_utils.MetricWriter) -> None:
  """Reconstructions and KL-ordered latent traversals of one seed."""
  out = traversals.model_images(
      run.encode, run.decode, params, images, recon=run.config.model.recon,
      steps=run.config.eval.traversal_steps, rows=len(images))
  writer.write_images(step, {
      f'reconstructions_seed{seed_index}': traversals.reconstruction_grid(out),
      f'traversals_seed{seed_index}': traversals.traversal_grid(out)})


def evaluate(run: runner_lib.Run, state: step_lib.TrainState,
             keys: runner_lib.SeedKeys, step: int,
             writer: logging_utils.MetricWriter) -> list[dict[str, float]]:
  """Eval point: images of every seed, and per seed its
  ``analysis.model_summary`` as ``{'eval/<name>': value}`` (an empty list
  when ``eval.model_summary`` is off)."""
  cfg = run.config.eval
  per_seed = []
  for s in range(run.num_seeds):
    params = runner_lib.select_seed(state.params, s)
    eval_key = runner_lib.select_seed(keys.eval, s)
    image_key, summary_key = jax.random.split(eval_key)
    num = max(cfg.num_images, cfg.num_summary_images)
    images = run.sample_images(image_key, num)
    # Every process computes the images (the same jitted calls on the
    # global parameters in every process); only process 0's writer writes.
    write_images(run, params, images[:cfg.num_images], step, s, writer)
    if cfg.model_summary:
      summary = analysis.model_summary(
          run.model, params, jnp.asarray(images[:cfg.num_summary_images]),
          summary_key, recon=run.config.model.recon,
          variational=run.objective.variational)
      per_seed.append({f'eval/{k}': float(v) for k, v in summary.items()})
  return per_seed


def dci_backend(metrics_config: Mapping[str, Any]) -> str:
  """The ``metrics`` section's DCI backend (``'exact'`` in configs written
  before the field)."""
  return metrics_config.get('dci_backend', 'exact')


def score(run: runner_lib.Run, state: step_lib.TrainState
          ) -> list[metrics_lib.ScoreRecord]:
  """``metrics.evaluate_representations`` of every seed (DCI's classifiers
  of all seeds and factors in parallel processes), or empty records when
  ``metrics.names`` is empty."""
  config = run.config
  names = tuple(config.metrics.names)
  if not names:
    return [metrics_lib.ScoreRecord() for _ in range(run.num_seeds)]
  fns = [representation_fn(run.model, runner_lib.select_seed(state.params, s))
         for s in range(run.num_seeds)]
  evaluated = metrics_lib.evaluate_representations(
      run.dataset, fns, names,
      seeds=[config.seed + s for s in range(run.num_seeds)],
      num_train=config.metrics.num_train, num_test=config.metrics.num_test,
      dci_backend=dci_backend(config.metrics))
  per_seed = [record for record, _ in evaluated]
  for s, record in enumerate(per_seed):
    logging_utils.log_detail('metrics seed %d: %s', config.seed + s,
                             short(record.scores))
  return per_seed


def short(record: Mapping[str, Any]) -> str:
  """``'name=value, ...'`` of the numbers in a record, for the log."""
  return ', '.join(f'{k}={v:.4g}' for k, v in record.items()
                   if isinstance(v, (int, float)))


__all__ = ['dci_backend', 'representation_fn', 'apply_batched', 'posterior_fn',
           'reduce_seeds', 'score_summary', 'read_scores', 'log_record',
           'train_record', 'write_images', 'evaluate', 'score', 'short']
