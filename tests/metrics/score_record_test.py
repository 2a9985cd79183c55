"""Tests of ``metrics.ScoreRecord``: its JSON, and the flat older layout."""

import json

from disent_bias import metrics
from disent_bias.metrics import score_record
from score_records import legacy_results
from score_records import real_records


def test_json_round_trip_keeps_every_field_apart():
  for record in real_records():
    data = json.loads(json.dumps(record.to_json()))
    assert sorted(data) == ['counts', 'names', 'scores', 'seed', 'timings']
    assert data['names'] == ['mig', 'dci']
    assert sorted(data['counts']) == sorted(score_record.COUNTS)
    assert sorted(data['timings']) == ['dci', 'encode', 'mig']
    assert all(set(kinds) <= set(score_record.TIMING_KINDS)
               for kinds in data['timings'].values())
    assert metrics.ScoreRecord.from_json(data) == record


def test_the_flat_layout_of_an_older_run_is_read_into_the_fields():
  for stored in legacy_results()['per_seed']:
    flat = stored['metrics']
    record = metrics.ScoreRecord.from_json(flat)
    assert (record.seed, record.names) == (flat['seed'], ('mig', 'dci'))
    assert record.scores == {k: flat[k] for k in (
        'mig', 'dci.disentanglement', 'dci.completeness',
        'dci.informativeness_train', 'dci.informativeness_test')}
    assert record.counts == {k: flat[k] for k in score_record.COUNTS}
    assert record.timings['encode'] == {'wall_s': flat['time_s.encode'],
                                        'cpu_s': flat['cpu_s.encode']}
    assert record.timings['dci']['sklearn_s'] == flat['sklearn_s.dci']
    # Read once, it writes the new layout, which reads back the same.
    assert metrics.ScoreRecord.from_json(record.to_json()) == record


def test_an_empty_record_and_merging_two_passes():
  assert metrics.ScoreRecord.from_json({}) == metrics.ScoreRecord()
  first, second = real_records()[:2]
  later = metrics.ScoreRecord(
      None, ('sap',), {'sap': 0.5}, {},
      {'sap': {'wall_s': 1.0}, 'encode': {'cpu_s': 9.0}})
  merged = first.merge(later)
  assert merged.seed == first.seed and merged.names == ('mig', 'dci', 'sap')
  assert merged.scores == {**first.scores, 'sap': 0.5}
  assert merged.counts == first.counts
  assert merged.timings['encode'] == {**first.timings['encode'],
                                      'cpu_s': 9.0}
  assert first.merge(second).seed == second.seed
