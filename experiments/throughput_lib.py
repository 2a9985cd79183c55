"""The pieces of ``experiments.throughput``, without flags.

``Form`` and ``FORMS`` (the ways of running the train loop that the
throughput command measures), ``measure_loop`` (seed-steps per second of
the train loop's compiled chunk; ``experiments.benchmark`` uses it too),
the subprocess driver (``run_forms``) and XLA's cost analysis per
seed-step (``cost_analysis``). docs/performance.md has the commands and
the figures.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Mapping, Sequence

import jax
import ml_collections

from disent_bias import data as data_lib
from disent_bias.configs import default
from disent_bias.training import configuration
from disent_bias.training import runner
from disent_bias.training import setup as setup_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class Form:
  """One way of running the train loop.

  Attributes:
    name: the form's name in the records and in ``--forms``.
    num_seeds: the numbers of vmapped seeds measured, one compile each.
    xla_flags: appended to ``XLA_FLAGS`` for the form's process.
    config: flattened config overrides, e.g. ``{'model.compute_dtype':
      'bfloat16'}``.
    model: the objective (``model=`` of the default config).
  """
  name: str
  num_seeds: tuple[int, ...] = (10,)
  xla_flags: str = ''
  config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  model: str = 'beta_vae'

  def to_json(self) -> str:
    return json.dumps(dataclasses.asdict(self))

  @classmethod
  def from_json(cls, text: str) -> Form:
    fields = json.loads(text)
    fields['num_seeds'] = tuple(fields['num_seeds'])
    return cls(**fields)


_BF16 = {'model.compute_dtype': 'bfloat16'}
# XLA:GPU records fusions and library calls into CUDA graphs (command
# buffers) by default; '+WHILE,+CONDITIONAL' adds the scan's loop, so one
# graph runs all steps of a call; unrolling records the loop's steps one by
# one (CUDA 12.9 or newer).
_WHILE = '--xla_gpu_enable_command_buffer=+WHILE,+CONDITIONAL'

# In the order they run; ``DEFAULT_FORMS`` fit about 150 s on an H200.
FORMS = (
    Form('f32', (1, 10, 30)),
    Form('bf16', (10, 30), config=_BF16),
    Form('cmdbuf_while', xla_flags=_WHILE),
    Form('triton_gemm_off', xla_flags='--xla_gpu_enable_triton_gemm=false'),
    Form('cmdbuf_off', xla_flags='--xla_gpu_enable_command_buffer='),
    Form('triton_gemm_any', xla_flags='--xla_gpu_triton_gemm_any=true'),
    Form('bf16_cmdbuf_while', (10, 30), xla_flags=_WHILE, config=_BF16),
    Form('pcl', model='pcl'),
    Form('cmdbuf_unroll',
         xla_flags=f'{_WHILE} --xla_gpu_command_buffer_unroll_loops=true'),
)
DEFAULT_FORMS = ('f32', 'bf16', 'cmdbuf_while', 'triton_gemm_off')

# Cost-analysis forms: (name, config overrides).
COST_FORMS = (
    ('matmul_f32', {'model.conv_impl': 'matmul'}),
    ('native_f32', {'model.conv_impl': 'native'}),
    ('matmul_bf16', {'model.conv_impl': 'matmul', **_BF16}),
)
COST_SEEDS = (1, 10)

# The binary that measures one form in its own process (``run_form``).
WORKER_MODULE = 'experiments.throughput'


def emit_json(record: Mapping[str, Any]) -> None:
  """Prints ``record`` as one JSON line."""
  print(json.dumps(record), flush=True)


def form_config(model: str, overrides: Mapping[str, Any], *, num_seeds: int,
                batch: int, smoke: bool = False
                ) -> ml_collections.ConfigDict:
  """The default config of ``model`` on dSprites, batch ``batch``, for
  ``num_seeds`` vmapped seeds, with ``overrides`` (flattened field names).
  ``smoke``: the synthetic_linear data with a 16-unit MLP, batch 8."""
  dataset = 'synthetic_linear' if smoke else 'dsprites'
  config = default.get_config(f'model={model},dataset={dataset}')
  if smoke:
    config.model.hidden = (16,)
    batch = 8
  config.train.batch_size = batch
  config.train.num_seeds = num_seeds
  config.update_from_flattened_dict(dict(overrides))
  return config


def _run(config: ml_collections.ConfigDict) -> runner.Run:
  """``runner.Run`` of the resolved ``config`` on its dataset."""
  dataset = data_lib.load_config(config.data)
  config = configuration.resolve_config(config, dataset)
  return runner.Run(setup_lib.build(config, dataset), dataset,
                    runner.make_mesh())


def _per_seed_step(cost: Any, num_seeds: int, prefix: str = ''
                   ) -> dict[str, float]:
  """FLOPs, transcendentals and bytes accessed of a ``cost_analysis()`` per
  seed, and FLOPs per byte. XLA counts a while loop's body once, so for a
  chunk of steps these are one step's."""
  if isinstance(cost, (list, tuple)):  # Older jax: one dict per program.
    cost = cost[0]
  keys = {'flops': 'flops', 'transcendentals': 'transcendentals',
          'bytes': 'bytes accessed'}
  out = {f'{prefix}{name}_per_seed_step': round(cost.get(key, 0.0) /
                                                num_seeds, 1)
         for name, key in keys.items()}
  flops, size = cost.get('flops', 0.0), cost.get('bytes accessed', 0.0)
  out[f'{prefix}flops_per_byte'] = round(flops / size, 3) if size else None
  return out


def measure_loop(config: ml_collections.ConfigDict, *, steps_per_call: int,
                 repeats: int, warmup: int = 1) -> dict[str, Any]:
  """Times the train loop's compiled chunk of ``config`` (its num_seeds).

  Returns:
    ``seed_steps_per_second`` (median of ``repeats`` timed calls, after
    ``warmup`` untimed ones, each blocked on), ``steps_per_second``,
    ``ms_per_step``, ``compile_seconds``, the per-call timings, XLA's cost
    analysis of the compiled chunk per seed-step (``xla_*``: the loop's
    body is counted once, so one step's, with the accelerator's fusion)
    and what was run.
  """
  run = _run(config)
  config = run.config
  num_seeds = config.train.num_seeds
  keys = runner.seed_keys(config.seed, num_seeds)
  holder = [run.init_state(keys)]
  start = time.perf_counter()
  chunk = run.compiled(steps_per_call, holder[0], keys, None)
  compile_s = time.perf_counter() - start

  def call() -> float:
    start = time.perf_counter()
    holder[0], metrics = chunk(holder[0], keys, None)
    jax.block_until_ready(metrics['loss'])
    return (time.perf_counter() - start) * 1e3

  for _ in range(warmup):
    call()
  timings = [call() for _ in range(repeats)]
  ms_per_step = statistics.median(timings) / steps_per_call
  try:
    cost = _per_seed_step(chunk.cost_analysis(), num_seeds, prefix='xla_')
  except Exception:  # pylint: disable=broad-except
    cost = {}  # Not every backend has a cost analysis.
  return {'num_seeds': num_seeds,
          'seed_steps_per_second': round(num_seeds * 1e3 / ms_per_step, 1),
          'steps_per_second': round(1e3 / ms_per_step, 1),
          'ms_per_step': round(ms_per_step, 4),
          'steps_per_call': steps_per_call,
          'timings_ms_per_call': [round(t, 2) for t in timings],
          'compile_seconds': round(compile_s, 1),
          'model': config.model.name, 'dataset': config.data.name,
          'batch': config.train.batch_size,
          'conv_impl': config.model.conv_impl,
          'fast_conv': run.model.fast_conv,
          'compute_dtype': config.model.compute_dtype,
          'backend': jax.default_backend(),
          'device': str(jax.devices()[0]),
          'device_kind': jax.devices()[0].device_kind,
          'num_devices': run.mesh.size, **cost}


def run_worker(form: Form, *, steps_per_call: int, repeats: int, warmup: int,
               batch: int, smoke: bool,
               emit: Callable[[Mapping[str, Any]], None] = emit_json) -> None:
  """Measures each of ``form``'s numbers of seeds in this process.

  A measurement that raises (e.g. out of memory) is reported as
  ``throughput_failed`` and the next one runs.
  """
  described = {'form': form.name, 'flags': form.xla_flags,
               'config': dict(form.config)}
  for num_seeds in form.num_seeds:
    config = form_config(form.model, form.config, num_seeds=num_seeds,
                         batch=batch, smoke=smoke)
    try:
      record = measure_loop(config, steps_per_call=steps_per_call,
                            repeats=repeats, warmup=warmup)
    except Exception as e:  # pylint: disable=broad-except
      emit({'name': 'throughput_failed', **described, 'num_seeds': num_seeds,
            'error': f'{type(e).__name__}: {e}'[-2000:]})
      continue
    emit({'name': 'throughput', **described, **record})


def _stderr_tail(text: str, lines: int = 6) -> str:
  return '\n'.join(text.strip().splitlines()[-lines:])[-2000:]


def run_form(form: Form, *, timeout_s: float, worker_args: Sequence[str],
             emit: Callable[[Mapping[str, Any]], None] = emit_json) -> bool:
  """Runs ``form`` in a subprocess and re-emits its records. True if every
  measurement succeeded; a process that failed or timed out also gets a
  ``throughput_failed`` record with its stderr's end."""
  env = dict(os.environ)
  env['XLA_FLAGS'] = f"{env.get('XLA_FLAGS', '')} {form.xla_flags}".strip()
  cmd = [sys.executable, '-m', WORKER_MODULE,
         f'--worker={form.to_json()}', *worker_args]
  start = time.perf_counter()
  proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
  try:
    out, err = proc.communicate(timeout=timeout_s)
    timed_out = False
  except subprocess.TimeoutExpired:
    proc.kill()
    out, err = proc.communicate()
    timed_out = True
  measured, ok = [], True
  for line in out.splitlines():
    try:
      record = json.loads(line)
    except json.JSONDecodeError:
      continue
    measured.append(record.get('num_seeds'))
    ok = ok and record.get('name') == 'throughput'
    emit(record)
  if proc.returncode == 0 and not timed_out:
    return ok
  emit({'name': 'throughput_failed', 'form': form.name,
        'flags': form.xla_flags, 'config': dict(form.config),
        'num_seeds': [n for n in form.num_seeds if n not in measured],
        'returncode': proc.returncode, 'timed_out': timed_out,
        'seconds': round(time.perf_counter() - start, 1),
        'error': _stderr_tail(err)})
  return False


def run_forms(forms: Sequence[Form], *, budget_s: float, form_timeout_s: float,
              worker_args: Sequence[str],
              emit: Callable[[Mapping[str, Any]], None] = emit_json) -> None:
  """``run_form`` for each form in order, within ``budget_s`` seconds."""
  start = time.perf_counter()
  failed, skipped = [], []
  for form in forms:
    left = budget_s - (time.perf_counter() - start)
    if left < 1:
      skipped.append(form.name)
      emit({'name': 'throughput_skipped', 'form': form.name,
            'flags': form.xla_flags, 'reason': f'budget of {budget_s} s'})
      continue
    if not run_form(form, timeout_s=min(form_timeout_s, left),
                    worker_args=worker_args, emit=emit):
      failed.append(form.name)
  emit({'name': 'throughput_done',
        'seconds': round(time.perf_counter() - start, 1),
        'forms': [f.name for f in forms], 'failed': failed,
        'skipped': skipped})


def cost_analysis(config: ml_collections.ConfigDict) -> dict[str, float]:
  """XLA's cost analysis of one train-loop step of ``config``, per seed.

  Compiles the runner's chunk of one step (no loop, so everything is
  counted once) for the config's number of vmapped seeds, on abstract
  parameters (nothing runs), and divides by the number of seeds.
  """
  run = _run(config)
  keys = run.seed_keys(run.config.seed)
  chunk = run.compiled(1, run.abstract_state(keys), keys, None)
  return _per_seed_step(chunk.cost_analysis(), run.num_seeds)


def print_cost_analysis(*, batch: int, smoke: bool,
                        emit: Callable[[Mapping[str, Any]], None] = emit_json,
                        seeds: Sequence[int] = COST_SEEDS) -> None:
  """One ``cost_analysis`` record per ``COST_FORMS`` form and seed count."""
  for name, overrides in COST_FORMS:
    for num_seeds in seeds:
      config = form_config('beta_vae', overrides, num_seeds=num_seeds,
                           batch=batch, smoke=smoke)
      start = time.perf_counter()
      cost = cost_analysis(config)
      emit({'name': 'cost_analysis', 'form': name, 'num_seeds': num_seeds,
            **cost, 'seconds': round(time.perf_counter() - start, 1),
            'model': config.model.name, 'dataset': config.data.name,
            'batch': config.train.batch_size,
            'backend': jax.default_backend()})


def select_forms(names: Sequence[str],
                 num_seeds: Sequence[int] = ()) -> list[Form]:
  """The named ``FORMS`` in that order (``['all']``: all of them), with
  ``num_seeds`` replacing theirs if given.

  Raises:
    ValueError: an unknown name.
  """
  table = {f.name: f for f in FORMS}
  if list(names) == ['all']:
    names = list(table)
  unknown = [n for n in names if n not in table]
  if unknown:
    raise ValueError(f'unknown forms {unknown}; valid: {", ".join(table)}')
  forms = [table[n] for n in names]
  if num_seeds:
    forms = [dataclasses.replace(f, num_seeds=tuple(num_seeds))
             for f in forms]
  return forms
