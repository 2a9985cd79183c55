"""Ingest a job's folder on a CPU machine: score, merge, tabulate, record.

``ingest(config, job_dir, workdir)`` checks the folder against its manifest
(``pack.read_manifest``: a half-copied folder is refused before anything is
written), scores the metrics the job deferred (DCI: disentanglement_lib's
gradient boosted trees) from the saved samples, seeds in parallel processes,
keeps each unit under ``workdir/units/<unit id>/`` (``unit.json`` with every
seed's scores, ``samples.npz``), marks it done in ``workdir/ledger.json``,
keeps the job's manifest and log under ``workdir/jobs/<job id>/``,
writes each complete cell as a reproduction cell (``cells/.../cell.json`` and
``results.json``, so ``experiments.reproduce`` on the same directory skips
it), and then the protocol's ``results.json``, ``table.md`` and plots over
every ingested seed. Units already in the ledger are skipped, so ingesting a
folder twice changes nothing.
"""

from __future__ import annotations

import os
import time
from typing import Any, Mapping, Sequence

from absl import logging
import ml_collections
import numpy as np

from disent_bias import metrics as metrics_lib
from disent_bias.reproduce import cells as cells_lib
from disent_bias.reproduce import files
from disent_bias.reproduce import grid
from disent_bias.reproduce import local_pca
from disent_bias.reproduce import outputs
from disent_bias.reproduce import pack
from disent_bias.reproduce import protocol as protocol_lib
from disent_bias.reproduce import records as records_lib
from disent_bias.reproduce import units as units_lib
from disent_bias.training import scoring
from disent_bias.utils import errors
from disent_bias.utils import logging_utils
from disent_bias.utils import workdir as workdir_lib

UNITS_DIR = 'units'
JOBS_DIR = 'jobs'


def unit_dir(workdir: str, unit_id: str) -> str:
  return os.path.join(workdir, UNITS_DIR, unit_id)


def _score_later(sample: Mapping[str, np.ndarray], names: Sequence[str],
                 seed: int, dci_backend: str) -> metrics_lib.ScoreRecord:
  """The deferred metrics of one seed (a worker process's task)."""
  return (metrics_lib.score_sample(sample, names, seed=seed,
                                   dci_backend=dci_backend) if names
          else metrics_lib.ScoreRecord())


def _check_unit(protocol: protocol_lib.Protocol, unit: units_lib.Unit,
                record: Mapping[str, Any]) -> None:
  """Refuses a packed unit that is not the ledger's unit of this protocol."""
  results = record['results']
  expected = units_lib.unit_train_config(protocol, unit)
  got = (results.get('model'), results.get('dataset'),
         results.get('variant'), results.get('seeds'),
         results.get('num_steps'))
  want = (unit.cell.model, unit.cell.dataset, unit.cell.variant,
          [expected.seed + i for i in range(unit.count)],
          expected.train.num_steps)
  if got != want:
    raise errors.InvalidInputError(
        f'unit {unit.id} of the job folder trained {got}, the protocol '
        f'expects {want}; not ingested')


def ingest(config: ml_collections.ConfigDict, job_dir: str, workdir: str, *,
           n_jobs: int = -1) -> dict[str, Any]:
  """Merges a job folder into the protocol's results in ``workdir``.

  Returns:
    ``{'ingested': [unit ids], 'skipped': [unit ids], 'done', 'total'}``.

  Raises:
    pack.IncompleteJobError: the folder does not match its manifest.
    ValueError: an invalid reproduction config (``protocol.parse``), a
      folder of another protocol, or a unit whose seeds are already done or
      not in the protocol.
  """
  protocol = protocol_lib.parse(config)
  manifest = pack.read_manifest(job_dir)
  if manifest.get('protocol') != protocol.name:
    raise errors.InvalidInputError(
        f'{job_dir} holds a job of protocol {manifest.get("protocol")!r}, '
        f'the config is {protocol.name!r}')
  with workdir_lib.lock(workdir):
    return _ingest(protocol, job_dir, manifest, workdir, n_jobs)


def _ingest(protocol: protocol_lib.Protocol, job_dir: str,
            manifest: Mapping[str, Any], workdir: str,
            n_jobs: int) -> dict[str, Any]:
  ledger_path = os.path.join(workdir, units_lib.LEDGER_FILE)
  ledger = units_lib.merged_ledger(protocol,
                                   units_lib.read_ledger(ledger_path))
  cells_lib.check_cells(protocol, protocol.cells, workdir)
  new, skipped = [], []
  for entry in manifest['units']:
    ledger = units_lib.accept_unit(protocol, ledger,
                                   units_lib.unit_of_id(entry['id']))
    led = ledger['units'][entry['id']]
    if led['state'] == units_lib.DONE:
      skipped.append(entry['id'])
      continue
    new.append((entry, units_lib.unit_of_entry(led)))
  for entry, unit in new:
    # One unit at a time, so a killed ingest keeps the units it finished.
    record = _score_unit(protocol, job_dir, entry, unit, n_jobs)
    _keep_unit(workdir, unit, record)
    ledger['units'][unit.id].update(_done_entry(record, entry))
    units_lib.write_ledger(ledger_path, ledger)
    logging.info('%s: ingested from job %s', unit, record['job'])
  _keep_job_record(job_dir, manifest, workdir)
  if new or not os.path.exists(os.path.join(workdir, 'table.md')):
    if not new:  # Written after each new unit; else maybe never yet.
      units_lib.write_ledger(ledger_path, ledger)
    _write_protocol(protocol, workdir, ledger)
  done = sum(e['state'] == units_lib.DONE for e in ledger['units'].values())
  logging.info('ingested %d unit(s), %d already done; %d of %d units done',
               len(new), len(skipped), done, len(ledger['units']))
  return {'ingested': [u.id for _, u in new], 'skipped': skipped,
          'done': done, 'total': len(ledger['units'])}


def _score_unit(protocol: protocol_lib.Protocol, job_dir: str,
                entry: Mapping[str, Any], unit: units_lib.Unit,
                n_jobs: int) -> dict[str, Any]:
  """The unit's record with the deferred metrics of every seed added (its
  seeds scored in parallel processes) and its ``arrays``."""
  import joblib  # pylint: disable=g-import-not-at-top
  record, arrays = pack.load_unit(job_dir, entry)
  _check_unit(protocol, unit, record)
  seeds = [s['seed'] for s in record['scores']]
  backend = scoring.dci_backend(protocol.train_configs[unit.cell].metrics)
  logging.info('%s: scoring %s of %d seed(s) from saved samples', unit,
               ', '.join(record['metrics_later']) or 'nothing', len(seeds))
  later = joblib.Parallel(n_jobs=min(joblib.effective_n_jobs(n_jobs),
                                     len(seeds)))(
      joblib.delayed(_score_later)(metrics_lib.unpack_sample(arrays, seed),
                                   record['metrics_later'], seed, backend)
      for seed in seeds)
  record['scores'] = [
      metrics_lib.ScoreRecord.from_json(scores).merge(extra).to_json()
      for scores, extra in zip(record['scores'], later)]
  return dict(record, arrays=arrays)


def _keep_unit(workdir: str, unit: units_lib.Unit,
               record: dict[str, Any]) -> None:
  """Writes ``units/<id>/samples.npz`` and ``unit.json`` (scores added)."""
  arrays = record.pop('arrays')
  directory = unit_dir(workdir, unit.id)
  _, npz = pack.unit_payload({}, arrays)
  workdir_lib.write_bytes(os.path.join(directory, 'samples.npz'), npz)
  files.write_json(os.path.join(directory, 'unit.json'), record)


def _keep_job_record(job_dir: str, manifest: Mapping[str, Any],
                     workdir: str) -> None:
  """Keeps the job's manifest and log as ``jobs/<job id>/`` (once)."""
  directory = os.path.join(workdir, JOBS_DIR, str(manifest.get('job')))
  for name in (pack.MANIFEST, pack.LOG):
    target = os.path.join(directory, name)
    if os.path.exists(os.path.join(job_dir, name)) and not os.path.exists(
        target):
      with open(os.path.join(job_dir, name), 'rb') as f:
        workdir_lib.write_bytes(target, f.read())


def _done_entry(record: Mapping[str, Any], entry: Mapping[str, Any]
                ) -> dict[str, Any]:
  """What the ledger keeps of a done unit: who, where, how fast."""
  prov = record['results'].get('provenance', {}) or {}
  return {'state': units_lib.DONE, 'job': record['job'],
          'commit': prov.get('git_commit'), 'dirty': prov.get('git_dirty'),
          'device': prov.get('device_kind') or prov.get('device_platform'),
          'cpu_model': prov.get('cpu_model'), 'jax': prov.get('jax'),
          'seconds': entry.get('seconds'),
          'seed_steps_per_second': entry.get('seed_steps_per_second'),
          'ingested': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}


def unit_records(workdir: str, unit_id: str) -> dict[str, Any]:
  return workdir_lib.read_json(os.path.join(unit_dir(workdir, unit_id),
                                            'unit.json'))


def cell_results(cell: grid.Cell, units: Sequence[Mapping[str, Any]]
                 ) -> dict[str, Any]:
  """A cell's ``results.json`` from its units' records (in seed order)."""
  per_seed = []
  for record in units:
    runs = record['results']['per_seed']
    for run, scores in zip(runs, record['scores']):
      per_seed.append({'seed': run['seed'], 'metrics': scores,
                       'eval': run.get('eval', {}),
                       'final': run.get('final', {})})
  seconds = [r['throughput']['unit_seconds'] for r in units]
  return logging_utils.to_jsonable({
      'model': cell.model, 'dataset': cell.dataset, 'variant': cell.variant,
      'seeds': [r['seed'] for r in per_seed],
      'num_steps': units[0]['results']['num_steps'],
      'eval': scoring.reduce_seeds([r['eval'] for r in per_seed]),
      'metrics': scoring.score_summary(scoring.read_scores(r)
                                       for r in per_seed),
      'per_seed': per_seed,
      'units': [r['unit'] for r in units],
      'timings': {'unit_seconds': seconds, 'wall_seconds': sum(seconds)},
  })


def _write_protocol(protocol: protocol_lib.Protocol, workdir: str,
                    ledger: Mapping[str, Any]) -> None:
  """Complete cells' workdirs, then the protocol's outputs over every
  ingested seed (a note names the cells still short of seeds)."""
  by_cell: dict[grid.Cell, list[Mapping[str, Any]]] = {}
  complete: dict[grid.Cell, bool] = {}
  for unit_id, e in ledger['units'].items():
    cell = grid.Cell(**e['cell'])
    complete[cell] = complete.get(cell, True) and e['state'] == units_lib.DONE
    if e['state'] == units_lib.DONE:
      by_cell.setdefault(cell, []).append((e['first'], unit_id))
  records, partial = [], []
  for cell in protocol.cells:
    if cell not in by_cell:
      continue
    unit_ids = [u for _, u in sorted(by_cell[cell])]
    results = cell_results(cell, [unit_records(workdir, u) for u in unit_ids])
    if complete[cell]:
      _write_cell(protocol, cell, workdir, results)
    else:
      partial.append(f'{cell} ({len(results["seeds"])} of '
                     f'{protocol.num_seeds} seeds)')
    records += records_lib.seed_records(
        results, cell, results['timings']['wall_seconds'], None)
  analyses = []
  if protocol.config.analysis.enabled:
    variants = {(r['dataset'], r['variant']) for r in records}
    firsts = {(c.dataset, c.variant): c for c in reversed(protocol.cells)}
    analyses = [local_pca.run_analysis(protocol, cell, workdir)
                for key, cell in reversed(list(firsts.items()))
                if key in variants]
  files.write_json(os.path.join(workdir, 'config.json'),
                   protocol.config_json)
  note = ('Still short of seeds (further jobs add them): '
          + '; '.join(partial) + '.') if partial else ''
  done = [e for e in ledger['units'].values() if e['state'] == units_lib.DONE]
  timings = {'units_done': len(done), 'units_total': len(ledger['units']),
             'unit_seconds': sum(e.get('seconds') or 0 for e in done)}
  outputs.write_outputs(protocol, workdir, records, analyses, timings,
                        note=note)


def _write_cell(protocol: protocol_lib.Protocol, cell: grid.Cell,
                workdir: str, results: Mapping[str, Any]) -> None:
  """A complete cell as ``experiments.reproduce`` leaves one (its
  ``cell.json`` checked by ``_ingest``'s ``check_cells``)."""
  cell_dir = os.path.join(workdir, cell.path)
  cells_lib.record_cell(cell_dir, cell, protocol.train_configs[cell])
  files.write_json(os.path.join(cell_dir, cells_lib.RESULTS_FILE), results)
  cells_lib.write_timing(cell_dir, results['timings']['wall_seconds'], None)
