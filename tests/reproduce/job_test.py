"""The bounded-job cycle on a CPU: jobs, ingestion, the ledger, the table.

One module-scoped sequence on ``job_smoke`` (4 cells of 2 seeds, 10 steps):
two jobs of one unit each take different units; a job killed in its second
unit packs only its first; ingesting a folder twice changes nothing; a
half-copied folder is refused; the merged table equals one uninterrupted
``reproduce`` of the same grid.
"""

import os
import shutil

import numpy as np
import pytest

from disent_bias import reproduce
from disent_bias.configs import reproduce as reproduce_configs
from disent_bias.reproduce import ingest as ingest_lib
from disent_bias.reproduce import job as job_lib
from disent_bias.reproduce import pack
from disent_bias.reproduce import units
from disent_bias.training import train
from tiny_run import files_under


def _config():
  return reproduce_configs.get_config('job_smoke')


def _ledger(workdir):
  return units.read_ledger(os.path.join(workdir, units.LEDGER_FILE))


def _done(workdir):
  return sorted(k for k, e in _ledger(workdir)['units'].items()
                if e['state'] == units.DONE)


class _KilledInSecondUnit:
  """Trains one unit, then dies like a killed process in the next."""

  def __init__(self):
    self.calls = 0

  def __call__(self, config, workdir):
    self.calls += 1
    if self.calls == 2:
      raise KeyboardInterrupt('killed')
    return train.train_and_evaluate(config, workdir)


@pytest.fixture(scope='module')
def cycle(tmp_path_factory):
  """Runs the whole cycle once; returns its folders."""
  root = tmp_path_factory.mktemp('jobs')
  work = str(root / 'results')
  ledger = os.path.join(work, units.LEDGER_FILE)
  config = _config()
  out = {'root': root, 'work': work}
  job_lib.run_job(config, str(root / 'job1'), budget_seconds=300,
                  ledger_path=ledger, max_units=1)
  out['job1_limits'] = pack.check_limits(str(root / 'job1'))
  ingest_lib.ingest(config, str(root / 'job1'), work)
  out['after_job1'] = _done(work)
  out['files_after_job1'] = files_under(work)
  ingest_lib.ingest(config, str(root / 'job1'), work)  # Again: no change.
  out['files_after_reingest'] = files_under(work)
  job_lib.run_job(config, str(root / 'job2'), budget_seconds=300,
                  ledger_path=ledger, max_units=1)
  ingest_lib.ingest(config, str(root / 'job2'), work)
  out['after_job2'] = _done(work)
  with pytest.raises(KeyboardInterrupt):
    job_lib.run_job(config, str(root / 'job3'), budget_seconds=300,
                    ledger_path=ledger, train_fn=_KilledInSecondUnit())
  out['job3_units'] = pack.read_manifest(str(root / 'job3'))['units']
  out['ledger_before_job3'] = _ledger(work)
  ingest_lib.ingest(config, str(root / 'job3'), work)
  out['after_job3'] = _done(work)
  job_lib.run_job(config, str(root / 'job4'), budget_seconds=300,
                  ledger_path=ledger)
  ingest_lib.ingest(config, str(root / 'job4'), work)
  out['after_job4'] = _done(work)
  reproduce.reproduce(_config(), str(root / 'reproduce'))
  return out


def test_a_job_packs_within_the_limits(cycle):
  assert cycle['job1_limits'] == []
  names = sorted(os.listdir(cycle['root'] / 'job1'))
  assert names == ['job.json', 'job.log', 'part-000.zip']


def test_jobs_in_a_row_take_different_units(cycle):
  assert len(cycle['after_job1']) == 1
  assert len(cycle['after_job2']) == 2
  assert cycle['after_job1'][0] in cycle['after_job2']


def test_ingesting_twice_changes_nothing(cycle):
  assert cycle['files_after_reingest'] == cycle['files_after_job1']


def test_a_job_killed_in_a_unit_packs_only_the_finished_ones(cycle):
  assert len(cycle['job3_units']) == 1
  assert len(cycle['after_job3']) == 3
  # The job itself never writes the ledger.
  assert _ledger(cycle['work']) != cycle['ledger_before_job3']


def test_the_merged_table_equals_one_uninterrupted_reproduce(cycle):
  assert len(cycle['after_job4']) == 4
  work, ref = cycle['work'], cycle['root'] / 'reproduce'
  with open(os.path.join(work, 'table.md')) as f, open(ref / 'table.md') as g:
    assert f.read() == g.read()
  mine = ingest_lib.workdir_lib.read_json(os.path.join(work, 'results.json'))
  theirs = ingest_lib.workdir_lib.read_json(str(ref / 'results.json'))
  key = lambda r: (r['model'], r['dataset'], r['variant'], r['seed'])
  assert ({key(r): r['scores'] for r in mine['records']}
          == {key(r): r['scores'] for r in theirs['records']})
  # Complete cells are reproduction cells: reproduce skips them.
  result = reproduce.reproduce(_config(), work, train_fn=_refuse)
  assert result['summary']


def _refuse(config, workdir):
  raise AssertionError(f'{workdir} should have been skipped')


def test_a_half_copied_folder_changes_nothing(cycle, tmp_path):
  copy = tmp_path / 'copy'
  shutil.copytree(cycle['root'] / 'job4', copy)
  part = next(p for p in copy.iterdir() if p.name.startswith('part-'))
  part.write_bytes(part.read_bytes()[:100])
  work = tmp_path / 'work'
  with pytest.raises(pack.IncompleteJobError):
    ingest_lib.ingest(_config(), str(copy), str(work))
  assert not work.exists()


def test_saved_samples_rescore_to_the_packed_scores(cycle):
  work = cycle['work']
  unit_id = cycle['after_job4'][0]
  record = ingest_lib.unit_records(work, unit_id)
  with np.load(os.path.join(ingest_lib.unit_dir(work, unit_id),
                            'samples.npz')) as npz:
    arrays = {k: npz[k] for k in npz.files}
  for scores in record['scores']:
    sample = job_lib.metrics_lib.unpack_sample(arrays, scores['seed'])
    again = job_lib.metrics_lib.score_sample(
        sample, ('mig', 'dci'), seed=scores['seed'],
        dci_backend=_config().overrides.metrics.dci_backend)
    assert again.scores == scores['scores']


def test_each_ingested_job_keeps_its_manifest_and_log(cycle):
  jobs = os.path.join(cycle['work'], ingest_lib.JOBS_DIR)
  assert len(os.listdir(jobs)) == 4
  for job in os.listdir(jobs):
    assert sorted(os.listdir(os.path.join(jobs, job))) == sorted(
        [pack.LOG, pack.MANIFEST])


def test_units_keep_their_training_curves(cycle):
  record = ingest_lib.unit_records(cycle['work'], cycle['after_job4'][0])
  steps = [r['step'] for r in record['train_log'] if 'train/loss' in r]
  assert steps and steps[-1] == record['results']['num_steps']


def test_a_job_continues_a_folder_of_an_earlier_job(cycle, tmp_path):
  folder = tmp_path / 'job1'
  shutil.copytree(cycle['root'] / 'job1', folder)
  before = pack.read_manifest(str(folder))['units']
  manifest = job_lib.run_job(_config(), str(folder), budget_seconds=300,
                             ledger_path=str(tmp_path / 'none.json'),
                             max_units=1)
  ids = [u['id'] for u in manifest['units']]
  assert ids[:1] == [before[0]['id']] and len(ids) == 2
  assert pack.read_manifest(str(folder))['units'][0] == before[0]
  assert pack.check_limits(str(folder)) == []
