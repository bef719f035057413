#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# CLI tests of `apportion export --table`, one case per invocation: cli_table.sh APPORTION DATA_DIR
# CASE. `table` trains two seeds of the tiny config and one other run, then checks the Markdown
# and CSV tables (runs and seed groups), -o, --runs, --experiment and the errors (exit 2);
# `errors` checks the command line without a workspace. Exact numbers are checked by
# tests/core/tst_results_table.cpp; here the real binary, its options and exit codes.
set -u
APP=$1 DATA=$2 CASE=$3
WS=$(mktemp -d)
trap 'rm -rf "$WS"' EXIT
DB=$WS/workspace.sqlite
CFG=$DATA/tiny-random.json
fail() { echo "FAIL: $*"; exit 1; }
expect_code() { [ "$1" = "$2" ] || fail "exit code $1, expected $2"; }
# A number cell of the Markdown table: "12.34", or "12.34 ± 5.67" in a group row.
NUM='[0-9]+\.[0-9]{2}'

case $CASE in
table)
  "$APP" train "$CFG" --db "$DB" --seeds 0,1 --threads 1 --progress none --max-steps 3 \
    >"$WS/out" 2>"$WS/err"
  expect_code $? 0
  "$APP" train "$CFG" --db "$DB" --threads 1 --progress none --max-steps 3 --name single \
    --set train.lr=0.01 2>/dev/null
  expect_code $? 0

  # Runs: the builtin suite's three tasks, each with its protocol and split, then Avg.
  "$APP" export --table --db "$DB" >"$WS/md" 2>"$WS/err"
  expect_code $? 0
  head -n 1 "$WS/md" | grep -Eq '^\| Run \| Rule \| arithmetic \(teacher_forced, eval\) \| facts \(teacher_forced, eval\) \| lookup \(teacher_forced, eval\) \| Avg \|$' ||
    fail "runs header: $(head -n 1 "$WS/md")"
  sed -n 2p "$WS/md" | grep -q '^| :--- | :--- | ---: | ---: | ---: | ---: |$' || fail "alignment row: $(sed -n 2p "$WS/md")"
  for name in cli-smoke-s0 cli-smoke-s1 single; do
    grep -Eq "^\| $name \| (last|latest) \| $NUM \| $NUM \| $NUM \| $NUM \|$" "$WS/md" ||
      fail "no row for $name: $(cat "$WS/md")"
  done
  grep -q '^Accuracy in %' "$WS/md" || fail "no note under the table"
  grep -q 'Warning' "$WS/md" && fail "unexpected warning: $(cat "$WS/md")"
  [ -s "$WS/err" ] && fail "stderr is not empty: $(cat "$WS/err")"

  # Seed groups: mean ± CI over the two seeds, n; the single run is its own row.
  "$APP" export --table --groups --db "$DB" >"$WS/groups" || fail "groups failed"
  head -n 1 "$WS/groups" | grep -q '^| Group | n | Rule | arithmetic (teacher_forced, eval) |' ||
    fail "groups header: $(head -n 1 "$WS/groups")"
  grep -Eq "^\| cli-smoke \| 2 \| (last|latest) \| $NUM ± $NUM \| $NUM ± $NUM \| $NUM ± $NUM \| $NUM ± $NUM \|$" "$WS/groups" ||
    fail "group row: $(cat "$WS/groups")"
  grep -Eq "^\| single \| 1 \| (last|latest) \| $NUM \| $NUM \| $NUM \| $NUM \|$" "$WS/groups" ||
    fail "single row: $(cat "$WS/groups")"
  grep -q 'Groups: mean ± 95 % CI half-width' "$WS/groups" || fail "no group note"

  # CSV: fractions, <task>_ci95 and _n for groups, protocol_/split_ columns.
  "$APP" export --table --groups --format csv --db "$DB" >"$WS/csv" || fail "csv failed"
  [ "$(head -n 1 "$WS/csv")" = "group_key,label,n,seeds,rule,arithmetic,arithmetic_ci95,arithmetic_n,facts,facts_ci95,facts_n,lookup,lookup_ci95,lookup_n,avg,avg_ci95,avg_n,protocol_arithmetic,protocol_facts,protocol_lookup,split_arithmetic,split_facts,split_lookup" ] ||
    fail "csv header: $(head -n 1 "$WS/csv")"
  [ "$(wc -l <"$WS/csv")" = 3 ] || fail "expected a header and 2 rows: $(cat "$WS/csv")"
  grep -Eq '^(cfg:)?[0-9a-f]{16,32},cli-smoke,2,0;1,(last|latest),[0-9.e-]+,[0-9.e-]+,2,.*,teacher_forced,teacher_forced,teacher_forced,eval,eval,eval$' "$WS/csv" ||
    fail "csv group row: $(cat "$WS/csv")"
  "$APP" export --table --format csv --db "$DB" >"$WS/runs.csv" || fail "runs csv failed"
  head -n 1 "$WS/runs.csv" | grep -q '^run_id,name,experiment,seed,status,rule,report_step,arithmetic,facts,lookup,avg,' ||
    fail "runs csv header: $(head -n 1 "$WS/runs.csv")"
  grep -Eq '^[0-9a-f]{32},single,cli-smoke,3,FINISHED,' "$WS/runs.csv" || fail "runs csv: $(cat "$WS/runs.csv")"

  # -o FILE: the same text in the file, nothing on stdout.
  "$APP" export --table --groups --db "$DB" -o "$WS/table.md" >"$WS/stdout" 2>"$WS/err" || fail "-o failed"
  [ -s "$WS/stdout" ] && fail "-o printed to stdout"
  cmp -s "$WS/table.md" "$WS/groups" || fail "-o wrote something else: $(diff "$WS/table.md" "$WS/groups")"
  grep -q "wrote 2 group rows to $WS/table.md" "$WS/err" || fail "-o message: $(cat "$WS/err")"

  # --runs and --experiment choose rows.
  run=$(grep ',single,' "$WS/runs.csv" | cut -d, -f1)
  "$APP" export --table --runs "${run:0:8}" --db "$DB" >"$WS/one" || fail "--runs failed"
  [ "$(grep -c '^| single ' "$WS/one")" = 1 ] && [ "$(grep -c '^| cli-smoke' "$WS/one")" = 0 ] ||
    fail "--runs: $(cat "$WS/one")"
  "$APP" export --table --experiment cli-smoke --db "$DB" | grep -q '^| cli-smoke-s1 ' ||
    fail "--experiment lost rows"
  "$APP" export --table --experiment nope --db "$DB" >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q "error: no runs in experiment 'nope' (experiments: cli-smoke)" "$WS/err" || fail "message: $(cat "$WS/err")"
  "$APP" export --table --runs ffffffff --db "$DB" >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q "error: no run whose id starts with 'ffffffff'" "$WS/err" || fail "message: $(cat "$WS/err")"
  [ -s "$WS/out" ] && fail "an error printed a table"

  # The other export forms still work.
  "$APP" export "${run:0:8}" --db "$DB" --csv "$WS/csvdir" 2>/dev/null || fail "export --csv broke"
  [ -f "$WS/csvdir/metrics.csv" ] || fail "export --csv wrote no metrics.csv"
  "$APP" export --table "${run:0:8}" --db "$DB" >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q -- "--table reads the whole workspace" "$WS/err" || fail "message: $(cat "$WS/err")"
  ;;
errors)
  "$APP" export --table --db "$WS/none.sqlite" >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q "none.sqlite: no such workspace database" "$WS/err" || fail "message: $(cat "$WS/err")"
  echo "not sqlite" >"$WS/bad.sqlite"
  "$APP" export --table --db "$WS/bad.sqlite" >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q "^error: .*bad.sqlite" "$WS/err" || fail "message: $(cat "$WS/err")"
  "$APP" export --groups --db "$DB" >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q -- "--groups requires --table" "$WS/err" || fail "message: $(cat "$WS/err")"
  "$APP" export --table --format tsv --db "$DB" >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  "$APP" export --table --csv "$WS/x" --db "$DB" >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  "$APP" export --db "$DB" >"$WS/out" 2>"$WS/err"
  expect_code $? 2
  grep -q "GROUP_OR_RUN (or --table)" "$WS/err" || fail "message: $(cat "$WS/err")"
  "$APP" export --help | grep -q -- "--table CSV: one header row" || fail "--help lacks the CSV layout"
  ;;
*)
  fail "unknown case $CASE"
  ;;
esac
echo "ok: $CASE"
