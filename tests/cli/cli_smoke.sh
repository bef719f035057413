#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# CLI smoke tests of `apportion`, one case per invocation: cli_smoke.sh APPORTION DATA_DIR CASE.
# Each case runs the real executable into a temporary workspace and checks exit codes, the
# JSON progress lines and the files it writes. Prints what it checks; exits non-zero on failure.
set -u
APP=$1 DATA=$2 CASE=$3
WS=$(mktemp -d)
trap 'rm -rf "$WS"' EXIT
DB=$WS/workspace.sqlite
fail() { echo "FAIL: $*"; exit 1; }
expect_code() { [ "$1" = "$2" ] || fail "exit code $1, expected $2"; }

case $CASE in
short_run)
  "$APP" train "$DATA/tiny-random.json" --db "$DB" --threads 1 --progress json >"$WS/out" 2>"$WS/err"
  expect_code $? 0
  tail -n 1 "$WS/out" | grep -q '"event":"status".*"status":"FINISHED"' || fail "no FINISHED status line: $(tail -n 2 "$WS/out")"
  head -n 1 "$WS/out" | grep -q '"event":"started"' || fail "first line is not 'started'"
  grep -q '"event":"committed"' "$WS/out" || fail "no committed nudge"
  grep -vq '^{' "$WS/out" && fail "stdout has a non-JSON line"
  run=$(head -n 1 "$WS/out" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  [ -f "$WS/runs/$run/checkpoint.pt" ] || fail "no checkpoint in runs/$run"
  [ -f "$WS/runs/$run/adapters.safetensors" ] || fail "no adapter export"
  "$APP" runs --db "$DB" | grep -q "FINISHED" || fail "runs does not list the run"
  "$APP" show "${run:0:8}" --db "$DB" --json | grep -q '"moe/load_fraction"' || fail "no routing matrix"
  "$APP" export "$run" --db "$DB" --csv "$WS/csv" 2>/dev/null || fail "export failed"
  grep -q '^train/loss,3,' "$WS/csv/metrics.csv" || fail "metrics.csv lacks train/loss at step 3"
  grep -q '^alloc/experts,0,' "$WS/csv/matrices.csv" || fail "matrices.csv lacks alloc/experts"
  ;;
architectures)
  # A tiny checkpoint of every supported architecture (HF layout, written by `pretrain` from an
  # inline config) loads and fine-tunes with LoRA-MoE through `apportion train`.
  ARCH=$(dirname "$DATA")/architectures
  for a in llama3 mistral qwen2 mixtral olmoe qwen2_moe; do
    "$APP" pretrain "$ARCH/pretrain-$a.json" --db "$DB" --threads 1 --progress none 2>"$WS/err"
    expect_code $? 0
    "$APP" inspect "$WS/backbones/$a" --json >"$WS/inspect" || fail "$a: inspect failed"
    grep -q '"architecture":"[A-Za-z0-9]*ForCausalLM"' "$WS/inspect" || fail "$a: inspect output"
    "$APP" train "$ARCH/finetune.json" --db "$DB" --threads 1 --progress json \
      --set "backbone.path=backbones/$a" >"$WS/out" 2>"$WS/err"
    expect_code $? 0
    tail -n 1 "$WS/out" | grep -q '"status":"FINISHED"' || fail "$a: not FINISHED: $(tail -n 3 "$WS/err")"
    echo "ok: $a"
  done
  [ "$("$APP" runs --db "$DB" | grep -c FINISHED)" = 12 ] || fail "expected 12 FINISHED runs"
  ;;
bad_config)
  "$APP" train "$DATA/bad-topk.json" --db "$DB" >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q "adapters.top_k: must be <= number of experts (2" "$WS/err" || fail "message: $(cat "$WS/err")"
  [ ! -e "$DB" ] || fail "a bad config created a workspace"
  ;;
bad_override)
  "$APP" train "$DATA/tiny-random.json" --db "$DB" --set train.lr=oops >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q "train.lr: must be a number" "$WS/err" || fail "message: $(cat "$WS/err")"
  ;;
missing_backbone)
  "$APP" train "$DATA/tiny-random.json" --db "$DB" --set 'backbone={"path":"nowhere"}' >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q "backbone.path: .*nowhere has no config.json" "$WS/err" || fail "message: $(cat "$WS/err")"
  ;;
pretrain_then_train)
  "$APP" pretrain "$DATA/tiny-pretrain.json" --db "$DB" --threads 1 --progress none 2>"$WS/err"
  expect_code $? 0
  [ -f "$WS/backbones/cli-tiny/model.safetensors" ] || fail "no model.safetensors"
  grep -q '"architectures"' "$WS/backbones/cli-tiny/config.json" || fail "config.json lacks architectures"
  "$APP" train "$DATA/tiny-random.json" --db "$DB" --threads 1 --progress none \
    --set 'backbone={"path":"backbones/cli-tiny"}' 2>"$WS/err"
  expect_code $? 0
  [ "$("$APP" runs --db "$DB" | grep -c FINISHED)" = 2 ] || fail "expected two FINISHED runs"
  ;;
truncated_safetensors)
  "$APP" pretrain "$DATA/tiny-pretrain.json" --db "$DB" --threads 1 --progress none 2>/dev/null
  expect_code $? 0
  f=$WS/backbones/cli-tiny/model.safetensors
  truncate -s $(( $(stat -c %s "$f") - 100 )) "$f"
  "$APP" train "$DATA/tiny-random.json" --db "$DB" --progress none \
    --set 'backbone={"path":"backbones/cli-tiny"}' 2>"$WS/err"
  expect_code $? 2
  grep -q "model.safetensors" "$WS/err" || fail "message does not name the file: $(cat "$WS/err")"
  grep -qi "truncated\|out of bounds\|beyond" "$WS/err" || fail "message does not say what is wrong: $(cat "$WS/err")"
  ;;
sigterm_resume)
  "$APP" train "$DATA/tiny-random.json" --db "$DB" --threads 1 --progress json \
    --max-steps 100000 >"$WS/out" 2>"$WS/err" &
  pid=$!
  for _ in $(seq 1 300); do grep -q '"event":"progress"' "$WS/out" 2>/dev/null && break; sleep 0.1; done
  kill -TERM $pid
  wait $pid
  expect_code $? 3
  tail -n 1 "$WS/out" | grep -q '"status":"KILLED"' || fail "no KILLED status line"
  run=$(head -n 1 "$WS/out" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  [ -f "$WS/runs/$run/checkpoint.pt" ] || fail "no checkpoint after SIGTERM"
  "$APP" runs --db "$DB" | grep -q KILLED || fail "store does not say KILLED"
  "$APP" train --resume "${run:0:10}" --db "$DB" --threads 1 --progress json --stop-after 0 >"$WS/out2" 2>"$WS/err2"
  code=$?
  [ "$code" = 3 ] || fail "resume exit code $code: $(cat "$WS/err2")"
  ;;
adapter_export)
  # A plain-LoRA run on a pretrained tiny backbone: export --peft, import-adapter --check; then a
  # LoRA-MoE run, whose export writes the LoRA-MoE layout with a message; then usage errors.
  "$APP" pretrain "$DATA/tiny-pretrain.json" --db "$DB" --threads 1 --progress none 2>"$WS/err"
  expect_code $? 0
  BB=$WS/backbones/cli-tiny
  "$APP" train "$DATA/tiny-random.json" --db "$DB" --threads 1 --progress json \
    --set 'backbone={"path":"backbones/cli-tiny"}' --set adapters.method=lora >"$WS/out" 2>"$WS/err"
  expect_code $? 0
  run=$(head -n 1 "$WS/out" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  "$APP" export "${run:0:8}" --db "$DB" --peft "$WS/peft" 2>"$WS/err"
  expect_code $? 0
  grep -q '"peft_type": "LORA"' "$WS/peft/adapter_config.json" || fail "adapter_config.json: $(cat "$WS/peft/adapter_config.json")"
  grep -q '"task_type": "CAUSAL_LM"' "$WS/peft/adapter_config.json" || fail "no task_type"
  [ -f "$WS/peft/adapter_model.safetensors" ] || fail "no adapter_model.safetensors"
  "$APP" import-adapter "$WS/peft" --backbone "$BB" --check >"$WS/imp" 2>"$WS/err"
  expect_code $? 0
  grep -q '^method *lora$' "$WS/imp" || fail "import summary: $(cat "$WS/imp") $(cat "$WS/err")"
  grep -q '^modules *q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj$' "$WS/imp" || fail "modules: $(cat "$WS/imp")"
  grep -q '^check *ok' "$WS/imp" || fail "no check line: $(cat "$WS/imp")"
  "$APP" train "$DATA/tiny-random.json" --db "$DB" --threads 1 --progress json \
    --set 'backbone={"path":"backbones/cli-tiny"}' >"$WS/out2" 2>"$WS/err"
  expect_code $? 0
  run2=$(head -n 1 "$WS/out2" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  "$APP" export "$run2" --db "$DB" --peft "$WS/moe" 2>"$WS/err"
  expect_code $? 0
  grep -q "LoRA-MoE layout" "$WS/err" || fail "no LoRA-MoE message: $(cat "$WS/err")"
  grep -q '"experts_per_layer"' "$WS/moe/allocation.json" || fail "no allocation.json"
  "$APP" import-adapter "$WS/moe" --backbone "$BB" --check --json >"$WS/imp2" 2>"$WS/err"
  expect_code $? 0
  grep -q '"method": "moe_lora"' "$WS/imp2" || fail "moe import: $(cat "$WS/imp2") $(cat "$WS/err")"
  "$APP" export "$run" --db "$DB" >/dev/null 2>"$WS/err"
  expect_code $? 2
  "$APP" export "$run" --db "$DB" --csv "$WS/c" --peft "$WS/p" >/dev/null 2>"$WS/err"
  expect_code $? 2
  rm "$WS/peft/adapter_model.safetensors"
  "$APP" import-adapter "$WS/peft" --backbone "$BB" >/dev/null 2>"$WS/err"
  expect_code $? 2
  grep -q "peft/adapter_model.safetensors: no such file" "$WS/err" || fail "message: $(cat "$WS/err")"
  ;;
tokenize_golden)
  # Two golden strings of tests/data/tokenizers/llama3 (ids from Hugging Face's tokenizers).
  golden=$DATA/../tokenizers/llama3
  mkdir -p "$WS/llama3"
  gzip -dc "$golden/tokenizer.json.gz" >"$WS/llama3/tokenizer.json" || fail "cannot gunzip"
  cp "$golden/tokenizer_config.json" "$WS/llama3/"
  field() { grep -F "{\"text\":\"$1\",\"ids\":" "$golden/goldens.jsonl" | sed "s/.*\"$2\":\(\[[^]]*\]\).*/\1/" | tr -d ' '; }
  printf 'Hello world\n你好，世界！\n' >"$WS/in"
  "$APP" tokenize "$WS/llama3" <"$WS/in" >"$WS/out" 2>"$WS/err"
  expect_code $? 0
  printf '%s\n%s\n' "$(field 'Hello world' ids)" "$(field '你好，世界！' ids)" >"$WS/expected"
  diff -u "$WS/expected" <(tr -d ' ' <"$WS/out") || fail "ids differ from the goldens"
  "$APP" tokenize --no-special "$WS/llama3" <"$WS/in" | tr -d ' ' >"$WS/plain"
  [ "$(head -n 1 "$WS/plain")" = "$(field 'Hello world' ids_no_special)" ] || fail "--no-special: $(cat "$WS/plain")"
  "$APP" tokenize --decode --no-special "$WS/llama3" <"$WS/out" >"$WS/text"
  expect_code $? 0
  [ "$(head -n 1 "$WS/text")" = '"Hello world"' ] || fail "--decode: $(cat "$WS/text")"
  # tokenizer.model goes through libsentencepiece, loaded beside LibTorch's protobuf.
  mkdir -p "$WS/spm"
  cp "$DATA/../tokenizers/spm-tiny/tokenizer.model" "$WS/spm/"
  ids=$(grep -F '{"text": "Hello world", "ids": ' "$DATA/../tokenizers/spm-tiny/goldens.jsonl" | sed 's/.*"ids": \[\([^]]*\)\].*/\1/' | tr -d ' ')
  [ -n "$ids" ] || fail "no spm-tiny golden for Hello world"
  [ "$(echo 'Hello world' | "$APP" tokenize "$WS/spm")" = "[1,$ids]" ] || fail "tokenizer.model ids"
  ;;
tokenize_bad_json)
  mkdir -p "$WS/bad"
  printf '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [' >"$WS/bad/tokenizer.json"
  echo hello | "$APP" tokenize "$WS/bad" >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q "bad/tokenizer.json: truncated JSON" "$WS/err" || fail "message: $(cat "$WS/err")"
  ;;
method_presets)
  # Each allocation method's demo preset (experiments/) trains through the CLI on the tiny
  # backbones its pretraining presets write (shortened with --set; the configs are the real ones).
  EXP=$(dirname "$(dirname "$DATA")")/../experiments
  SHORT=(--threads 1 --progress json --set data.train_examples=160 --set data.eval_examples=24
         --set train.eval_every=4 --set train.log_every=2 --set train.log_matrices_every=2
         --set train.checkpoint_every=100 --set train.micro_batch_size=8)
  for pre in pretrain-tiny pretrain-tiny-moe; do
    "$APP" pretrain "$EXP/$pre.json" --db "$DB" --threads 1 --progress none --max-steps 3 \
      --set data.train_examples=64 --set data.eval_examples=8 2>"$WS/err"
    expect_code $? 0
  done
  [ -f "$WS/backbones/tiny-mixtral/model.safetensors" ] || fail "no tiny-mixtral backbone"
  for preset in mola-2468 guilomo guilomo-budget drlora drlora-uniform drlora-static alphalora \
                increlora; do
    "$APP" train "$EXP/$preset.json" --db "$DB" "${SHORT[@]}" --max-steps 8 \
      --set allocation.guilomo.search_steps=4 --set allocation.drlora.interval=2 \
      --set allocation.increlora.interval=1 \
      >"$WS/$preset.out" 2>"$WS/$preset.err"
    code=$?
    [ "$code" = 0 ] || fail "$preset: exit $code: $(tail -n 5 "$WS/$preset.err")"
    tail -n 1 "$WS/$preset.out" | grep -q '"status":"FINISHED"' || fail "$preset: not FINISHED"
    echo "ok: $preset"
  done 2>/dev/null
  # The GuiLoMo pipeline is two runs in one process: search (4 steps), then retrain (8 steps).
  out=$WS/guilomo.out
  [ "$(grep -c '"event":"started"' "$out")" = 2 ] || fail "guilomo: expected two started lines"
  [ "$(grep -c '"event":"status"' "$out")" = 2 ] || fail "guilomo: expected two status lines"
  search=$(grep '"event":"started"' "$out" | head -n 1 | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  retrain=$(grep '"event":"started"' "$out" | tail -n 1 | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  for f in guilomo_allocation.json expert.json rank.json; do
    [ -f "$WS/runs/$search/$f" ] || fail "search run lacks $f"
  done
  grep -q '"model.layers.3.mlp.down_proj.expertlora_E_vector_0"' "$WS/runs/$search/rank.json" || fail "rank.json keys: $(head -c 300 "$WS/runs/$search/rank.json")"
  "$APP" show "$search" --db "$DB" --json >"$WS/search.json"
  grep -q '"guilomo/gsv_expert"' "$WS/search.json" || fail "search lacks GSV records"
  grep -q '"guilomo/gsv_rank"' "$WS/search.json" || fail "search lacks rank GSV records"
  grep -q "\"guilomo/retrain_run\": *\"$retrain\"" "$WS/search.json" || fail "search not linked to the retrain: $(grep -o '"guilomo/[a-z_]*": *"[^"]*"' "$WS/search.json")"
  grep -q '"method": *"guilomo_search"' "$WS/search.json" || fail "search method"
  "$APP" show "$retrain" --db "$DB" --json >"$WS/retrain.json"
  grep -q "\"guilomo/search_run\": *\"$search\"" "$WS/retrain.json" || fail "retrain not linked to the search"
  grep -q "runs/$search/guilomo_allocation.json" "$WS/retrain.json" || fail "retrain config does not name the allocation"
  # DR-LoRA: rank records at the growth events; the budget is spent by the last event.
  dr=$(head -n 1 "$WS/drlora.out" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  "$APP" show "$dr" --db "$DB" --json >"$WS/dr.json"
  for k in drlora/rank drlora/frequency drlora/importance drlora/saliency; do
    grep -q "\"$k\"" "$WS/dr.json" || fail "drlora lacks $k"
  done
  grep -q '"drlora/total_rank": *"128"' "$WS/dr.json" || fail "drlora: Σ rank is not the budget 4·4·8: $(grep -o '"drlora/[a-z_]*": *"[^"]*"' "$WS/dr.json")"
  st=$(head -n 1 "$WS/drlora-static.out" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  "$APP" show "$st" --db "$DB" --json | grep -q '"drlora/total_rank": *"128"' || fail "static: Σ rank is not the budget"
  # AlphaLoRA: the spectrum records and MoLA 2468's 20 experts spread by α.
  al=$(head -n 1 "$WS/alphalora.out" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  "$APP" show "$al" --db "$DB" --json >"$WS/al.json"
  for k in alphalora/alpha alphalora/layer_alpha alloc/experts; do
    grep -q "\"$k\"" "$WS/al.json" || fail "alphalora lacks $k"
  done
  counts=$(grep -o '"alphalora/experts_per_layer": *"[0-9,]*"' "$WS/al.json" | sed 's/.*"\([0-9,]*\)"/\1/')
  [ "$(echo "$counts" | awk -F, '{s = 0; for (i = 1; i <= NF; i++) s += $i; print s}')" = 20 ] || fail "alphalora: experts $counts do not sum to 20"
  grep -q '"method": *"alphalora"' "$WS/al.json" || fail "alphalora method label"
  # IncreLoRA: growth events spend the budget 4 layers · 7 projections · r_target 22.
  il=$(head -n 1 "$WS/increlora.out" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  "$APP" show "$il" --db "$DB" --json >"$WS/il.json"
  grep -q '"increlora/rank"' "$WS/il.json" || fail "increlora lacks rank records"
  grep -q '"increlora/total_rank": *"616"' "$WS/il.json" || fail "increlora: Σ rank is not the budget 616: $(grep -o '"increlora/[a-z_]*": *"[^"]*"' "$WS/il.json")"
  ;;
method_determinism)
  # Same config, same seed, one thread: GuiLoMo's search and DR-LoRA give bit-identical adapters.
  EXP=$(dirname "$(dirname "$DATA")")/../experiments
  SHORT=(--threads 1 --progress json --set data.train_examples=96 --set data.eval_examples=8
         --set train.eval_every=100 --set train.micro_batch_size=8 --max-steps 6)
  "$APP" pretrain "$EXP/pretrain-tiny.json" --db "$DB" --threads 1 --progress none --max-steps 2 \
    --set data.train_examples=32 --set data.eval_examples=8 2>/dev/null
  "$APP" pretrain "$EXP/pretrain-tiny-moe.json" --db "$DB" --threads 1 --progress none --max-steps 2 \
    --set data.train_examples=32 --set data.eval_examples=8 2>/dev/null
  for preset in guilomo drlora drlora-static alphalora increlora; do
    for i in 1 2; do
      "$APP" train "$EXP/$preset.json" --db "$DB" "${SHORT[@]}" --set allocation.guilomo.stage=search \
        --set allocation.guilomo.search_steps=6 --set allocation.increlora.interval=2 \
        --set allocation.drlora.interval=2 >"$WS/$preset.$i" 2>"$WS/err"
      expect_code $? 0
      run=$(head -n 1 "$WS/$preset.$i" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
      cp "$WS/runs/$run/adapters.safetensors" "$WS/$preset.$i.safetensors"
    done
    cmp -s "$WS/$preset.1.safetensors" "$WS/$preset.2.safetensors" || fail "$preset: adapters differ between two identical runs"
    echo "ok: $preset deterministic"
  done
  # Stop after 3 steps and resume: the method state (DR-LoRA's ranks and trackers, GuiLoMo's
  # GSVs and their AdamW) is in the checkpoint, so the adapters equal the uninterrupted run's.
  for preset in guilomo drlora increlora; do
    "$APP" train "$EXP/$preset.json" --db "$DB" "${SHORT[@]}" --set allocation.guilomo.stage=search \
      --set allocation.guilomo.search_steps=6 --set allocation.drlora.interval=2 \
      --set allocation.increlora.interval=2 \
      --stop-after 3 >"$WS/$preset.stop" 2>"$WS/err"
    expect_code $? 3
    run=$(head -n 1 "$WS/$preset.stop" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
    "$APP" train --resume "$run" --db "$DB" --threads 1 --progress none 2>"$WS/err"
    expect_code $? 0
    cmp -s "$WS/runs/$run/adapters.safetensors" "$WS/$preset.1.safetensors" || fail "$preset: resumed run differs from the uninterrupted one"
    echo "ok: $preset resumes bit-exactly"
  done
  # …and a different seed changes them (the comparison can fail).
  "$APP" train "$EXP/drlora.json" --db "$DB" "${SHORT[@]}" --set seed=7 --set allocation.drlora.interval=2 >"$WS/seed7" 2>/dev/null
  run=$(head -n 1 "$WS/seed7" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  cmp -s "$WS/runs/$run/adapters.safetensors" "$WS/drlora.1.safetensors" && fail "seed 7 gave the same adapters"
  ;;
method_errors)
  # Bad method input: clear messages naming the field or file, exit 2, no run row.
  EXP=$(dirname "$(dirname "$DATA")")/../experiments
  "$APP" train "$EXP/guilomo.json" --db "$DB" --set allocation.guilomo.architect_mode=third >/dev/null 2>"$WS/err"
  expect_code $? 2
  grep -q 'allocation.guilomo.architect_mode: must be one of "first_order", "second_order", "reference"' "$WS/err" || fail "message: $(cat "$WS/err")"
  "$APP" train "$EXP/drlora.json" --db "$DB" --set allocation.drlora.r_init=16 >/dev/null 2>"$WS/err"
  expect_code $? 2
  grep -q "allocation.drlora.r_target: must be >= r_init (16)" "$WS/err" || fail "message: $(cat "$WS/err")"
  "$APP" train "$EXP/guilomo.json" --db "$DB" --set allocation.guilomo.stage=retrain >/dev/null 2>"$WS/err"
  expect_code $? 2
  grep -q "allocation.guilomo.allocation_file: stage \"retrain\" needs the allocation" "$WS/err" || fail "message: $(cat "$WS/err")"
  "$APP" pretrain "$EXP/pretrain-tiny.json" --db "$DB" --threads 1 --progress none --max-steps 1 \
    --set data.train_examples=16 --set data.eval_examples=4 2>/dev/null
  mkdir -p "$WS/ref"
  echo '{"model.layers.0.self_attn.q_proj": 9}' >"$WS/ref/expert.json"
  echo '{}' >"$WS/ref/rank.json"
  "$APP" train "$EXP/guilomo.json" --db "$DB" --set allocation.guilomo.stage=retrain \
    --set "allocation.guilomo.allocation_file=$WS/ref" >/dev/null 2>"$WS/err"
  expect_code $? 2
  grep -q "ref/expert.json" "$WS/err" || fail "message does not name expert.json: $(cat "$WS/err")"
  "$APP" train "$EXP/drlora.json" --db "$DB" --set backbone.path=backbones/tiny-llama >/dev/null 2>"$WS/err"
  expect_code $? 2
  grep -q "sparse-MoE backbone" "$WS/err" || fail "dense backbone message: $(cat "$WS/err")"
  # float16 where this LibTorch has no float16 matrix products (Debian 12's CPU build): a clear
  # error before the run; where it has them (LibTorch 2.x), the run trains.
  "$APP" train "$EXP/lora.json" --db "$DB" --set train.dtype=float16 --max-steps 1 \
    --progress none --threads 1 >/dev/null 2>"$WS/err"
  code=$?
  if [ $code = 2 ]; then
    grep -q 'train.dtype: "float16" has no matrix products on cpu' "$WS/err" || fail "float16 message: $(cat "$WS/err")"
  else
    expect_code $code 0
    "$APP" runs --db "$DB" | grep -q FINISHED || fail "the float16 run did not finish"
  fi
  [ "$("$APP" runs --db "$DB" 2>/dev/null | grep -c -E 'FAILED|RUNNING')" = 0 ] || fail "a bad method config left a run row"
  ;;
demo_backbone)
  # The shipped demo backbones (experiments/backbones/) install into a workspace, copy a word
  # (the step-0 baseline of a mapping task is 0 %: copying is never the answer) and are
  # taught by an adapter: 150 LoRA steps on `increment` take it far above the baseline.
  ROOT=$(dirname "$(dirname "$DATA")")/..
  AP_BUILD_DIR=$(dirname "$(dirname "$APP")") "$ROOT/experiments/install_backbones.sh" "$WS" \
    || fail "install_backbones.sh failed"
  for b in tiny-llama tiny-mixtral; do
    cmp -s "$WS/backbones/$b/model.safetensors" "$ROOT/experiments/backbones/$b/model.safetensors" \
      || fail "$b not copied"
    "$APP" inspect "$WS/backbones/$b" --json >/dev/null || fail "$b: inspect failed"
  done
  "$APP" train "$ROOT/experiments/lora.json" --db "$DB" --threads 1 --progress none \
    --set 'data.tasks=["increment"]' --set data.train_examples=600 --set data.eval_examples=50 \
    --set train.eval_every=50 --set train.checkpoint_every=1000 --max-steps 150 \
    --name teach 2>"$WS/err"
  expect_code $? 0
  "$APP" show teach --db "$DB" --json >"$WS/show" 2>/dev/null ||
    "$APP" show "$("$APP" runs --db "$DB" | awk '/teach/{print $1; exit}')" --db "$DB" --json >"$WS/show"
  python3 - "$WS/show" <<'PY' || fail "the demo backbone was not taught: $(head -c 400 "$WS/show")"
import json, sys
run = json.load(open(sys.argv[1]))
latest = run.get("latest_metrics") or run["runs"][0]["latest_metrics"]
base, final = latest["baseline/accuracy"], latest["eval/acc"]
print("baseline", base, "final", final)
sys.exit(0 if base == 0 and final >= 0.5 else 1)
PY
  ;;
*)
  fail "unknown case $CASE" ;;
esac
echo "ok: $CASE"
