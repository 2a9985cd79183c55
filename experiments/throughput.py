r"""Train-loop throughput of each form, and XLA's cost analysis of the step.

Throughput, in one accelerator run (one JSON line per measurement; the
default forms take about 150 s on an H200, all nine about 300 s, see
docs/performance.md):

  python -m experiments.throughput > throughput.jsonl
  python -m experiments.throughput --forms=all --budget_s=330 > all.jsonl

A form (``throughput_lib.FORMS``) is a config change (bfloat16 compute,
another objective) and/or XLA flags. XLA reads ``XLA_FLAGS`` once, when the backend starts, so
each form runs in its own subprocess (``XLA_FLAGS`` of the environment plus
the form's). The subprocess times the train loop's compiled chunk
(``runner.Run``: ``--steps_per_call`` steps per call through ``lax.scan``,
batches rendered inside, seeds vmapped) of beta-VAE on dSprites, batch 64,
for each of the form's numbers of seeds: ``--warmup`` untimed calls, then
``--repeats`` timed calls; the record has the median. A form that fails (an
unknown XLA flag, out of memory, a crash) or runs past ``--form_timeout_s``
is reported as ``{"name": "throughput_failed", ...}`` with the end of its
stderr, and the next form runs; its measurements made before the failure
are kept. Forms that would start after ``--budget_s`` seconds are reported
as ``throughput_skipped``. The parent process never starts a JAX backend,
so every subprocess has the accelerator to itself.

Records (``name``): ``machine`` (the host), ``throughput`` (``form``,
``flags``, ``num_seeds``, ``seed_steps_per_second``, ``compile_seconds``,
``device`` ...), ``throughput_failed``, ``throughput_skipped`` and
``throughput_done`` (the total time).

The forms, the measurement and the subprocess driver are in
``experiments.throughput_lib``.

Cost analysis on the CPU (XLA's FLOPs and bytes accessed per seed-step of
the compiled train step, for matmul and native convolutions in float32 and
matmul convolutions in bfloat16, 1 and 10 vmapped seeds; under a minute of
compilation on 2 cores):

  JAX_PLATFORMS=cpu python -m experiments.throughput --cost_analysis
"""

from __future__ import annotations

import os
from typing import Sequence

from absl import app
from absl import flags
import jax

from disent_bias.utils import provenance
from experiments import throughput_lib as lib

_FORMS = flags.DEFINE_list(
    'forms', list(lib.DEFAULT_FORMS), 'Forms to measure, in order, or '
    '"all"; valid: ' + ', '.join(f.name for f in lib.FORMS) + '.')
_NUM_SEEDS = flags.DEFINE_list(
    'num_seeds', [], "Replaces every form's numbers of seeds (e.g. 2 for a "
    "smoke run); empty: the forms' own.")
_STEPS_PER_CALL = flags.DEFINE_integer('steps_per_call', 500,
                                       'Train steps per chunk call.')
_REPEATS = flags.DEFINE_integer('repeats', 3, 'Timed calls per measurement.')
_WARMUP = flags.DEFINE_integer('warmup', 1, 'Untimed calls after compiling.')
_BATCH = flags.DEFINE_integer('batch', 64, 'Batch size.')
_BUDGET_S = flags.DEFINE_float(
    'budget_s', 150.0, 'Total seconds: forms that would start later are '
    'skipped, and a running form is stopped at the budget.')
_FORM_TIMEOUT_S = flags.DEFINE_float('form_timeout_s', 90.0,
                                     'Seconds one form may run.')
_SMOKE = flags.DEFINE_bool(
    'smoke', False, 'Tiny settings for tests: the synthetic_linear data set '
    'with the MLP network (16 units), batch 8.')
_COST_ANALYSIS = flags.DEFINE_bool(
    'cost_analysis', False, "Print XLA's cost analysis per seed-step of "
    'each COST_FORMS form instead of timing.')
_WORKER = flags.DEFINE_string('worker', None, 'Internal: measure this form '
                              '(Form.to_json) in this process.')


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f'Too many command-line arguments: {argv[1:]}')
  measure = dict(steps_per_call=_STEPS_PER_CALL.value,
                 repeats=_REPEATS.value, warmup=_WARMUP.value,
                 batch=_BATCH.value, smoke=_SMOKE.value)
  if _WORKER.value:
    lib.run_worker(lib.Form.from_json(_WORKER.value), **measure)
    return
  try:
    forms = lib.select_forms(_FORMS.value, [int(n) for n in _NUM_SEEDS.value])
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  # No backend starts in this process: the forms' subprocesses each have
  # the accelerator to themselves.
  lib.emit_json({'name': 'machine', **provenance.cpu(),
                 'jax': jax.__version__,
                 'xla_flags': os.environ.get('XLA_FLAGS', '')})
  if _COST_ANALYSIS.value:
    lib.print_cost_analysis(batch=_BATCH.value, smoke=_SMOKE.value)
    return
  worker_args = [f'--{k}={v}' for k, v in measure.items()]
  lib.run_forms(forms, budget_s=_BUDGET_S.value,
                form_timeout_s=_FORM_TIMEOUT_S.value, worker_args=worker_args)


if __name__ == '__main__':
  app.run(main)
