#!/usr/bin/env bash
# One accelerator allocation: the next units of a reproduction protocol
# (experiments/job.py), then optionally the train-loop throughput of each
# step form (experiments/throughput.py) with the time left, everything under
# OUT_DIR in at most 7 files (at most one folder down).
#
#   bash experiments/accelerator_job.sh OUT_DIR [BUDGET_SECONDS] [PRESET]
#
# BUDGET_SECONDS (default 570) bounds the whole script. PRESET: a preset of
# experiments/configs/reproduce.py with a job section (default paper_core).
# JOB_SECONDS (default: all of the budget) is the job's --budget_s; the job
# starts a unit only if its estimate fits, and is stopped 60 s after its
# budget; JOB_ARGS are more flags of the job (after --config, e.g.
# --config.job.overhead_seconds=45). THROUGHPUT=1 then measures the forms (THROUGHPUT_ARGS, default
# experiments.throughput's) with the time left. DISENT_BIAS_COMMIT names the
# commit of a tree copied without .git. Wheels of missing packages
# (ml-collections) go in .whl/ (docs/gpu.md). Files: env.txt, job.err (the
# job's stderr, its tail), job/job.json, job/job.log, job/part-*.zip,
# throughput.jsonl, throughput.log.
set -uo pipefail
out=${1:?usage: accelerator_job.sh OUT_DIR [BUDGET_SECONDS] [PRESET]}
budget=${2:-570}
preset=${3:-paper_core}
t0=$(date +%s)
left() { echo $(( budget - ($(date +%s) - t0) )); }
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
cd "$(dirname "$0")/.."
mkdir -p "$out"

{ nvidia-smi -L 2>/dev/null; lscpu | grep 'Model name'; \
  python3 -c 'import jax, flax, optax; print("jax", jax.__version__, "flax", flax.__version__, "optax", optax.__version__, jax.devices())'; \
  echo "commit ${DISENT_BIAS_COMMIT:-unknown}"; } > "$out/env.txt" 2>&1
cat "$out/env.txt"

job_budget=${JOB_SECONDS:-$(( $(left) - 10 ))}
echo "== job: ${preset}, budget ${job_budget} s"
timeout $(( job_budget + 60 )) python3 -m experiments.job \
  --config="experiments/configs/reproduce.py:${preset}" ${JOB_ARGS:-} \
  --out="$out/job" --budget_s="$job_budget" 2>&1 | tail -c 4000000 > "$out/job.err"
echo "job exit ${PIPESTATUS[0]} after $(( $(date +%s) - t0 )) s"
cat "$out/job/job.log" 2>/dev/null

if [ "${THROUGHPUT:-0}" = 1 ] && [ "$(left)" -gt 30 ]; then
  echo "== throughput ($(left) s left)"
  # experiments.throughput imports ml_collections too: wheels first.
  python3 -c 'from experiments import bootstrap; bootstrap.ensure_packages()'
  export PYTHONPATH="$PWD/.whl/site${PYTHONPATH:+:$PYTHONPATH}"
  python3 -m experiments.throughput ${THROUGHPUT_ARGS:-} \
    --budget_s=$(( $(left) - 15 )) > "$out/throughput.jsonl" \
    2> >(tail -c 2000000 > "$out/throughput.log")
  echo "throughput exit $?"; cat "$out/throughput.jsonl"
fi
echo "done in $(( $(date +%s) - t0 )) s"
