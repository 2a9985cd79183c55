#!/usr/bin/env bash
# One accelerator allocation: optionally the step benchmark, then the next
# units of a reproduction protocol (experiments/job.py), everything packed
# into at most 8 files under OUT_DIR (at most one folder down).
#
#   bash experiments/accelerator_job.sh OUT_DIR [BUDGET_SECONDS] [PRESET]
#
# BUDGET_SECONDS (default 570) bounds the whole script: the job gets what
# the benchmark leaves, less 10 s. PRESET: a preset of
# experiments/configs/reproduce.py with a job section (default paper_core).
# BENCH_SECONDS=N (default 0: none) runs the benchmark first for at most N s
# with BENCH_ARGS. DISENT_BIAS_COMMIT names the commit of a tree copied
# without .git. Wheels of missing packages (ml-collections) go in .whl/
# (docs/gpu.md). Files: env.txt, bench.jsonl, bench.log, job.err (the
# job's stderr, tail), job/job.json, job/job.log, job/part-*.zip.
set -uo pipefail
out=${1:?usage: accelerator_job.sh OUT_DIR [BUDGET_SECONDS] [PRESET]}
budget=${2:-570}
preset=${3:-paper_core}
bench_seconds=${BENCH_SECONDS:-0}
bench_args=${BENCH_ARGS:---steps 20 --repeats 3 --loop_seeds=1,10,30 --loop_steps=500 --norender}
t0=$(date +%s)
left() { echo $(( budget - ($(date +%s) - t0) )); }
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
cd "$(dirname "$0")/.."
mkdir -p "$out"

{ nvidia-smi -L 2>/dev/null; lscpu | grep 'Model name'; \
  python3 -c 'import jax, flax, optax; print("jax", jax.__version__, "flax", flax.__version__, "optax", optax.__version__, jax.devices())'; \
  echo "commit ${DISENT_BIAS_COMMIT:-unknown}"; } > "$out/env.txt" 2>&1
cat "$out/env.txt"

if [ "$bench_seconds" -gt 0 ]; then
  echo "== benchmark (at most ${bench_seconds} s; $(left) s left)"
  # The benchmark imports ml_collections too: set up the wheels first.
  python3 -c 'from experiments import bootstrap; bootstrap.ensure_packages()'
  timeout "$bench_seconds" python3 -m experiments.benchmark $bench_args \
    > "$out/bench.jsonl" 2> "$out/bench.log"
  echo "benchmark exit $?"; cat "$out/bench.jsonl"
fi

job_budget=$(( $(left) - 10 ))
echo "== job: ${preset}, budget ${job_budget} s"
timeout $(( job_budget + 5 )) python3 -m experiments.job \
  --config="experiments/configs/reproduce.py:${preset}" --out="$out/job" \
  --budget_s="$job_budget" 2>&1 | tail -c 4000000 > "$out/job.err"
echo "job exit ${PIPESTATUS[0]}"
cat "$out/job/job.log" 2>/dev/null
echo "done in $(( $(date +%s) - t0 )) s"
