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
*)
  fail "unknown case $CASE" ;;
esac
echo "ok: $CASE"
