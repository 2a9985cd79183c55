"""Tests of ``experiments.throughput`` and ``throughput_lib``: forms in
subprocesses, end to end with tiny settings, and the cost analysis."""

import json
import os
import subprocess
import sys

import pytest

from experiments import throughput_lib as lib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
# Small programs: compile time dominates (tests/conftest.py).
ENV = dict(os.environ, JAX_PLATFORMS='cpu', JAX_DISABLE_MOST_OPTIMIZATIONS='1')
# 2 steps per call, 1 timed call, the synthetic_linear MLP at batch 8.
WORKER_ARGS = ['--steps_per_call=2', '--repeats=1', '--warmup=0', '--smoke']
pytestmark = pytest.mark.usefixtures('fast_compiles_module')


def _run_forms(forms, **options):
  records = []
  lib.run_forms(forms, worker_args=WORKER_ARGS, emit=records.append,
                **options)
  return records


@pytest.mark.slow
def test_forms_run_apart_and_a_failing_form_is_reported_and_skipped(
    monkeypatch):
  for key, value in ENV.items():
    monkeypatch.setenv(key, value)
  bf16 = {'model.compute_dtype': 'bfloat16'}
  records = _run_forms(
      [lib.Form('f32', (1, 2)),
       lib.Form('bad_flag', xla_flags='--xla_no_such_flag=1'),
       lib.Form('bf16', (2,), config=bf16)],
      budget_s=300, form_timeout_s=120)
  measured = [r for r in records if r['name'] == 'throughput']
  assert [(r['form'], r['num_seeds'], r['compute_dtype']) for r in measured
          ] == [('f32', 1, 'float32'), ('f32', 2, 'float32'),
                ('bf16', 2, 'bfloat16')]
  for r in measured:
    assert r['seed_steps_per_second'] > 0 and r['compile_seconds'] >= 0
    assert r['device'] and r['steps_per_call'] == 2
    assert r['xla_flops_per_seed_step'] > 0
  (failed,) = [r for r in records if r['name'] == 'throughput_failed']
  assert failed['form'] == 'bad_flag' and failed['returncode'] != 0
  assert 'xla_no_such_flag' in failed['error']
  assert records[-1]['name'] == 'throughput_done'
  assert records[-1]['failed'] == ['bad_flag']


def test_forms_after_the_budget_are_skipped():
  records = _run_forms([lib.Form('f32')], budget_s=0, form_timeout_s=1)
  assert [r['name'] for r in records] == ['throughput_skipped',
                                          'throughput_done']
  assert records[-1]['skipped'] == ['f32']


def test_a_form_past_its_timeout_is_stopped_and_reported():
  (failed, _) = _run_forms([lib.Form('f32', (1, 2))], budget_s=100,
                           form_timeout_s=0.5)
  assert failed['name'] == 'throughput_failed' and failed['timed_out']
  assert failed['num_seeds'] == [1, 2]


def test_every_forms_xla_flags_parse_on_this_jaxlib():
  # An unknown XLA flag or value aborts the process that reads it; the GPU
  # flags are parsed on every backend, so the CPU checks their names.
  flags = ' '.join(f.xla_flags for f in lib.FORMS)
  proc = subprocess.run(
      [sys.executable, '-c',
       'import jax; jax.numpy.zeros(1).block_until_ready()'],
      env=dict(ENV, XLA_FLAGS=flags), capture_output=True, text=True,
      timeout=120)
  assert proc.returncode == 0, proc.stderr[-2000:]


def test_forms_are_selected_by_name():
  assert [f.name for f in lib.select_forms(lib.DEFAULT_FORMS)] == list(
      lib.DEFAULT_FORMS)
  (bf16,) = lib.select_forms(['bf16'], [2])
  assert bf16.num_seeds == (2,) and bf16.config == {
      'model.compute_dtype': 'bfloat16'}
  assert lib.Form.from_json(bf16.to_json()) == bf16
  assert lib.select_forms(['all']) == list(lib.FORMS)
  with pytest.raises(ValueError, match=r"unknown forms \['f16'\]; valid: "):
    lib.select_forms(['f16'])


def test_cost_analysis_per_seed_step():
  records = []
  lib.print_cost_analysis(batch=8, smoke=True, emit=records.append,
                          seeds=(1, 2))
  assert [(r['form'], r['num_seeds']) for r in records] == [
      (name, n) for name, _ in lib.COST_FORMS for n in (1, 2)]
  for r in records:
    assert r['flops_per_seed_step'] > 0 and r['bytes_per_seed_step'] > 0
  one, two = records[0], records[1]
  # Per seed, two vmapped seeds cost about what one does.
  assert 0.5 < two['flops_per_seed_step'] / one['flops_per_seed_step'] < 1.5


@pytest.mark.slow
def test_cli_prints_one_json_line_per_measurement():
  proc = subprocess.run(
      [sys.executable, '-m', 'experiments.throughput', '--forms=bf16',
       '--num_seeds=2', *WORKER_ARGS], cwd=REPO, env=ENV,
      capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  records = [json.loads(line) for line in proc.stdout.splitlines()]
  assert [r['name'] for r in records] == ['machine', 'throughput',
                                          'throughput_done']
  assert records[1]['form'] == 'bf16' and records[1]['num_seeds'] == 2
