"""Tests of experiments.dci_deviation's reading and table (no trees fitted)."""

import json
import os

import numpy as np

from disent_bias import metrics
from experiments import dci_deviation


def _sample(rng, n=6):
  return {'codes_train': rng.normal(size=(n, 2)).astype(np.float32),
          'factors_train': rng.integers(0, 3, (n, 2)),
          'codes_test': rng.normal(size=(n, 2)).astype(np.float32),
          'factors_test': rng.integers(0, 3, (n, 2))}


def test_saved_samples_read_every_seed_and_the_stored_exact_scores(tmp_path):
  rng = np.random.default_rng(0)
  samples = {3: _sample(rng), 4: _sample(rng)}
  arrays = {}
  for seed, sample in samples.items():
    arrays.update(metrics.pack_sample(sample, seed))
  unit = tmp_path / 'u'
  unit.mkdir()
  np.savez(unit / 'samples.npz', **arrays)
  stored = {f'dci.{k}': 0.5 for k in dci_deviation.KEYS}
  (unit / 'unit.json').write_text(json.dumps(
      {'scores': [dict(seed=3, **stored), {'seed': 4, 'mig': 0.1}]}))
  entries = list(dci_deviation.saved_samples(
      os.path.join(str(tmp_path), '*', 'samples.npz')))
  assert [e['seed'] for e in entries] == [3, 4]
  assert entries[0]['exact'] == {k: 0.5 for k in dci_deviation.KEYS}
  assert entries[1]['exact'] is None  # no DCI stored: fitted again
  np.testing.assert_array_equal(entries[1]['sample']['codes_test'],
                                samples[4]['codes_test'])


def test_table_rows_and_differences():
  rng = np.random.default_rng(1)
  rows = [{'name': 'a', 'seed': 0, 'stored': True, 'sample': _sample(rng),
           'exact': {k: 0.5 for k in dci_deviation.KEYS},
           'fast': {k: 0.55 for k in dci_deviation.KEYS}}]
  text = dci_deviation.table(rows)
  assert '| a (exact stored) | 0 | 6 / 6 | 0.500 | 0.550 | +0.050 |' in text
  assert 'max |diff| 0.050' in text
