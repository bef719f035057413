#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Re-runs every method preset on the tiny backbones (dense and sparse-MoE) into one workspace and
# writes the results table to experiments/RESULTS.md. Pretrains the backbones first when the
# workspace lacks them. Also runs the GuiLoMo search alone on single tasks, to see whether the
# found allocations differ across tasks, and repeats the key comparisons with seeds 1 and 2.
# Usage: experiments/run_all.sh [WORKSPACE_DIR]
# (default: results-workspace/ in the repository; build first with packaging/build.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ws=${1:-$root/results-workspace}
db=$ws/workspace.sqlite
bin=${AP_BUILD_DIR:-$root/build}/bin
threads=${AP_THREADS:+--threads $AP_THREADS}  # e.g. AP_THREADS=1 for one core per run
mkdir -p "$ws"
[ -f "$ws/backbones/tiny-llama/model.safetensors" ] ||
  "$bin/apportion" pretrain "$root/experiments/pretrain-tiny.json" --db "$db" --progress none $threads
[ -f "$ws/backbones/tiny-mixtral/model.safetensors" ] ||
  "$bin/apportion" pretrain "$root/experiments/pretrain-tiny-moe.json" --db "$db" --progress none $threads
for preset in lora moe-uniform mola-2468 mola-8642 guilomo guilomo-budget \
              drlora-uniform drlora-static drlora; do
  echo "== $preset"
  "$bin/apportion" train "$root/experiments/$preset.json" --db "$db" --name "$preset" $threads \
    --progress none
done
# Seed repeats of the comparisons the findings rest on (seed 0 is the run above).
for seed in 1 2; do
  for preset in moe-uniform mola-2468 mola-8642 guilomo drlora-uniform drlora-static drlora; do
    echo "== $preset, seed $seed"
    "$bin/apportion" train "$root/experiments/$preset.json" --db "$db" --name "$preset-s$seed" \
      --set seed=$seed $threads --progress none
  done
done
for task in lookup arithmetic facts; do
  echo "== guilomo search on $task only"
  "$bin/apportion" train "$root/experiments/guilomo.json" --db "$db" \
    --name "guilomo-search-$task" --progress none $threads \
    --set allocation.guilomo.stage=search --set "data.tasks=[\"$task\"]"
done
# The GSVs move slowly at the reference's α learning rate (3e-3) in 100 steps: a longer, faster
# search (300 steps, α lr 3e-2) as a pipeline and on single tasks, to see whether allocations
# then differ across tasks.
echo "== guilomo-long (300-step search, alpha_lr 0.03)"
"$bin/apportion" train "$root/experiments/guilomo.json" --db "$db" --name "guilomo-long" \
  --progress none $threads --set allocation.guilomo.search_steps=300 \
  --set allocation.guilomo.alpha_lr=0.03
for task in lookup arithmetic facts; do
  echo "== guilomo-long search on $task only"
  "$bin/apportion" train "$root/experiments/guilomo.json" --db "$db" \
    --name "guilomo-long-search-$task" --progress none $threads \
    --set allocation.guilomo.stage=search --set "data.tasks=[\"$task\"]" \
    --set allocation.guilomo.search_steps=300 \
    --set allocation.guilomo.alpha_lr=0.03
done
python3 "$root/experiments/make_results.py" "$db" "$root/experiments/RESULTS.md"
echo "wrote $root/experiments/RESULTS.md"
