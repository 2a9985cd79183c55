"""A bounded job: train the next units of a protocol, pack them for transfer.

``run_job(config, out_dir, budget_seconds=...)`` reads the ledger, then
trains pending units one after the other (each to its full length, in a
scratch workdir) while the next one's estimated time fits the budget that is
left. For each finished unit it scores on the spot the metrics cheap on an
accelerator (``config.job.accelerator_metrics``: MIG), saves every seed's
``metrics.array_sample`` (posterior means and factors of the metric sample)
so the tree-based metrics run later on a CPU (``ingest``), and packs the unit
into ``out_dir`` (``pack``). A unit that does not finish leaves nothing.

The job never writes the ledger: ``ingest`` does, on the machine that keeps
the repository.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any, Callable, Mapping, Sequence

from absl import logging
import jax
import ml_collections
import numpy as np

from disent_bias import metrics as metrics_lib
from disent_bias.reproduce import grid
from disent_bias.reproduce import pack
from disent_bias.reproduce import protocol as protocol_lib
from disent_bias.reproduce import units as units_lib
from disent_bias.training import runner
from disent_bias.training import scoring
from disent_bias.training import stored_run
from disent_bias.training import train
from disent_bias.utils import errors
from disent_bias.utils import logging_utils
from disent_bias.utils import progress as progress_lib
from disent_bias.utils import provenance

TrainFn = Callable[[ml_collections.ConfigDict, str], Mapping[str, Any]]
# Bytes of a unit's payload per seed and sample point (codes float32, factors
# int16), with room for the records: to check the pack limits beforehand.
_BYTES_PER_POINT = 64


def deferred_metrics(protocol: protocol_lib.Protocol,
                     cell: grid.Cell) -> tuple[tuple[str, ...],
                                               tuple[str, ...]]:
  """``(now, later)``: the cell's metrics scored in the job and at ingest.

  Raises:
    ValueError: a metric that cannot be scored from a saved sample.
  """
  names = tuple(protocol.train_configs[cell].metrics.names)
  now = tuple(n for n in names
              if n in protocol.config.job.accelerator_metrics)
  later = tuple(n for n in names if n not in now)
  bad = [n for n in later if n not in metrics_lib.ARRAY_METRICS]
  if bad:
    raise errors.InvalidInputError(
        f'{cell}: metrics {bad} need the model; a job saves only the array '
        f'metrics\' sample ({", ".join(metrics_lib.ARRAY_METRICS)}): add them '
        'to job.accelerator_metrics or drop them from metrics.names')
  return now, later


def score_unit(unit: units_lib.Unit, workdir: str, now: Sequence[str]
               ) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
  """Per seed: the metrics ``now`` (scored here), and the saved sample's
  arrays."""
  restored = stored_run.restore_run(workdir)
  mc = restored.config.metrics
  scores, arrays = [], {}
  for index in range(unit.count):
    seed = restored.config.seed + index
    fn = scoring.representation_fn(
        restored.model, runner.select_seed(restored.params, index))
    tic = time.perf_counter()
    sample = metrics_lib.array_sample(restored.dataset, fn, seed=seed,
                                      num_train=mc.num_train,
                                      num_test=mc.num_test)
    record = metrics_lib.ScoreRecord(
        seed, (), {}, {'num_train': int(mc.num_train),
                       'num_test': int(mc.num_test)},
        {'encode': {'wall_s': time.perf_counter() - tic}})
    if now:
      record = record.merge(metrics_lib.score_sample(
          sample, now, seed=seed,
          dci_backend=scoring.dci_backend(mc)))
    scores.append(record.to_json())
    arrays.update(metrics_lib.pack_sample(sample, seed))
  return scores, arrays


def unit_bytes(protocol: protocol_lib.Protocol,
               unit: units_lib.Unit) -> int:
  """An upper estimate of a unit's packed size."""
  mc = protocol.train_configs[unit.cell].metrics
  return unit.count * (mc.num_train + mc.num_test) * _BYTES_PER_POINT + 65536


class _Budget:
  """Seconds left, and the estimate of a unit from this job's own rates."""

  def __init__(self, protocol: protocol_lib.Protocol, seconds: float):
    self.protocol = protocol
    self.deadline = time.time() + seconds
    self.measured: dict[tuple[str, str, int], float] = {}

  def left(self) -> float:
    return self.deadline - time.time()

  def estimate(self, unit: units_lib.Unit) -> float:
    """Seconds of ``unit``: measured in this job for the same model, dataset
    and seed count (no compile cache across units: compile counted), else
    the protocol's figures."""
    key = _kind(unit)
    if key in self.measured:
      return self.measured[key]
    return units_lib.estimate_seconds(self.protocol, unit.cell, unit.count)

  def record(self, unit: units_lib.Unit, seconds: float) -> None:
    key = _kind(unit)
    self.measured[key] = max(seconds, self.measured.get(key, 0.0))


def _kind(unit: units_lib.Unit) -> tuple[str, str, int]:
  """Units of one kind cost the same: model, dataset, number of seeds."""
  return unit.cell.model, unit.cell.dataset, unit.count


def run_job(config: ml_collections.ConfigDict, out_dir: str, *,
            budget_seconds: float, ledger_path: str | None = None,
            scratch_dir: str | None = None, max_units: int | None = None,
            train_fn: TrainFn | None = None,
            limits: pack.Limits = pack.Limits()) -> dict[str, Any]:
  """Trains pending units while they fit ``budget_seconds``; packs them.

  Args:
    config: a reproduction config with a ``job`` section.
    out_dir: the job folder (``pack``); a folder of an earlier job with the
      same protocol is continued (its units count as done).
    budget_seconds: wall time this call may use, packing included.
    ledger_path: the protocol's ledger (None or missing: nothing done yet).
    scratch_dir: where units train (default: a temporary directory, removed).
    max_units: stop after this many units.
    train_fn: replaces ``train.train_and_evaluate`` (tests).
    limits: what the folder may hold.

  Returns:
    The manifest (``job.json``).

  Raises:
    errors.InvalidInputError: an invalid reproduction config (``protocol.
      parse``), a folder of another protocol, or a ledger of another one.
  """
  protocol = protocol_lib.parse(config)
  budget = _Budget(protocol,
                   budget_seconds - float(config.job.reserve_seconds))
  folder = pack.JobFolder(out_dir, limits)
  if folder.manifest.get('protocol', protocol.name) != protocol.name:
    raise errors.InvalidInputError(
        f'{out_dir} holds a job of protocol {folder.manifest["protocol"]!r}; '
        'give another --out')
  ledger = units_lib.merged_ledger(protocol,
                                   units_lib.read_ledger(ledger_path))
  skip = set(folder.unit_ids())
  todo = [u for u in units_lib.pending_units(ledger) if u.id not in skip]
  job_id = folder.manifest.get('job') or time.strftime(
      f'%Y%m%dT%H%M%SZ-{os.getpid()}', time.gmtime())
  folder.write_manifest(job=job_id, protocol=protocol.name,
                        provenance=provenance.provenance(), state='running')
  _log(folder, f'job {job_id}: protocol {protocol.name}, '
       f'{len(todo)} pending unit(s), budget {budget_seconds:.0f} s, '
       f'devices {jax.devices()}')
  scratch = scratch_dir or tempfile.mkdtemp(prefix='disent_bias_job_')
  done = 0
  try:
    for unit in todo:
      if max_units is not None and done >= max_units:
        break
      need = budget.estimate(unit)
      if need > budget.left() or not folder.fits(unit_bytes(protocol,
                                                             unit)):
        _log(folder, f'{unit}: needs about {need:.0f} s, '
             f'{budget.left():.0f} s left (or no room to pack); next')
        continue
      _run_unit(protocol, unit, folder, budget, scratch, train_fn, job_id)
      done += 1
  finally:
    if scratch_dir is None:
      shutil.rmtree(scratch, ignore_errors=True)
  folder.write_manifest(state='finished', finished=time.time())
  _log(folder, f'job {job_id}: {done} unit(s) packed in {out_dir}')
  return folder.manifest


def _run_unit(protocol: protocol_lib.Protocol, unit: units_lib.Unit,
              folder: pack.JobFolder, budget: _Budget, scratch: str,
              train_fn: TrainFn | None, job_id: str) -> None:
  """Trains, scores and packs one unit."""
  now, later = deferred_metrics(protocol, unit.cell)
  train_config = units_lib.unit_train_config(protocol, unit)
  workdir = os.path.join(scratch, unit.id)
  _log(folder, f'{unit}: training {train_config.train.num_steps} steps '
       f'({budget.left():.0f} s left)')
  tic = time.time()
  with logging_utils.nested_run():
    results = (train_fn or train.train_and_evaluate)(train_config, workdir)
  trained = time.time() - tic
  scores, arrays = score_unit(unit, workdir, now)
  seconds = time.time() - tic
  budget.record(unit, seconds)
  timings = dict(results.get('timings', {}))
  rate = timings.get('steps_per_second', None)
  throughput = {'unit_seconds': seconds, 'train_wall_seconds': trained,
                'seed_steps_per_second': rate and rate * unit.count,
                **timings}
  record = {'unit': unit.id, 'job': job_id, 'metrics_now': now,
            'metrics_later': later, 'results': results, 'scores': scores,
            'throughput': throughput, 'train_log': _train_log(workdir)}
  folder.add_unit(unit.id, record, arrays, seconds=seconds,
                  seed_steps_per_second=throughput['seed_steps_per_second'])
  _log(folder, f'{unit}: done in {progress_lib.format_seconds(seconds)} '
       f'({throughput["seed_steps_per_second"] or 0:.0f} seed-steps/s); '
       + ', '.join(f'seed {s["seed"]} ' + scoring.short(
           metrics_lib.ScoreRecord.from_json(s).scores) for s in scores))


def _train_log(workdir: str) -> list[dict[str, Any]]:
  """The unit's ``metrics.jsonl`` records: its training curves."""
  path = os.path.join(workdir, 'metrics.jsonl')
  return logging_utils.read_jsonl(path) if os.path.exists(path) else []


def _log(folder: pack.JobFolder, line: str) -> None:
  """A progress line on stderr (absl) and in ``job.log``."""
  logging.info('%s', line)
  folder.log(f'{time.strftime("%H:%M:%S")} {line}')
