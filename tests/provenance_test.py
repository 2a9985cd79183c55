"""Tests of what a result records about the code and machine."""

import json

from disent_bias.utils import provenance


def test_provenance_is_json_and_names_the_cpu():
  record = provenance.provenance()
  json.dumps(record)
  assert record['versions']['jax']
  assert record['cpu_count'] >= 1
  assert set(record['cpu_simd']) <= set(provenance.SIMD_FLAGS)


def test_cpu_model_matches_proc_cpuinfo():
  try:
    with open('/proc/cpuinfo') as f:
      names = [line.split(':', 1)[1].strip() for line in f
               if line.startswith('model name')]
  except OSError:
    names = []
  if names:
    assert provenance.cpu()['cpu_model'] == names[0]
  else:
    assert provenance.cpu()['cpu_model'] is None or isinstance(
        provenance.cpu()['cpu_model'], str)


def test_the_commit_named_for_a_copied_tree_wins(monkeypatch):
  monkeypatch.setenv(provenance.COMMIT_ENV, 'a' * 40)
  provenance.git_commit.cache_clear()
  try:
    assert provenance.git_commit() == {'commit': 'a' * 40, 'dirty': None}
  finally:
    provenance.git_commit.cache_clear()
