#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Re-runs every experiment behind experiments/RESULTS.md on the demo suite (encode, decode,
# increment) as seed groups (default seeds 0-4, two at a time), then writes RESULTS.md:
#   sensitivity checks (baseline gain, LoRA rank 1 vs 16, one LoRA vs LoRA-MoE, lower vs upper
#   layers), the papers' comparisons (MoLA 2468/8642/uniform/LoRA at equal parameters, GuiLoMo
#   search -> retrain vs MoLA, DR-LoRA vs uniform rank vs static frequency at equal budget) and
#   single-task GuiLoMo searches, AlphaLoRA vs MoLA and IncreLoRA vs LoRA. Groups already
#   complete in the workspace are skipped, so an interrupted call can simply be repeated.
# Usage: experiments/run_all.sh [WORKSPACE_DIR]   (default: results-workspace/; build first)
# Environment: AP_SEEDS (default 0-4), AP_PARALLEL (default 2), AP_THREADS (default 1 per run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ws=${1:-$root/results-workspace}
db=$ws/workspace.sqlite
bin=${AP_BUILD_DIR:-$root/build}/bin
seeds=${AP_SEEDS:-0-4}
parallel=${AP_PARALLEL:-2}
threads=${AP_THREADS:-1}
"$root/experiments/install_backbones.sh" "$ws"

source "$root/experiments/seed_groups.sh"

# The papers' comparisons (and the mixture check: lora vs moe-uniform at equal parameters).
group lora lora.json
group moe-uniform moe-uniform.json
group mola-2468 mola-2468.json
group mola-8642 mola-8642.json
group guilomo guilomo.json
group drlora-uniform drlora-uniform.json
group drlora-static drlora-static.json
group drlora drlora.json
# The methods added through the method seam: AlphaLoRA (MoLA 2468's 20 experts by spectrum) and
# IncreLoRA (plain LoRA growing to lora.json's rank budget).
group alphalora alphalora.json
group increlora increlora.json
# Capacity: LoRA rank 1 vs rank 16, everything else equal (alpha/r = 2 in both).
group lora-r1 lora.json --set adapters.r=1 --set adapters.lora_alpha=2
group lora-r16 lora.json --set adapters.r=16 --set adapters.lora_alpha=32
# The same check with the adapter confined to part of each block, where one rank is a real limit:
# the FFN projections only, or the attention value/output projections only.
group lora-ffn-r1 lora.json --set adapters.r=1 --set adapters.lora_alpha=2 \
  --set 'adapters.target_modules=["gate_proj","up_proj","down_proj"]'
group lora-ffn-r16 lora.json --set adapters.r=16 --set adapters.lora_alpha=32 \
  --set 'adapters.target_modules=["gate_proj","up_proj","down_proj"]'
group lora-vo-r1 lora.json --set adapters.r=1 --set adapters.lora_alpha=2 \
  --set 'adapters.target_modules=["v_proj","o_proj"]'
group lora-vo-r16 lora.json --set adapters.r=16 --set adapters.lora_alpha=32 \
  --set 'adapters.target_modules=["v_proj","o_proj"]'
# Depth: LoRA r=8 on the lower two or the upper two of the four layers only.
group lora-lower lora.json --set adapters.r=8 --set adapters.lora_alpha=16 \
  --set 'adapters.layers_to_transform=[0,1]'
group lora-upper lora.json --set adapters.r=8 --set adapters.lora_alpha=16 \
  --set 'adapters.layers_to_transform=[2,3]'
# The same two checks on the sparse-MoE backbone, LoRA on its routed experts' FFN projections
# (the DR-LoRA uniform-rank preset; preset r = 8, alpha/r = 2).
group moe-lora-r1 drlora-uniform.json --set adapters.r=1 --set adapters.lora_alpha=2
group moe-lora-r16 drlora-uniform.json --set adapters.r=16 --set adapters.lora_alpha=32
group moe-lora-lower drlora-uniform.json --set 'adapters.layers_to_transform=[0,1]'
group moe-lora-upper drlora-uniform.json --set 'adapters.layers_to_transform=[2,3]'
# GuiLoMo searches on one task each (do the found allocations differ by task?).
for task in encode decode increment; do
  group "guilomo-search-$task" guilomo.json --set allocation.guilomo.stage=search \
    --set "data.tasks=[\"$task\"]"
done
python3 "$root/experiments/make_results.py" "$db" "$root/experiments/RESULTS.md" "$bin/apportion"
echo "wrote $root/experiments/RESULTS.md"
