#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Concurrent writers with real processes: cli_concurrency.sh APPORTION DATA_DIR [STEPS [POLLER]].
# Four `apportion train` processes write into one store at once while two readers poll
# `apportion runs --json` and `apportion show RUN --json` every 0.2 s, and (with POLLER, the
# store_poller program) one in-process RunReader polls the run list and every run's new
# train/loss rows every 0.2 s from before the first writer starts. Checks: every writer exits 0
# FINISHED, no output mentions a busy or locked database, no reader call fails, and every run's
# exported metrics hold one train/loss row per logged step. Prints the measured numbers.
set -u
APP=$1 DATA=$2 STEPS=${3:-200} POLLER=${4:-}
WRITERS=4
WS=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WS"' EXIT
DB=$WS/workspace.sqlite
fail() { echo "FAIL: $*"; exit 1; }
now_ms() { date +%s%3N; }
run_id_of() { head -n 1 "$WS/w$1.out" | sed -n 's/.*"run_id":"\([0-9a-f]*\)".*/\1/p'; }

LOG_EVERY=1
if [ -n "$POLLER" ]; then
  "$POLLER" "$DB" "$WS/stop-poller" >"$WS/poller.out" 2>"$WS/poller.err" &
  poller_pid=$!
fi
start=$(now_ms)
pids=()
for w in $(seq 1 $WRITERS); do
  "$APP" train "$DATA/tiny-random.json" --db "$DB" --threads 1 --progress json \
    --max-steps "$STEPS" --name "writer-$w" --set seed=$w --set train.log_every=$LOG_EVERY \
    --set train.eval_every=50 --set train.log_matrices_every=10 --set train.checkpoint_every=100 \
    >"$WS/w$w.out" 2>"$WS/w$w.err" &
  pids+=($!)
done

# Readers start once every writer has created its run row (a reader that opens the file while
# the first writer is still creating the schema is told "holds no run store yet"), then poll
# until every writer has exited; they count polls and failures.
for _ in $(seq 1 600); do
  n=0
  for w in $(seq 1 $WRITERS); do [ -n "$(run_id_of "$w" 2>/dev/null)" ] && n=$((n + 1)); done
  [ $n = $WRITERS ] && break
  sleep 0.1
done
started=$(now_ms)
reader() {  # KIND: runs | show
  local polls=0 failures=0 id t0 ms total=0 max=0
  while :; do
    local alive=0 p
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 1 ] || break
    t0=$(now_ms)
    if [ "$1" = runs ]; then
      "$APP" runs --db "$DB" --json >"$WS/r.$1.out" 2>"$WS/r.$1.err"
    else
      id=$(run_id_of $((polls % WRITERS + 1)))
      [ -n "$id" ] || { sleep 0.2; continue; }
      "$APP" show "$id" --db "$DB" --json >"$WS/r.$1.out" 2>"$WS/r.$1.err"
    fi
    local code=$?
    ms=$(($(now_ms) - t0)) total=$((total + ms))
    [ $ms -gt $max ] && max=$ms
    polls=$((polls + 1))
    if [ $code = 0 ] && ! { [ "$1" = runs ] && tail -n 1 "$WS/r.$1.out" | grep -q "^]"; } &&
       ! { [ "$1" = show ] && grep -q "\"run_id\": \"$id\"" "$WS/r.$1.out"; }; then
      code="0 but unexpected output: $(head -c 200 "$WS/r.$1.out")"
    fi
    if [ "$code" != 0 ]; then
      failures=$((failures + 1))
      { echo "poll $polls: exit $code"; cat "$WS/r.$1.err"; } >>"$WS/r.$1.failures"
    fi
    cat "$WS/r.$1.err" >>"$WS/r.$1.allerr"
    sleep 0.2
  done
  echo "$polls $failures $((total / (polls > 0 ? polls : 1))) $max" >"$WS/r.$1.count"
}
: >"$WS/r.runs.allerr"
: >"$WS/r.show.allerr"
reader runs &
rpid1=$!
reader show &
rpid2=$!

codes=()
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"
  codes+=($?)
done
end=$(now_ms)
wait $rpid1 $rpid2

# Writers: exit 0, FINISHED, nothing about a busy or locked database.
for w in $(seq 1 $WRITERS); do
  [ "${codes[$((w - 1))]}" = 0 ] || fail "writer $w exit ${codes[$((w - 1))]}: $(tail -n 5 "$WS/w$w.err")"
  tail -n 1 "$WS/w$w.out" | grep -q '"status":"FINISHED"' || fail "writer $w not FINISHED: $(tail -n 2 "$WS/w$w.out")"
done
if grep -il 'SQLITE_BUSY\|database is locked\|busy' "$WS"/w*.out "$WS"/w*.err "$WS"/r.*.allerr; then
  fail "busy/locked in: $(grep -ih 'SQLITE_BUSY\|database is locked\|busy' "$WS"/w*.out "$WS"/w*.err "$WS"/r.*.allerr | head -n 3)"
fi
read -r runs_polls runs_fail runs_mean runs_max <"$WS/r.runs.count"
read -r show_polls show_fail show_mean show_max <"$WS/r.show.count"
[ "$runs_fail" = 0 ] || fail "runs reader failed $runs_fail of $runs_polls polls: $(head -n 5 "$WS/r.runs.failures")"
[ "$show_fail" = 0 ] || fail "show reader failed $show_fail of $show_polls polls: $(head -n 5 "$WS/r.show.failures")"
[ "$runs_polls" -ge 2 ] && [ "$show_polls" -ge 2 ] ||
  fail "readers polled only $runs_polls (runs) and $show_polls (show) times (writers too fast?)"

# The in-process poller: many polls, no failure, and it saw every train/loss row as it came.
poller_report=''
if [ -n "$POLLER" ]; then
  touch "$WS/stop-poller"
  wait "$poller_pid"
  poller_code=$?
  read -r _ p_polls _ p_fail _ p_max _ p_rows <"$WS/poller.out"
  [ "$poller_code" = 0 ] && [ "$p_fail" = 0 ] ||
    fail "the poller failed $p_fail of $p_polls polls: $(head -n 3 "$WS/poller.err")"
  [ "$p_polls" -ge 20 ] || fail "the poller polled only $p_polls times"
  [ "$p_rows" = $((WRITERS * STEPS / LOG_EVERY)) ] ||
    fail "the poller saw $p_rows train/loss rows, expected $((WRITERS * STEPS / LOG_EVERY))"
  poller_report=" in-process poller: $p_polls polls every 0.2 s (max $p_max ms), 0 failures, all $p_rows train/loss rows seen;"
fi

# Every run's metric rows are complete: one train/loss per logged step, steps 1..STEPS.
expected=$((STEPS / LOG_EVERY))
rows_report=''
for w in $(seq 1 $WRITERS); do
  id=$(run_id_of "$w")
  "$APP" export "$id" --db "$DB" --csv "$WS/csv$w" 2>"$WS/e$w.err" || fail "export $id: $(cat "$WS/e$w.err")"
  n=$(grep -c '^train/loss,' "$WS/csv$w/metrics.csv")
  distinct=$(grep '^train/loss,' "$WS/csv$w/metrics.csv" | cut -d, -f2 | sort -un | wc -l)
  last=$(grep '^train/loss,' "$WS/csv$w/metrics.csv" | cut -d, -f2 | sort -n | tail -n 1)
  [ "$n" = "$expected" ] && [ "$distinct" = "$expected" ] && [ "$last" = "$STEPS" ] ||
    fail "run $id: $n train/loss rows ($distinct distinct steps, last $last), expected $expected"
  rows=$(($(wc -l <"$WS/csv$w/metrics.csv") - 1))
  rows_report+=" $rows"
done
[ "$("$APP" runs --db "$DB" | grep -c FINISHED)" = "$WRITERS" ] || fail "runs does not list $WRITERS FINISHED runs"
secs() { echo "$(($1 / 1000)).$(($1 % 1000 / 100)) s"; }
echo "ok: $WRITERS writers x $STEPS steps in $(secs $((end - start))) (all FINISHED; all run rows after" \
     "$(secs $((started - start)))); readers over the remaining $(secs $((end - started))):" \
     "$runs_polls runs polls (mean $runs_mean ms, max $runs_max ms), $show_polls show polls" \
     "(mean $show_mean ms, max $show_max ms), 0 failures;$poller_report" \
     "train/loss rows per run $expected; metric rows per run:$rows_report"
echo "PASS: concurrency"
