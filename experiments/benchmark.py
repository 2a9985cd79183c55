r"""Benchmarks the training step and dataset rendering; one JSON line each.

  python -m experiments.benchmark --torch_python=/work/torch-ref/bin/python

Measurements (median over ``--repeats`` timings of ``--steps`` calls each,
after warm-up; every call is blocked on):
- ``train_step``: the step of ``disent_bias.training.setup.build`` (beta-VAE, dSprites preset,
  batch 64, 64x64x1, Adam) jitted alone, on a batch rendered beforehand;
- ``train_step_with_render``: the same step with the batch rendered on the
  device inside the jitted function from sampled factors (as the train loop
  does);
- ``train_step_scan`` (``--scan_steps=N``): the same step applied N times
  to the same pre-rendered batch inside one jitted ``lax.scan`` (ms per
  step); the difference to ``train_step`` is the per-call cost (dispatch,
  allocation of the step's buffers, donation), not the network;
- ``train_step_flax_conv`` (``--flax_conv``): the same step with the network's
  plain Flax ``Conv``/``ConvTranspose`` layers (identical function);
- ``train_loop`` (``--loop_seeds=1,10``): the train loop's compiled chunk
  (``runner.Run``: ``--loop_steps`` steps per call through ``lax.scan``,
  batches rendered inside, seeds vmapped) of beta-VAE on dSprites, per number
  of seeds; reports ``steps_per_second`` (of the whole vmapped set) and
  ``seed_steps_per_second`` (times the number of seeds)
  (``experiments.throughput_lib.measure_loop``; ``experiments.throughput``
  measures the loop's forms: bfloat16, XLA flags, one process each);
- ``render``: rendering a batch of 64 for dsprites and shapes3d;
- ``torch_reference`` (``--torch_python``): the PyTorch step of
  ``shared/bench/torch_reference_step.py`` run in a subprocess, and
  ``ratio``: ``jax_over_torch`` = ``train_step`` ms / torch ms, and
  ``loop_over_torch`` = ms per step of the train loop's chunk (one seed,
  ``--loop_steps`` steps per call, rendering included: the step as training
  runs it) / torch ms. ``--rounds`` alternates the jax and torch
  measurements to share the CPU load fairly; the ratios use medians.
"""

import json
import os
import statistics
import subprocess
import sys
import time

from absl import app
from absl import flags
import jax

from disent_bias import data as data_lib
from disent_bias.data import samplers
from disent_bias.training import configuration
from disent_bias.training import setup as setup_lib
from disent_bias.utils import provenance
from experiments import throughput_lib
from disent_bias.configs import default

_BATCH = flags.DEFINE_integer('batch', 64, 'Batch size.')
_STEPS = flags.DEFINE_integer('steps', 20, 'Calls per timing.')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Timings per measurement.')
_ROUNDS = flags.DEFINE_integer('rounds', 1, 'Alternating jax/torch rounds.')
_TORCH = flags.DEFINE_string(
    'torch_python', None, 'Python interpreter with torch; runs the PyTorch '
    'reference step in a subprocess in the same run.')
_TORCH_SCRIPT = flags.DEFINE_string(
    'torch_script',
    os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'bench',
                 'torch_reference_step.py'),
    'Path of torch_reference_step.py.')
_TORCH_THREADS = flags.DEFINE_integer(
    'torch_threads', None, 'OMP_NUM_THREADS for the PyTorch subprocess '
    '(default: torch decides). Pair 1 with XLA_FLAGS='
    '"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" '
    'for a single-threaded comparison.')
_FLAX_CONV = flags.DEFINE_bool('flax_conv', False, 'Also time the plain Flax '
                               'conv layers.')
_RENDER = flags.DEFINE_bool('render', True, 'Time dataset rendering.')
_LOOP_SEEDS = flags.DEFINE_list(
    'loop_seeds', [], 'Numbers of vmapped seeds for which to time the train '
    "loop's compiled chunk, e.g. 1,10 (empty: skip).")
_LOOP_STEPS = flags.DEFINE_integer('loop_steps', 10, 'Steps per chunk call '
                                   'of the train_loop measurement.')
_SCAN_STEPS = flags.DEFINE_integer(
    'scan_steps', 0, 'Steps per call of the train_step_scan measurement '
    '(0: skip).')
_CONV_IMPL = flags.DEFINE_enum(
    'conv_impl', 'matmul', ['matmul', 'native'],
    'Conv layers of the train_loop measurement (config.model.conv_impl).')


def _time(fn, *, steps, repeats):
  """Median ms per call of ``fn()`` (which must block) and all timings."""
  for _ in range(2):
    fn()
  timings = []
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(steps):
      fn()
    timings.append((time.perf_counter() - start) / steps * 1e3)
  return statistics.median(timings), timings


def _emit(record):
  print(json.dumps(record), flush=True)


def _setup(config):
  """``setup.build`` of the resolved config, and its dataset."""
  dataset = data_lib.load_config(config.data)
  config = configuration.resolve_config(config, dataset)
  return setup_lib.build(config, dataset), dataset


def _step_setup(fast_conv: bool, batch_size: int):
  """Jitted step functions of beta-VAE on dSprites, and their inputs."""
  config = default.get_config('model=beta_vae,dataset=dsprites')
  config.train.batch_size = batch_size
  config.model.conv_impl = 'matmul' if fast_conv else 'native'
  setup, dataset = _setup(config)
  state = setup.init_state(jax.random.key(0))
  step = setup.train_step
  step_key, data_key = jax.random.split(jax.random.key(1))

  def render(key):
    factors = samplers.uniform_factors(key, dataset.factor_sizes, batch_size)
    return {'image': dataset.render(factors)}

  def step_with_render(state, key):
    return step(state, render(jax.random.fold_in(key, state.step)), step_key)

  def step_scan(state, batch, key):
    return jax.lax.scan(lambda s, _: step(s, batch, key), state, None,
                        length=max(_SCAN_STEPS.value, 1))

  batch = jax.jit(render)(data_key)
  return (jax.jit(step, donate_argnums=0), jax.jit(step_with_render,
                                                   donate_argnums=0),
          jax.jit(step_scan, donate_argnums=0),
          state, batch, step_key, data_key, config)


def _bench_steps(fast_conv, name, with_render):
  (step, step_render, step_scan, state, batch, step_key, data_key,
   config) = _step_setup(fast_conv, _BATCH.value)
  holder = [state]

  def run_step():
    holder[0], metrics = step(holder[0], batch, step_key)
    jax.block_until_ready(metrics['loss'])

  def run_step_render():
    holder[0], metrics = step_render(holder[0], data_key)
    jax.block_until_ready(metrics['loss'])

  def run_step_scan():
    holder[0], metrics = step_scan(holder[0], batch, step_key)
    jax.block_until_ready(metrics['loss'])

  out = {}
  scan = _SCAN_STEPS.value if name == 'train_step' else 0
  for label, fn in ((name, run_step),
                    (f'{name}_with_render', run_step_render),
                    (f'{name}_scan', run_step_scan)):
    if label.endswith('_with_render') and not with_render:
      continue
    if label.endswith('_scan') and not (scan and with_render):
      continue
    if label.endswith('_scan'):
      ms, timings = _time(fn, steps=1, repeats=_REPEATS.value)
      ms, timings = ms / scan, [t / scan for t in timings]
    else:
      ms, timings = _time(fn, steps=_STEPS.value, repeats=_REPEATS.value)
    out[label] = ms
    _emit({'name': label, 'ms_per_step': round(ms, 2),
           'timings_ms': [round(t, 2) for t in timings],
           'model': config.model.name, 'dataset': config.data.name,
           'batch': _BATCH.value, 'fast_conv': fast_conv,
           'backend': jax.default_backend(),
           'device': str(jax.devices()[0])})
  return out


def _bench_loop(num_seeds: int):
  config = default.get_config('model=beta_vae,dataset=dsprites')
  config.train.batch_size = _BATCH.value
  config.train.num_seeds = num_seeds
  config.model.conv_impl = _CONV_IMPL.value
  record = throughput_lib.measure_loop(
      config, steps_per_call=_LOOP_STEPS.value, repeats=_REPEATS.value,
      warmup=2)
  _emit({'name': 'train_loop', **record})
  return record['ms_per_step']


def _bench_render():
  for name in ('dsprites', 'shapes3d'):
    dataset = data_lib.load(name)
    fn = jax.jit(lambda key, ds=dataset: ds.render(
        samplers.uniform_factors(key, ds.factor_sizes, _BATCH.value)))
    key = jax.random.key(0)
    ms, timings = _time(lambda: jax.block_until_ready(fn(key)),
                        steps=_STEPS.value, repeats=_REPEATS.value)
    _emit({'name': 'render', 'dataset': name, 'batch': _BATCH.value,
           'ms_per_batch': round(ms, 3),
           'timings_ms': [round(t, 3) for t in timings],
           'observation_shape': list(dataset.observation_shape)})


def _torch_reference():
  cmd = [_TORCH.value, _TORCH_SCRIPT.value, '--batch', str(_BATCH.value),
         '--channels', '1', '--steps', str(_STEPS.value), '--repeats',
         str(_REPEATS.value)]
  env = dict(os.environ)
  if _TORCH_THREADS.value:
    env['OMP_NUM_THREADS'] = str(_TORCH_THREADS.value)
  result = subprocess.run(cmd, check=True, capture_output=True, text=True,
                          env=env)
  record = json.loads(result.stdout.strip().splitlines()[-1])
  record['name'] = 'torch_reference'
  _emit(record)
  return record['ms_per_step']


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}')
  _emit({'name': 'machine', **provenance.cpu(),
         'jax': jax.__version__})
  jax_ms, torch_ms, loop_ms = [], [], []
  for r in range(_ROUNDS.value):
    jax_ms.append(_bench_steps(True, 'train_step', with_render=r == 0)[
        'train_step'])
    if _TORCH.value:
      # The step as the train loop runs it (one seed, --loop_steps per call,
      # rendering included), in the same alternation.
      loop_ms.append(_bench_loop(1))
      torch_ms.append(_torch_reference())
  if _FLAX_CONV.value:
    _bench_steps(False, 'train_step_flax_conv', with_render=False)
  for num_seeds in _LOOP_SEEDS.value:
    _bench_loop(int(num_seeds))
  if _RENDER.value:
    _bench_render()
  if torch_ms:
    jax_med, torch_med = statistics.median(jax_ms), statistics.median(torch_ms)
    _emit({'name': 'ratio', 'jax_ms': round(jax_med, 2),
           'torch_ms': round(torch_med, 2),
           'jax_over_torch': round(jax_med / torch_med, 3),
           'rounds': _ROUNDS.value, 'jax_rounds_ms': [round(x, 2) for x in
                                                     jax_ms],
           'torch_rounds_ms': torch_ms,
           'loop_ms': round(statistics.median(loop_ms), 2),
           'loop_over_torch': round(statistics.median(loop_ms) / torch_med, 3),
           'loop_rounds_ms': [round(x, 2) for x in loop_ms],
           'loop_steps': _LOOP_STEPS.value, 'cpu_model': provenance.cpu()[
               'cpu_model']})


if __name__ == '__main__':
  sys.exit(app.run(main))
