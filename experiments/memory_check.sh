#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Compares the peak-memory estimate (`apportion train --dry-run`, core/estimate) with the peak
# resident set a real CPU run records (perf/peak_memory_mb), on a randomly initialised LLaMA of
# 4 layers × 512 hidden (MLP 1376, 8 heads, byte vocabulary) trained on 256-token rows, batch 8,
# for LoRA and LoRA-MoE, float32 and bfloat16, with and without gradient checkpointing. Each
# config runs twice: as is, and with glibc's mmap threshold fixed (MALLOC_MMAP_THRESHOLD_, so
# freed tensors go back to the system and the resident peak approaches the peak of live
# tensors, which is what the estimate models). The "as is" run uses glibc's default malloc
# (APPORTION_MALLOC=system; apportion's own "keep" policy, core/common/malloc_policy.h, holds
# even more resident). Prints a Markdown table (docs/PERFORMANCE.md
# holds the figures). 3 steps per run; about 15 minutes on 2 cores.
# Usage: experiments/memory_check.sh   (build first; AP_BUILD_DIR picks the build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
app=${AP_BUILD_DIR:-$root/build}/bin/apportion
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT
db=$ws/workspace.sqlite

python3 - "$ws" <<'PY'
import json, random, sys
ws = sys.argv[1]
random.seed(0)
letters = "abcdefghijklmnopqrstuvwxyz "
with open(f"{ws}/long.jsonl", "w") as f:
    for _ in range(64):  # rows far longer than the cutoff: every batch is 256 tokens wide
        f.write(json.dumps({"instruction": "".join(random.choice(letters) for _ in range(300)),
                            "input": "", "output": "abc"}) + "\n")
backbone = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 512,
            "intermediate_size": 1376, "num_hidden_layers": 4, "num_attention_heads": 8,
            "num_key_value_heads": 8, "vocab_size": 260, "max_position_embeddings": 512,
            "bos_token_id": 257, "eos_token_id": 258, "pad_token_id": 256,
            "apportion_tokenizer": "byte"}
for method in ["lora", "moe_lora"]:
    cfg = {"name": f"mem-{method}", "backbone": {"config": backbone},
           "adapters": {"method": method, "r": 8, "lora_alpha": 16, "num_experts": 4, "top_k": 2},
           "allocation": {"method": "uniform"},
           "data": {"suite": "jsonl", "train_file": "long.jsonl", "eval_examples": 8,
                    "max_seq_len": 256, "train_on_inputs": True},
           "train": {"steps": 3, "micro_batch_size": 8, "eval_every": 3, "log_every": 1,
                     "checkpoint_every": 3, "warmup_steps": 1}}
    json.dump(cfg, open(f"{ws}/{method}.json", "w"))
PY

echo "| adapter | dtype | gradient checkpointing | estimate (MiB) | peak RSS, fixed mmap threshold (MiB) | error | peak RSS, default malloc (MiB) | RSS / estimate |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
# peak_of NAME: the run's perf/peak_memory_mb (the peak so far, so the latest value).
peak_of() {
  "$app" runs --db "$db" --json | python3 -c '
import json, sys
run = [r for r in json.load(sys.stdin) if r["name"] == sys.argv[1]][0]
print(run["latest_metrics"]["perf/peak_memory_mb"])' "$1"
}
for method in lora moe_lora; do
  for dtype in float32 bfloat16; do
    for ckpt in false true; do
      sets=(--set "train.dtype=$dtype" --set "train.gradient_checkpointing=$ckpt")
      name=mem-$method-$dtype-$ckpt
      est=$("$app" train "$ws/$method.json" --db "$db" "${sets[@]}" --dry-run --progress json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["memory"]["peak_bytes"] / 2**20)')
      APPORTION_MALLOC=system "$app" train "$ws/$method.json" --db "$db" "${sets[@]}" \
        --threads 2 --progress none --name "$name" 2>/dev/null
      MALLOC_MMAP_THRESHOLD_=131072 "$app" train "$ws/$method.json" --db "$db" "${sets[@]}" \
        --threads 2 --progress none --name "$name-mmap" 2>/dev/null
      python3 -c 'import sys
m, d, c, e, live, rss = sys.argv[1:]
e, live, rss = float(e), float(live), float(rss)
print(f"| {m} | {d} | {c} | {e:.0f} | {live:.0f} | {100 * (e - live) / live:+.0f} % | {rss:.0f} | {rss / e:.2f} |")' \
        "$method" "$dtype" "$ckpt" "$est" "$(peak_of "$name-mmap")" "$(peak_of "$name")"
    done
  done
done
