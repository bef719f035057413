#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# CLI tests of seed groups, one case per invocation: cli_seeds.sh APPORTION DATA_DIR CASE.
# `train --seeds` (child processes tagged with one seed_group), `runs --groups`, `show GROUP`,
# `export GROUP --csv`, `compare A B`, a GuiLoMo pipeline per seed, and the --seeds/--parallel
# errors (exit 2, one line naming the option, nothing written).
set -u
APP=$1 DATA=$2 CASE=$3
WS=$(mktemp -d)
trap 'rm -rf "$WS"' EXIT
DB=$WS/workspace.sqlite
CFG=$DATA/tiny-random.json
fail() { echo "FAIL: $*"; exit 1; }
expect_code() { [ "$1" = "$2" ] || fail "exit code $1, expected $2"; }
# The key of the group with label $1 and $2 runs (from `runs --groups --json`).
group_key() {
  "$APP" runs --groups --db "$DB" --json | tr -d '\n ' |
    grep -o "\"key\":\"[^\"]*\",\"label\":\"$1\",\"n\":$2," |
    head -n 1 | sed 's/"key":"\([^"]*\)".*/\1/'
}

case $CASE in
group)
  "$APP" train "$CFG" --db "$DB" --seeds 0-2 --threads 1 --progress none --max-steps 3 \
    >"$WS/out" 2>"$WS/err"
  expect_code $? 0
  [ "$("$APP" runs --db "$DB" | grep -c FINISHED)" = 3 ] || fail "expected 3 FINISHED runs: $(cat "$WS/out")"
  grep -q "all seeds FINISHED" "$WS/out" || fail "no final summary: $(cat "$WS/out")"
  grep -q "eval/acc mean .* +- .*(std, n=3), min-max" "$WS/out" || fail "no group statistics: $(cat "$WS/out")"
  for s in 0 1 2; do
    grep -q "^$s .*FINISHED .*cli-smoke-s$s\$" "$WS/out" || fail "summary lacks seed $s: $(cat "$WS/out")"
  done
  "$APP" runs --db "$DB" --json >"$WS/runs.json"
  [ "$(grep -c '"seed_group"' "$WS/runs.json")" = 3 ] || fail "runs lack the seed_group tag"
  [ "$(grep -o '"seed_group": "[0-9a-f]*"' "$WS/runs.json" | sort -u | wc -l)" = 1 ] || fail "runs do not share one seed_group"
  for s in 0 1 2; do grep -q "\"name\": \"cli-smoke-s$s\"" "$WS/runs.json" || fail "no run cli-smoke-s$s"; done
  grep -q '"seed": 2' "$WS/runs.json" || fail "seed 2 not stored"
  # A second group (another lr, two seeds at a time) and a single run outside any --seeds.
  "$APP" train "$CFG" --db "$DB" --seeds 0,1 --parallel 2 --threads 1 --progress none \
    --max-steps 3 --set train.lr=0.01 --name lr01 >"$WS/out2" 2>"$WS/err2"
  expect_code $? 0
  "$APP" train "$CFG" --db "$DB" --threads 1 --progress none --max-steps 3 --name single 2>/dev/null
  expect_code $? 0
  "$APP" runs --groups --db "$DB" >"$WS/groups"
  [ "$(grep -c '^' "$WS/groups")" = 4 ] || fail "expected a header and 3 group rows: $(cat "$WS/groups")"
  grep -q " cli-smoke .* 3 0-2 .*3 FINISHED" "$WS/groups" || fail "group row: $(cat "$WS/groups")"
  grep -q " lr01 .* 2 0,1 .*2 FINISHED" "$WS/groups" || fail "lr01 row: $(cat "$WS/groups")"
  a=$(group_key cli-smoke 3)
  b=$(group_key lr01 2)
  [ -n "$a" ] && [ -n "$b" ] || fail "no group keys: $(cat "$WS/groups")"
  "$APP" show "${a:0:8}" --db "$DB" >"$WS/show" || fail "show group failed"
  grep -q "^runs       3 (seeds 0-2)" "$WS/show" || fail "show: $(cat "$WS/show")"
  grep -q "^eval/acc  .* 3 " "$WS/show" || fail "show lacks eval/acc statistics: $(cat "$WS/show")"
  grep -q "^eval/loss .* 3 .*\[" "$WS/show" || fail "show lacks the eval/loss CI: $(cat "$WS/show")"
  "$APP" show "$a" --db "$DB" --json | grep -q '"ci95_high"' || fail "show --json lacks the CI"
  run=$(grep -o '"run_id": "[0-9a-f]*"' "$WS/runs.json" | head -n 1 | sed 's/.*"\([0-9a-f]*\)"/\1/')
  "$APP" show "${run:0:8}" --db "$DB" | grep -q "^run        $run" || fail "show RUN no longer shows the run"
  "$APP" export "$a" --db "$DB" --csv "$WS/csv" 2>/dev/null || fail "export group failed"
  [ "$(ls -d "$WS"/csv/*/ | wc -l)" = 3 ] || fail "expected 3 run folders: $(ls "$WS/csv")"
  ls "$WS"/csv/*/metrics.csv >/dev/null || fail "no member metrics.csv"
  grep -q '^metric,n,mean,std,min,max,ci95_low,ci95_high$' "$WS/csv/group_summary.csv" || fail "summary header"
  grep -q '^eval/acc,3,' "$WS/csv/group_summary.csv" || fail "summary lacks eval/acc: $(cat "$WS/csv/group_summary.csv")"
  grep -q '^3,3,' "$WS/csv/group_curve_train_loss.csv" || fail "train/loss curve lacks step 3 of 3 runs"
  grep -q '^step,n,mean,min,max$' "$WS/csv/group_curve_eval_acc.csv" || fail "no eval/acc curve"
  "$APP" compare "$a" "$b" --db "$DB" >"$WS/cmp" || fail "compare failed"
  grep -q "^eval/acc  .* 3 .* 2 .*\[" "$WS/cmp" || fail "compare lacks eval/acc with its interval: $(cat "$WS/cmp")"
  grep -q "^eval/acc/lookup .* 3 " "$WS/cmp" || fail "compare lacks per-task rows: $(cat "$WS/cmp")"
  single=$(grep -o '"run_id": "[0-9a-f]*"' <("$APP" runs --db "$DB" --json) | head -n 1 | sed 's/.*"\([0-9a-f]*\)"/\1/')
  "$APP" compare "$a" "${single:0:8}" --db "$DB" --json >"$WS/cmp.json" || fail "compare group-run failed"
  grep -q '"n_b": 1' "$WS/cmp.json" || fail "compare with a run: $(head -c 400 "$WS/cmp.json")"
  # A bad --seeds on an existing workspace adds no row.
  "$APP" train "$CFG" --db "$DB" --seeds 2-1 --progress none 2>/dev/null
  expect_code $? 2
  [ "$("$APP" runs --db "$DB" | grep -c FINISHED)" = 6 ] || fail "a bad --seeds changed the runs"
  ;;
errors)
  check() {  # check EXPECTED_MESSAGE ARGS...: exit 2, that one line on stderr, no workspace
    local msg=$1
    shift
    "$APP" train "$CFG" --db "$DB" --progress none "$@" >"$WS/out" 2>"$WS/err"
    expect_code $? 2
    grep -qF -- "$msg" "$WS/err" || fail "$*: message: $(cat "$WS/err")"
    [ "$(grep -c '^' "$WS/err")" = 1 ] || fail "$*: more than one line: $(cat "$WS/err")"
    [ ! -e "$DB" ] || fail "$*: created a workspace"
    [ ! -e "$WS/runs" ] || fail "$*: created a run folder"
    echo "ok: $*"
  }
  check "--seeds '3-1': the range 3-1 runs backwards; write 1-3" --seeds 3-1
  check "--seeds 'x': 'x' is not a seed; write seeds and ranges such as 0-4" --seeds x
  check '--seeds "": no seeds given' --seeds ""
  check "--seeds '0-2,1': seed 1 is listed twice; list each seed once" --seeds 0-2,1
  check "--seeds '0,': '' is not a seed" --seeds 0,
  check "--parallel 0: must be at least 1" --seeds 0-1 --parallel 0
  check "--seeds cannot be combined with --resume" --seeds 0-1 --resume 0123abcd
  check "--set seed=4: --seeds sets each run's seed" --seeds 0-1 --set seed=4
  check "train.lr: must be a number" --seeds 0-1 --set train.lr=oops
  "$APP" train "$CFG" --db "$DB" --parallel 2 2>"$WS/err"
  expect_code $? 2
  grep -q -- "--parallel requires --seeds" "$WS/err" || fail "--parallel alone: $(cat "$WS/err")"
  [ ! -e "$DB" ] || fail "--parallel alone created a workspace"
  ;;
guilomo)
  # Each seed runs the whole pipeline (search, then retrain) in its child; both runs carry the
  # group tag and the pipeline role keeps searches and retrains in separate groups.
  "$APP" train "$CFG" --db "$DB" --seeds 0-1 --threads 1 --progress none --max-steps 3 \
    --set 'allocation={"method":"guilomo","guilomo":{"stage":"pipeline","search_steps":2,"n_max":4,"r_max":4,"architect_mode":"first_order"}}' \
    >"$WS/out" 2>"$WS/err"
  code=$?
  [ "$code" = 0 ] || fail "exit $code: $(tail -n 20 "$WS/out" "$WS/err")"
  [ "$("$APP" runs --db "$DB" | grep -c FINISHED)" = 4 ] || fail "expected 4 FINISHED runs"
  "$APP" runs --db "$DB" --json >"$WS/runs.json"
  [ "$(grep -c '"seed_group"' "$WS/runs.json")" = 4 ] || fail "not every run has the seed_group tag"
  "$APP" runs --groups --db "$DB" >"$WS/groups"
  [ "$(grep -c '^' "$WS/groups")" = 3 ] || fail "expected two groups: $(cat "$WS/groups")"
  grep -q "^search:.* cli-smoke (search) .* 2 0,1 " "$WS/groups" || fail "no search group: $(cat "$WS/groups")"
  grep -q "^retrain:.* cli-smoke (retrain) .* 2 0,1 " "$WS/groups" || fail "no retrain group: $(cat "$WS/groups")"
  "$APP" show retrain: --db "$DB" | grep -q "^runs       2 (seeds 0,1)" || fail "show retrain group"
  "$APP" compare retrain: search: --db "$DB" | grep -q "^eval/acc " || fail "compare retrain vs search"
  ;;
*)
  fail "unknown case $CASE"
  ;;
esac
echo "PASS: $CASE"
