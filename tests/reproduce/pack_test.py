"""Tests of disent_bias.reproduce.pack: a job folder within its limits."""

import os

import numpy as np
import pytest

from disent_bias.reproduce import pack


def _unit(n):
  rng = np.random.default_rng(n)
  return ({'unit': f'd/v/m/seeds_{n}-{n}', 'scores': [{'seed': n}]},
          {f'seed{n}/codes_train': rng.normal(size=(1000, 10)).astype(
              np.float32)})


def test_units_round_trip_and_the_manifest_verifies(tmp_path):
  folder = pack.JobFolder(str(tmp_path))
  for n in range(3):
    record, arrays = _unit(n)
    folder.add_unit(record['unit'], record, arrays, seconds=1.0)
  manifest = pack.read_manifest(str(tmp_path))
  assert [u['id'] for u in manifest['units']] == [
      f'd/v/m/seeds_{n}-{n}' for n in range(3)]
  record, arrays = pack.load_unit(str(tmp_path), manifest['units'][1])
  assert record == _unit(1)[0]
  np.testing.assert_array_equal(arrays['seed1/codes_train'],
                                _unit(1)[1]['seed1/codes_train'])
  # A continued folder knows its units.
  assert pack.JobFolder(str(tmp_path)).unit_ids() == folder.unit_ids()


def test_parts_respect_the_file_count_and_size_limits(tmp_path):
  limits = pack.Limits(max_files=4, max_file_bytes=100_000,
                       max_total_bytes=400_000, log_bytes=10_000,
                       manifest_bytes=10_000)
  folder = pack.JobFolder(str(tmp_path), limits)
  added = 0
  while True:
    record, arrays = _unit(added)
    text, npz = pack.unit_payload(record, arrays)
    if not folder.fits(len(text) + len(npz)):
      break
    folder.add_unit(record['unit'], record, arrays)
    folder.log('a line')
    added += 1
  assert added >= 2
  assert pack.check_limits(str(tmp_path), limits) == []
  assert len(os.listdir(tmp_path)) <= limits.max_files
  with pytest.raises(ValueError, match='no room'):
    folder.add_unit('x', *_unit(99))


def test_a_half_copied_folder_is_refused(tmp_path):
  folder = pack.JobFolder(str(tmp_path))
  folder.add_unit('a/b/c/seeds_0-0', *_unit(0))
  part = tmp_path / folder.manifest['units'][0]['part']
  data = part.read_bytes()
  part.write_bytes(data[:len(data) // 2])
  with pytest.raises(pack.IncompleteJobError, match='copied only in part'):
    pack.read_manifest(str(tmp_path))
  part.unlink()
  with pytest.raises(pack.IncompleteJobError, match='missing'):
    pack.read_manifest(str(tmp_path))
  with pytest.raises(pack.IncompleteJobError, match='missing'):
    pack.read_manifest(str(tmp_path / 'nothing'))


def test_check_limits_names_deep_and_large_files(tmp_path):
  deep = tmp_path / 'a' / 'b' / 'c'
  deep.mkdir(parents=True)
  (deep / 'f').write_bytes(b'x' * 10)
  (tmp_path / 'big').write_bytes(b'x' * 200)
  problems = pack.check_limits(str(tmp_path), pack.Limits(max_file_bytes=100))
  assert any('more than 2 folders' in p for p in problems)
  assert any('big has 200 bytes' in p for p in problems)
