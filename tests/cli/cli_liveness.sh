#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Dead runs, with real processes: cli_liveness.sh APPORTION DATA_DIR CASE.
#   kill9    a run SIGKILLed mid-training is DEAD in `apportion runs` within 10 s, resumes, and
#            ends bit-identical to an uninterrupted run (adapters compared byte for byte)
#   sigstop  a SIGSTOPped run stays RUNNING (never DEAD), its --resume and `close` are refused;
#            a SIGKILLed one is closed as FAILED ("process lost"); --threads is bounded
#   resume_set  --resume --set records what it changed; a FINISHED run extends as its error
#            message says (--set train.steps=…)
#   double_resume  two `--resume` of one DEAD run started at the same instant: exactly one
#            trains it (to FINISHED), the other is refused (exit 2) naming the one that does
set -u
APP=$1 DATA=$2 CASE=$3
WS=$(mktemp -d)
DB=$WS/workspace.sqlite
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$WS"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
run_id_of() { head -n 1 "$1" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/'; }
status_of() { "$APP" runs --db "$DB" | awk -v id="${1:0:8}" '$1 == id {print $2}'; }
# Waits until the run writing OUT has committed step ≥ $2 to the store (JSON "committed" lines).
wait_for_step() {
  for _ in $(seq 1 600); do
    last=$(grep '"event":"committed"' "$1" 2>/dev/null | tail -n 1 | grep -o '"step":[0-9]*' | grep -o '[0-9]*$')
    [ -n "$last" ] && [ "$last" -ge "$2" ] && return 0
    sleep 0.05
  done
  fail "the run did not reach step $2: $(tail -n 3 "$1")"
}
# Starts a training process in the background writing OUT ($1) for $2 steps; sets $pid.
start_trainer() {
  "$APP" train "$DATA/tiny-random.json" --db "$DB" "${SLOW[@]}" --max-steps "$2" >"$1" 2>"$1.err" &
  pid=$!
  PIDS+=($pid)
}
SLOW=(--threads 1 --progress json --set train.checkpoint_every=5 --set train.log_matrices_every=50
      --set train.eval_every=1000)

case $CASE in
kill9)
  "$APP" train "$DATA/tiny-random.json" --db "$DB" "${SLOW[@]}" --max-steps 120 >"$WS/ref" 2>"$WS/err" \
    || fail "reference run: $(cat "$WS/err")"
  ref=$(run_id_of "$WS/ref")
  start_trainer "$WS/out" 120
  wait_for_step "$WS/out" 12
  run=$(run_id_of "$WS/out")
  kill -9 $pid
  wait $pid 2>/dev/null
  start=$(date +%s%N)
  for _ in $(seq 1 100); do
    [ "$(status_of "$run")" = DEAD ] && break
    sleep 0.1
  done
  took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ "$(status_of "$run")" = DEAD ] || fail "not DEAD 10 s after SIGKILL: $("$APP" runs --db "$DB")"
  echo "ok: DEAD after ${took_ms} ms"
  "$APP" runs --db "$DB" | grep -q "apportion close RUN" || fail "no hint how to close or resume"
  "$APP" show "${run:0:8}" --db "$DB" | grep -q "process lost" || fail "show does not say why"
  "$APP" train --resume "$run" --db "$DB" --threads 1 --progress none 2>"$WS/err2" \
    || fail "resume of the dead run failed: $(cat "$WS/err2")"
  [ "$(status_of "$run")" = FINISHED ] || fail "resumed run not FINISHED"
  cmp -s "$WS/runs/$run/adapters.safetensors" "$WS/runs/$ref/adapters.safetensors" \
    || fail "the resumed run differs from the uninterrupted one"
  echo "ok: resumed bit-exactly"
  ;;
sigstop)
  start_trainer "$WS/out" 100000
  wait_for_step "$WS/out" 3
  run=$(run_id_of "$WS/out")
  kill -STOP $pid
  for _ in 1 2 3 4; do
    sleep 1
    [ "$(status_of "$run")" = RUNNING ] || fail "a stopped (alive) run shows $(status_of "$run")"
  done
  echo "ok: a SIGSTOPped run stays RUNNING"
  "$APP" train --resume "$run" --db "$DB" --threads 1 --progress none 2>"$WS/err2"
  [ $? = 2 ] || fail "--resume of a live run was not refused"
  grep -q "still being trained by process $pid" "$WS/err2" || fail "refusal: $(cat "$WS/err2")"
  "$APP" close "$run" --db "$DB" 2>"$WS/err3"
  [ $? = 2 ] || fail "close of a live run was not refused"
  grep -q "still being trained" "$WS/err3" || fail "close refusal: $(cat "$WS/err3")"
  echo "ok: resume and close of a live run refused"
  kill -CONT $pid
  kill -TERM $pid
  wait $pid
  [ $? = 3 ] || fail "SIGTERM did not end KILLED"
  "$APP" close "$run" --db "$DB" 2>"$WS/err4"
  [ $? = 2 ] || fail "close of a KILLED run was accepted"
  # A SIGKILLed run is closed: FAILED with the reason.
  start_trainer "$WS/out5" 100000
  wait_for_step "$WS/out5" 2
  run=$(run_id_of "$WS/out5")
  kill -9 $pid
  wait $pid 2>/dev/null
  "$APP" close "${run:0:8}" --db "$DB" >"$WS/closed" 2>&1 || fail "close: $(cat "$WS/closed")"
  [ "$(status_of "$run")" = FAILED ] || fail "closed run not FAILED"
  "$APP" show "$run" --db "$DB" | grep -q "error = process lost" || fail "no reason tag"
  echo "ok: a dead run closed as FAILED"
  # --threads is bounded by the cores.
  "$APP" train "$DATA/tiny-random.json" --db "$DB" --threads 100000 --progress none 2>"$WS/err6"
  [ $? = 2 ] || fail "--threads 100000 accepted"
  grep -q -- "--threads" "$WS/err6" || fail "threads message: $(cat "$WS/err6")"
  echo "ok: --threads 100000 refused"
  ;;
resume_set)
  # A resume with --set records what it changed; a FINISHED run is extended by raising steps.
  "$APP" train "$DATA/tiny-random.json" --db "$DB" --threads 1 --progress json --max-steps 6 \
    --stop-after 3 >"$WS/out" 2>"$WS/err"
  [ $? = 3 ] || fail "stop-after did not end KILLED: $(cat "$WS/err")"
  run=$(run_id_of "$WS/out")
  "$APP" train --resume "$run" --db "$DB" --threads 1 --progress none --set train.lr=0.004 2>"$WS/err" \
    || fail "resume with --set: $(cat "$WS/err")"
  "$APP" show "$run" --db "$DB" >"$WS/show"
  grep -q "resume/changed = .*train.lr: .* → 0.004" "$WS/show" || fail "no resume/changed tag: $(grep resume "$WS/show")"
  grep -q '"lr": 0.004' "$WS/show" || fail "the stored config keeps the old lr"
  echo "ok: resume --set recorded"
  "$APP" train --resume "$run" --db "$DB" --threads 1 --progress none 2>"$WS/err"
  [ $? = 2 ] || fail "resume of a FINISHED run without more steps was accepted"
  hint=$(grep -o -- "--set train.steps=[0-9]*" "$WS/err") || fail "no hint: $(cat "$WS/err")"
  "$APP" train --resume "$run" --db "$DB" --threads 1 --progress none $hint 2>"$WS/err" \
    || fail "extending with '$hint' (the message's own advice) failed: $(cat "$WS/err")"
  [ "$(status_of "$run")" = FINISHED ] || fail "extended run not FINISHED"
  "$APP" runs --db "$DB" | awk -v id="${run:0:8}" '$1 == id {print $5}' | grep -qx 12 \
    || fail "extended run did not reach step 12: $("$APP" runs --db "$DB")"
  "$APP" show "$run" --db "$DB" | grep -q "train.steps: 6 → 12" || fail "extension not recorded"
  echo "ok: a FINISHED run extended as its error message says"
  ;;
double_resume)
  start_trainer "$WS/out" 60
  wait_for_step "$WS/out" 6
  run=$(run_id_of "$WS/out")
  kill -9 $pid
  wait $pid 2>/dev/null
  for i in 1 2; do
    "$APP" train --resume "$run" --db "$DB" --threads 1 --progress none 2>"$WS/resume$i.err" &
    rpid[$i]=$!
    PIDS+=(${rpid[$i]})
  done
  wait ${rpid[1]}; code1=$?
  wait ${rpid[2]}; code2=$?
  echo "exit codes: $code1 $code2"
  [ "$code1$code2" = 02 ] || [ "$code1$code2" = 20 ] \
    || fail "expected one resume to train and one refusal: $code1/$code2 $(cat "$WS"/resume*.err)"
  cat "$WS"/resume*.err | grep -Eq "took it over a moment ago|still being trained by process" \
    || fail "refusal message: $(cat "$WS"/resume*.err)"
  [ "$(status_of "$run")" = FINISHED ] || fail "the run is $(status_of "$run")"
  echo "ok: one of two simultaneous resumes trained the run; the other was refused"
  ;;
*)
  fail "unknown case $CASE"
  ;;
esac
echo "PASS: $CASE"
