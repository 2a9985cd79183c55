"""Multi-process training (``config.distributed``, ``jax.distributed``).

Two processes on this machine, one CPU device each, talking through the
CPU collectives (gloo), train ``tests/distributed_config.py`` in one workdir
(``python -m experiments.train``, the launch of docs/workdir.md); one
process with two CPU devices trains the same config. The mesh (2 devices)
and the global batch are the same, so the two runs must give the same
parameters, losses, eval scalars and MIG, and the two-process workdir must
hold the files of one run, each written once.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from disent_bias.training import stored_run

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join('tests', 'distributed_config.py')
TIMEOUT_S = 240  # A hang (e.g. a process waiting in a collective) fails.
_DEVICE_COUNT = re.compile(r'--xla_force_host_platform_device_count=\S+')


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def _env(num_devices: int) -> dict[str, str]:
  flags = _DEVICE_COUNT.sub('', os.environ.get('XLA_FLAGS', ''))
  # Small programs: compile time dominates (tests/conftest.py).
  return dict(os.environ, JAX_PLATFORMS='cpu',
              JAX_DISABLE_MOST_OPTIMIZATIONS='1',
              JAX_CPU_COLLECTIVES_IMPLEMENTATION='gloo',
              XLA_FLAGS=f'{flags} --xla_force_host_platform_device_count='
              f'{num_devices}'.strip())


def _run_all(commands: list[tuple[list[str], dict[str, str]]],
             logdir: str) -> list[str]:
  """Runs the commands at once; their outputs, or a failure on a non-zero
  exit or a hang."""
  logs = [os.path.join(logdir, f'command{i}.log') for i in range(len(commands))]
  procs = []
  for (args, env), log in zip(commands, logs):
    with open(log, 'w') as f:
      procs.append(subprocess.Popen(args, env=env, cwd=REPO, stdout=f,
                                    stderr=subprocess.STDOUT))
  deadline = time.monotonic() + TIMEOUT_S
  while any(proc.poll() is None for proc in procs):
    failed = any(proc.returncode not in (None, 0) for proc in procs)
    if failed or time.monotonic() > deadline:
      # The others would wait for the failed one in a collective.
      for proc in procs:
        if proc.poll() is None:
          proc.kill()
          proc.wait()
      break
    time.sleep(0.2)
  tails = '\n'.join(f'--- command {i} (exit {proc.returncode}):\n'
                    f'{open(log).read()[-3000:]}'
                    for i, (proc, log) in enumerate(zip(procs, logs)))
  assert all(proc.returncode == 0 for proc in procs), (
      f'a command failed or ran past {TIMEOUT_S} s:\n{tails}')
  return [open(log).read() for log in logs]


def _files(workdir: str) -> list[str]:
  """Relative paths outside checkpoints/ (event files without their names)."""
  out = []
  for root, _, names in os.walk(workdir):
    rel = os.path.relpath(root, workdir)
    if rel.split(os.sep)[0] == 'checkpoints':
      continue
    for name in names:
      if name.startswith('events.out.tfevents'):
        name = 'events.out.tfevents'
      out.append(os.path.normpath(os.path.join(rel, name)))
  return sorted(out)


def _records(workdir: str) -> list[dict]:
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    records = [json.loads(line) for line in f]
  for r in records:
    r.pop('steps_per_second', None)
  return records


def _train(workdir: str, *overrides: str) -> list[str]:
  return [sys.executable, '-m', 'experiments.train', f'--config={CONFIG}',
          f'--workdir={workdir}', *overrides]


def _comparable(results: dict) -> dict:
  """What a run's results hold besides timings and provenance."""
  keep = ('model', 'dataset', 'seeds', 'num_steps', 'final', 'eval')
  out = {k: results[k] for k in keep}
  out['config'] = {k: v for k, v in results['config'].items()
                   if k != 'distributed'}
  out['mig_per_seed'] = [r['metrics']['scores']['mig']
                         for r in results['per_seed']]
  return out


@pytest.mark.slow
def test_two_processes_match_one_process_with_two_devices(tmp_path):
  multi, single = str(tmp_path / 'multi'), str(tmp_path / 'single')
  coordinator = f'127.0.0.1:{_free_port()}'
  processes = [
      (_train(multi, f'--config.distributed.coordinator_address={coordinator}',
              '--config.distributed.num_processes=2',
              f'--config.distributed.process_id={i}'), _env(1))
      for i in range(2)]
  logs = _run_all(processes + [(_train(single), _env(2))], str(tmp_path))
  for i in range(2):  # One device each.
    assert re.search(rf'JAX process {i} / 2, local devices: '
                     r'\[CpuDevice\(id=\d+\)\]', logs[i]), logs[i][-2000:]

  results = [json.load(open(os.path.join(w, 'results.json')))
             for w in (multi, single)]
  assert results[0]['provenance']['num_processes'] == 2
  assert results[1]['provenance']['num_processes'] == 1
  assert [r['timings']['num_devices'] for r in results] == [2, 2]
  # Two shards per reduction: the sums are exact, so the runs are equal.
  assert _comparable(results[0]) == _comparable(results[1])
  assert _records(multi) == _records(single)
  # One run's files: process 1 wrote none of its own (no second event file).
  assert _files(multi) == _files(single)
  assert sorted(os.listdir(os.path.join(multi, 'checkpoints'))) == ['2', '4']
  params = [stored_run.restore(w)[2] for w in (multi, single)]
  jax.tree.map(lambda x, y: np.testing.assert_array_equal(
      np.asarray(x), np.asarray(y)), *params)
