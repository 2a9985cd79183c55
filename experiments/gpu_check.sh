#!/usr/bin/env bash
# Accelerator check in one bounded run: the train-step benchmark (1, 10, 32
# vmapped seeds) and the paper-protocol cell of beta-VAE on dSprites
# (original and perturbed, 300k steps, batch 64, the conv network), each
# variant in its own process on the same accelerator, then MIG at
# disentanglement_lib's sizes on the newest checkpoint.
#
#   bash experiments/gpu_check.sh OUT_DIR [BUDGET_SECONDS] [NUM_SEEDS]
#
# SKIP_BENCH=1 skips the benchmark (about 100 s on an H200). On an H200 one
# seed per variant needs about 400 s of training for the full 300k steps with
# both variants sharing the GPU (1,590 steps/s for one process alone), so
# `SKIP_BENCH=1 bash experiments/gpu_check.sh OUT 560 1` fits one call.
#
# Training stops at the budget if 300k steps do not fit; the step reached is
# in OUT_DIR/<variant>_metrics.jsonl and eval.json (rerunning resumes from
# the last checkpoint). Everything written goes to OUT_DIR (flat).
set -uo pipefail
out=${1:?usage: gpu_check.sh OUT_DIR [BUDGET_SECONDS] [NUM_SEEDS]}
budget=${2:-540}
seeds=${3:-1}
steps=${STEPS:-300000}
bench_flags=${BENCH_FLAGS:---steps 50 --repeats 5 --flax_conv --loop_seeds=1,10,32 --loop_steps=500}
mkdir -p "$out"
t0=$(date +%s)
left() { echo $(( budget - ($(date +%s) - t0) )); }
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
work=${WORK_DIR:-/tmp/gpu_check}
mkdir -p "$work"

{ nvidia-smi -L; python3 -c 'import jax, flax, optax; print("jax", jax.__version__, "flax", flax.__version__, "optax", optax.__version__, jax.devices())'; } \
  > "$out/env.txt" 2>&1
cat "$out/env.txt"

if [ "${SKIP_BENCH:-0}" != 1 ]; then
  echo "== benchmark ($(left) s left)"
  timeout 200 python3 -m experiments.benchmark $bench_flags \
    > "$out/bench.jsonl" 2> "$out/bench.log"
  echo "benchmark exit $?"; cat "$out/bench.jsonl"
fi

train_for=$(( $(left) - 100 ))
echo "== paper cell: ${train_for} s of training, ${seeds} seed(s) per variant"
for v in original perturbed; do
  timeout "$train_for" python3 -m experiments.train \
    --config=experiments/configs/default.py:model=beta_vae,dataset=dsprites,variant=$v \
    --workdir="$work/$v" --config.train.num_steps="$steps" \
    --config.train.num_seeds="$seeds" --config.train.steps_per_call=1000 \
    --config.log_every_steps=${LOG_EVERY:-10000} --config.eval_every_steps=100000 \
    --config.checkpoint_every_steps=${CKPT_EVERY:-20000} --config.metrics.names=mig \
    > "$out/${v}_train.log" 2>&1 &
done
wait
for v in original perturbed; do
  cp "$work/$v/metrics.jsonl" "$out/${v}_metrics.jsonl" 2>/dev/null
  tail -n 3 "$out/${v}_train.log"
done

echo "== MIG on the newest checkpoints ($(left) s left)"
for v in original perturbed; do
  if [ -f "$work/$v/results.json" ]; then
    cp "$work/$v/results.json" "$out/${v}_results.json"
  else
    timeout $(( $(left) - 5 )) python3 -m experiments.evaluate \
      --workdir="$work/$v" --metrics=mig > "$out/${v}_eval.log" 2>&1 &
  fi
done
wait
for v in original perturbed; do
  cp "$work/$v/eval.json" "$out/${v}_eval.json" 2>/dev/null
done
echo "done in $(( $(date +%s) - t0 )) s"
