#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Real-benchmark CLI tests (data.suite "datasets"): cli_datasets.sh APPORTION TESTS_DATA SHARED CASE.
# Each case trains through the real executable into a temporary workspace and checks the store
# (apportion show --json), the predictions file and the exit codes. Exit 77 = skipped.
set -u
APP=$1 DATA=$2 SHARED=$3 CASE=$4
WS=$(mktemp -d)
trap 'rm -rf "$WS"' EXIT
DB=$WS/workspace.sqlite
CFG=$DATA/cli/datasets
fail() { echo "FAIL: $*"; exit 1; }
expect_code() { [ "$1" = "$2" ] || fail "exit code $1, expected $2: $(tail -n 3 "$WS/err" 2>/dev/null)"; }
run_id() { head -n 1 "$WS/out" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/'; }
# metric KEY: the latest value of a metric of the run in $WS/show.json
metric() {
  python3 - "$WS/show.json" "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
m = j.get("latest_metrics", {}).get(sys.argv[2])
print("" if m is None else (m["value"] if isinstance(m, dict) else m))
PY
}
tag() {
  python3 - "$WS/show.json" "$1" <<'PY'
import json, sys
print(json.load(open(sys.argv[1])).get("tags", {}).get(sys.argv[2], ""))
PY
}

case $CASE in
scienceqa)
  # The shared ScienceQA sample (CC BY-NC-SA, read from ../shared, never copied), all of train,
  # the validation split scored with protocols (a) mola_regex and (d) mc_loglik.
  SQA=$SHARED/scienceqa-sample
  [ -f "$SQA/train.jsonl" ] || { echo "SKIP: $SQA absent"; exit 77; }
  "$APP" train "$CFG/scienceqa.json" --db "$DB" --threads 2 --progress json \
    --set "data.root=$SQA" >"$WS/out" 2>"$WS/err"
  expect_code $? 0
  run=$(run_id)
  "$APP" show "$run" --db "$DB" --json >"$WS/show.json" || fail "show failed"
  for key in eval/acc/scienceqa eval/acc/scienceqa_ll eval/acc_norm/scienceqa_ll \
             eval/parse_failures/scienceqa report/acc/scienceqa report/acc/scienceqa_ll report/acc \
             data/padding_fraction; do
    [ -n "$(metric "$key")" ] || fail "no metric $key"
    echo "ok: $key = $(metric "$key")"
  done
  [ "$(tag protocol/scienceqa)" = mola_regex ] || fail "protocol tag: $(tag protocol/scienceqa)"
  [ "$(tag protocol/scienceqa_ll)" = mc_loglik ] || fail "protocol tag (d)"
  [ "$(tag split/scienceqa)" = validation ] || fail "split tag"
  [ "$(tag report/rule)" = last ] || fail "report/rule: $(tag report/rule)"
  [ "$(tag train_examples)" = 200 ] || fail "train_examples: $(tag train_examples)"
  # 200 train examples, 0.25 epochs at 8 per step: 7 steps.
  [ "$(tag total_steps)" = 7 ] || fail "total_steps: $(tag total_steps)"
  pred=$(ls "$WS/runs/$run"/predictions-step7.jsonl) || fail "no predictions file"
  python3 - "$pred" <<'PY' || fail "predictions file"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault((r["task"], r["protocol"], r["split"]), []).append(r)
assert len(by[("scienceqa", "mola_regex", "validation")]) == 200, {k: len(v) for k, v in by.items()}
assert len(by[("scienceqa_ll", "mc_loglik", "validation")]) == 200
for r in by[("scienceqa_ll", "mc_loglik", "validation")]:
    assert len(r["scores"]) >= 2 and r["gold"].isdigit() and r["parse_ok"], r
fails = sum(not r["parse_ok"] for r in by[("scienceqa", "mola_regex", "validation")])
print("ok: 400 predictions; mola_regex parse failures", fails)
PY
  fails=$(metric eval/parse_failures/scienceqa)
  python3 -c "import sys; sys.exit(0 if float('$fails') >= 0 else 1)" || fail "parse failures"
  ;;
mixture)
  # Weighted mixture, epochs, a validation split held out of train, best_validation.
  "$APP" train "$CFG/mixture.json" --db "$DB" --threads 1 --progress json \
    --set "data.root=$DATA/datasets" >"$WS/out" 2>"$WS/err"
  expect_code $? 0
  run=$(run_id)
  "$APP" show "$run" --db "$DB" --json >"$WS/show.json" || fail "show failed"
  [ "$(tag report/rule)" = best_validation ] || fail "report/rule"
  [ -n "$(tag report/step)" ] || fail "no report/step"
  [ -n "$(metric val/acc/cola)" ] || fail "no val/acc/cola"
  [ -n "$(metric report/acc/gsm8k)" ] || fail "no report/acc/gsm8k"
  [ "$(tag protocol/gsm8k)" = gsm8k_hash ] || fail "protocol/gsm8k"
  [ -f "$WS/runs/$run/adapters-best.safetensors" ] || fail "no adapters-best.safetensors"
  # best_test is refused unless asked explicitly, and then tagged.
  "$APP" train "$CFG/mixture.json" --db "$DB" --threads 1 --set "data.root=$DATA/datasets" \
    --set train.checkpoint_rule=best_test >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q "train.checkpoint_rule.*allow_best_on_test" "$WS/err" || fail "message: $(cat "$WS/err")"
  "$APP" train "$CFG/mixture.json" --db "$DB" --threads 1 --progress json \
    --set "data.root=$DATA/datasets" --set train.checkpoint_rule=best_test \
    --set train.allow_best_on_test=true >"$WS/out" 2>"$WS/err"
  expect_code $? 0
  "$APP" show "$(run_id)" --db "$DB" --json >"$WS/show.json" || fail "show failed"
  [ "$(tag report/best_on_test)" = true ] || fail "best_on_test not tagged"
  ;;
malformed)
  # Every malformed file: exit 2, a message naming file, line and field, no run row left.
  check() {  # FORMAT FILE EXPECTED-REGEX [extra --set]
    local format=$1 file=$2 regex=$3
    shift 3
    "$APP" train "$CFG/mixture.json" --db "$DB" --threads 1 --set "data.root=$DATA/datasets" \
      --set train.checkpoint_rule=last --set "data.datasets=[{\"name\":\"t\",\"format\":\"$format\",\"train\":\"$file\",\"eval\":[{\"path\":\"$file\"}]$*}]" \
      >"$WS/out" 2>"$WS/err"
    expect_code $? 2
    grep -Eq "$regex" "$WS/err" || fail "$file: message: $(cat "$WS/err")"
    echo "ok: $file: $(head -c 160 "$WS/err")"
  }
  check alpaca alpaca_bad_line.jsonl 'alpaca_bad_line.jsonl:[0-9]+:.*JSON'
  check alpaca alpaca_missing_output.jsonl 'alpaca_missing_output.jsonl:[0-9]+:.*"output"'
  check alpaca alpaca_bad_array.json 'alpaca_bad_array.json:[0-9]+:'
  check alpaca empty.json 'empty.json: no examples'
  check glue cola_bad_label.tsv 'cola_bad_label.tsv:[0-9]+:.*"label"' ',"glue_task":"cola"'
  check glue rte_bad_label.tsv 'rte_bad_label.tsv:[0-9]+:.*"label"' ',"glue_task":"rte"'
  check gsm8k gsm8k_no_hashes.jsonl 'gsm8k_no_hashes.jsonl:[0-9]+:.*"answer"'
  check scienceqa scienceqa_missing_choices.jsonl 'scienceqa_missing_choices.jsonl:[0-9]+:.*"choices"'
  check alpaca no-such-file.json 'no-such-file.json'
  [ ! -e "$DB" ] || [ "$("$APP" runs --db "$DB" | grep -c -E 'FINISHED|FAILED|RUNNING|KILLED')" = 0 ] \
    || fail "a run row was left behind: $("$APP" runs --db "$DB")"
  [ ! -d "$WS/runs" ] || [ -z "$(ls -A "$WS/runs")" ] || fail "run folders left behind: $(ls "$WS/runs")"
  ;;
*)
  fail "unknown case $CASE"
  ;;
esac
echo "PASS: $CASE"
