#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Data-parallel training with real processes on loopback (docs/DISTRIBUTED.md), one case per
# invocation: ddp.sh APPORTION TEST_DIR CASE. Ranks are started with torchrun-style variables
# (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK) into one workspace; runs are compared
# with store_query.py. Cases: match_plain, match_dropout, drlora, kill_rank1, kill_rank0, hang,
# stop_resume, guilomo, slurm_env, refuse.
set -u
APP=$1 DIR=$2 CASE=$3
DATA=$DIR/data
Q=(python3 "$DIR/store_query.py")
WS=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$WS"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$WS"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# single NAME CONFIG [ARGS…]: one plain process into $WS/NAME/ws.sqlite; sets CODE.
single() {
  local name=$1; shift
  mkdir -p "$WS/$name"
  APPORTION_DIST=off "$APP" train "$@" --db "$WS/$name/ws.sqlite" --threads 1 --progress json \
    >"$WS/$name.out" 2>"$WS/$name.err"
  CODE=$?
}
# start_ranks NAME W CONFIG [ARGS…]: W rank processes in the background (pids in RANK_PIDS).
start_ranks() {
  local name=$1 w=$2; shift 2
  mkdir -p "$WS/$name"
  local port; port=$(free_port)
  RANK_PIDS=()
  for ((r = 0; r < w; ++r)); do
    MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=$w RANK=$r LOCAL_RANK=$r \
      "$APP" train "$@" --db "$WS/$name/ws.sqlite" --threads 1 --progress json \
      >"$WS/$name.r$r.out" 2>"$WS/$name.r$r.err" &
    RANK_PIDS+=($!)
    PIDS+=($!)
  done
}
# ranks NAME W CONFIG [ARGS…]: start_ranks and wait; CODES holds the exit codes by rank.
ranks() {
  start_ranks "$@"
  CODES=()
  for p in "${RANK_PIDS[@]}"; do wait "$p"; CODES+=($?); done
}
# A data-parallel run's store: one run (rank 0's), FINISHED, tagged with the world; the other
# ranks printed nothing on stdout.
check_world_store() {
  local name=$1 w=$2
  [ "$("${Q[@]}" count "$WS/$name/ws.sqlite")" = 1 ] || fail "$name: expected one run in the store"
  [ "$("${Q[@]}" run "$WS/$name/ws.sqlite" status)" = FINISHED ] || fail "$name: not FINISHED"
  [ "$("${Q[@]}" tag "$WS/$name/ws.sqlite" dist/world_size)" = "$w" ] || fail "$name: dist/world_size"
  [ "$("${Q[@]}" tag "$WS/$name/ws.sqlite" dist/backend)" = gloo ] || fail "$name: dist/backend"
  for ((r = 1; r < w; ++r)); do
    [ -s "$WS/$name.r$r.out" ] && fail "$name: rank $r wrote to stdout: $(head -c 300 "$WS/$name.r$r.out")"
  done
  tail -n 1 "$WS/$name.r0.out" | grep -q '"status":"FINISHED"' || fail "$name: rank 0's last line"
  local run; run=$("${Q[@]}" run "$WS/$name/ws.sqlite" run_id)
  [ -f "$WS/$name/runs/$run/adapters.safetensors" ] || fail "$name: no adapters written"
  [ "$(ls "$WS/$name/runs")" = "$run" ] || fail "$name: another run folder: $(ls "$WS/$name/runs")"
}
KEYS=train/loss,train/grad_norm,moe/balance_loss,eval/loss

case $CASE in
match_plain)
  # Without dropout a step draws no random numbers: 2 ranks compute what one plain process does
  # (4 micro-batches per step, their gradients summed in another order: within 1e-6).
  single plain "$DATA/moe.json" --set adapters.lora_dropout=0
  [ "$CODE" = 0 ] || fail "single process: exit $CODE"
  ranks dp 2 "$DATA/moe.json" --set adapters.lora_dropout=0
  [ "${CODES[*]}" = "0 0" ] || fail "ranks exited ${CODES[*]}"
  check_world_store dp 2
  "${Q[@]}" compare "$WS/plain/ws.sqlite" "$WS/dp/ws.sqlite" 1e-6 "$KEYS" || fail "runs differ"
  # The routing records of the logged micro-batch (rank 1 ran it) reach rank 0's store.
  steps=$("${Q[@]}" matrix_steps "$WS/dp/ws.sqlite" moe/load_fraction)
  [ "$steps" = "5 10 15 20" ] || fail "moe/load_fraction at steps '$steps', expected 5 10 15 20"
  ;;
match_dropout)
  # With dropout each micro-batch draws from (seed, step, micro) in a launched run, wherever it
  # runs: 2 ranks = a launched world of one (WORLD_SIZE=1).
  ranks one 1 "$DATA/moe.json"
  [ "${CODES[*]}" = "0" ] || fail "world of one exited ${CODES[*]}"
  ranks dp 2 "$DATA/moe.json"
  [ "${CODES[*]}" = "0 0" ] || fail "ranks exited ${CODES[*]}"
  check_world_store dp 2
  "${Q[@]}" compare "$WS/one/ws.sqlite" "$WS/dp/ws.sqlite" 1e-6 "$KEYS" || fail "runs differ"
  ;;
drlora)
  # DR-LoRA: routing frequencies and importance summed over the ranks, rank 0's growth broadcast;
  # the same losses, the same growth events and rank records as one plain process.
  single plain "$DATA/drlora.json"
  [ "$CODE" = 0 ] || fail "single process: exit $CODE"
  ranks dp 2 "$DATA/drlora.json"
  [ "${CODES[*]}" = "0 0" ] || fail "ranks exited ${CODES[*]}"
  check_world_store dp 2
  "${Q[@]}" compare "$WS/plain/ws.sqlite" "$WS/dp/ws.sqlite" 1e-6 \
    train/loss,train/grad_norm,eval/loss,drlora/total_rank,drlora/experts_grown,drlora/active_params \
    drlora/rank,drlora/frequency,drlora/importance || fail "runs differ"
  grep -o 'DR-LoRA growth at step [0-9]*: [^"]*' "$WS/plain.out" "$WS/plain.err" | sed 's/^[^:]*://' >"$WS/g1"
  grep -o 'DR-LoRA growth at step [0-9]*: [^"]*' "$WS/dp.r0.out" "$WS/dp.r0.err" | sed 's/^[^:]*://' >"$WS/g2"
  [ -s "$WS/g1" ] || fail "no growth event logged"
  cmp -s "$WS/g1" "$WS/g2" || fail "growth events differ: $(diff "$WS/g1" "$WS/g2")"
  echo "ok: $(wc -l <"$WS/g1") growth events identical"
  ;;
kill_rank1 | kill_rank0 | hang)
  # A long run; once rank 0 has committed step 3, one rank is killed with SIGKILL (or, "hang",
  # stopped with SIGSTOP under a 5 s collective timeout). The other must end with a clear error
  # within 60 s; with rank 0 alive, the run is FAILED in the store.
  victim=1 survivor=0 signal=-9
  [ "$CASE" = kill_rank0 ] && victim=0 survivor=1
  [ "$CASE" = hang ] && { signal=-STOP; export APPORTION_DIST_TIMEOUT_S=5; }
  start_ranks dp 2 "$DATA/moe.json" --set train.steps=100000 --set train.eval_every=100000
  committed() { grep '"event":"committed"' "$WS/dp.r0.out" 2>/dev/null | grep -o '"step":[0-9]*' | tail -n 1 | cut -d: -f2; }
  for _ in $(seq 1200); do
    [ "$(committed)" -ge 3 ] 2>/dev/null && break
    sleep 0.1
  done
  [ "$(committed)" -ge 3 ] 2>/dev/null || fail "the ranks did not reach step 3 in 120 s"
  kill "$signal" "${RANK_PIDS[$victim]}"
  t0=$(date +%s.%N)
  wait "${RANK_PIDS[$survivor]}"
  code=$?
  secs=$(python3 -c "import time; print('%.2f' % (time.time() - $t0))")
  echo "rank $survivor ended with exit code $code $secs s after rank $victim got SIG${signal#-}"
  python3 -c "import sys; sys.exit(0 if $secs < 60 else 1)" || fail "took $secs s"
  [ "$code" = 1 ] || fail "rank $survivor: exit $code, expected 1 (FAILED)"
  err=$WS/dp.r$survivor.err
  grep -q "data-parallel rank $survivor/2" "$err" || fail "the error does not name the rank: $(tail -n 3 "$err")"
  grep -q "ended FAILED" "$err" || fail "the error does not say FAILED: $(tail -n 3 "$err")"
  echo "message: $(grep -m1 "data-parallel rank" "$err" | cut -c1-300)"
  if [ "$survivor" = 0 ]; then
    [ "$("${Q[@]}" run "$WS/dp/ws.sqlite" status)" = FAILED ] || fail "the run is not FAILED in the store"
    tail -n 1 "$WS/dp.r0.out" | grep -q '"status":"FAILED"' || fail "no FAILED status line"
  fi
  ;;
stop_resume)
  # SIGTERM to rank 1 alone: the ranks agree to stop at one step, rank 0 checkpoints, both end
  # KILLED (exit 3). Resumed with 2 ranks (rank 0 reads the checkpoint, the other gets its
  # state), the run ends as an uninterrupted one.
  start_ranks dp 2 "$DATA/moe.json" --set train.steps=16
  committed() { grep '"event":"committed"' "$WS/dp.r0.out" 2>/dev/null | grep -o '"step":[0-9]*' | tail -n 1 | cut -d: -f2; }
  for _ in $(seq 1200); do
    [ "$(committed)" -ge 3 ] 2>/dev/null && break
    sleep 0.1
  done
  kill -TERM "${RANK_PIDS[1]}"
  CODES=()
  for p in "${RANK_PIDS[@]}"; do wait "$p"; CODES+=($?); done
  [ "${CODES[*]}" = "3 3" ] || fail "after SIGTERM to rank 1: exit codes ${CODES[*]}, expected 3 3"
  [ "$("${Q[@]}" run "$WS/dp/ws.sqlite" status)" = KILLED ] || fail "not KILLED in the store"
  run=$("${Q[@]}" run "$WS/dp/ws.sqlite" run_id)
  [ -f "$WS/dp/runs/$run/checkpoint.pt" ] || fail "no checkpoint"
  echo "ok: $(tail -n 1 "$WS/dp.r0.out" | grep -o '"message":"[^"]*"')"
  mv "$WS/dp.r0.out" "$WS/dp.first.out"
  ranks dp 2 --resume "$run"
  [ "${CODES[*]}" = "0 0" ] || fail "resume: exit codes ${CODES[*]}"
  ranks whole 2 "$DATA/moe.json" --set train.steps=16
  [ "${CODES[*]}" = "0 0" ] || fail "uninterrupted run: exit codes ${CODES[*]}"
  "${Q[@]}" compare "$WS/dp/ws.sqlite" "$WS/whole/ws.sqlite" 1e-6 "$KEYS" || fail "resumed run differs"
  ;;
guilomo)
  # The GuiLoMo search in architect rounds (docs/DISTRIBUTED.md): 2 ranks (round 0 = the world
  # size, 2) compute what one plain process with architect_round 2 does — losses within 1e-6,
  # GSVs within 1e-6, the same argmax records and the same readout files. The round is not a
  # no-op: the sequential search (round 1) ends elsewhere. With dropout, rounds of 4 on 2 ranks
  # equal rounds of 4 in a launched world of one (each micro-batch's architect pass draws from
  # its own stream).
  gl() { echo "allocation={\"method\": \"guilomo\", \"guilomo\": {\"stage\": \"search\", \"n_max\": 4, \"r_max\": 4, \"architect_round\": $1}}"; }
  GKEYS=train/loss,train/grad_norm,guilomo/val_loss,eval/loss
  single seq "$DATA/moe.json" --set "$(gl 1)" --set adapters.lora_dropout=0
  [ "$CODE" = 0 ] || fail "sequential search: exit $CODE"
  single plain "$DATA/moe.json" --set "$(gl 2)" --set adapters.lora_dropout=0
  [ "$CODE" = 0 ] || fail "search with rounds of 2: exit $CODE"
  ranks dp 2 "$DATA/moe.json" --set "$(gl 0)" --set adapters.lora_dropout=0
  [ "${CODES[*]}" = "0 0" ] || fail "ranks exited ${CODES[*]}"
  check_world_store dp 2
  for db in plain dp; do
    [ "$("${Q[@]}" tag "$WS/$db/ws.sqlite" guilomo/architect_round)" = 2 ] || fail "$db: guilomo/architect_round"
  done
  "${Q[@]}" compare "$WS/plain/ws.sqlite" "$WS/dp/ws.sqlite" 1e-6 "$GKEYS" alloc/experts,alloc/rank \
    || fail "2 ranks differ from one process with rounds of 2"
  "${Q[@]}" matrix_close "$WS/plain/ws.sqlite" "$WS/dp/ws.sqlite" 1e-6 guilomo/gsv_expert,guilomo/gsv_rank \
    || fail "GSVs differ"
  run1=$("${Q[@]}" run "$WS/plain/ws.sqlite" run_id) run2=$("${Q[@]}" run "$WS/dp/ws.sqlite" run_id)
  for f in guilomo_allocation.json expert.json rank.json; do
    cmp "$WS/plain/runs/$run1/$f" "$WS/dp/runs/$run2/$f" || fail "$f differs"
  done
  seq_diff=$("${Q[@]}" matrix_max_diff "$WS/seq/ws.sqlite" "$WS/plain/ws.sqlite" guilomo/gsv_rank)
  echo "sequential vs rounds of 2: GSVs differ by up to $seq_diff"
  python3 -c "import sys; sys.exit(0 if $seq_diff > 1e-4 else 1)" || fail "round 2 = round 1 ($seq_diff)"
  ranks one 1 "$DATA/moe.json" --set "$(gl 4)"
  [ "${CODES[*]}" = "0" ] || fail "world of one exited ${CODES[*]}"
  ranks dp4 2 "$DATA/moe.json" --set "$(gl 4)"
  [ "${CODES[*]}" = "0 0" ] || fail "rounds of 4 on 2 ranks exited ${CODES[*]}"
  "${Q[@]}" compare "$WS/one/ws.sqlite" "$WS/dp4/ws.sqlite" 1e-6 "$GKEYS" alloc/experts,alloc/rank \
    || fail "rounds of 4 with dropout: 2 ranks differ from a world of one"
  "${Q[@]}" matrix_close "$WS/one/ws.sqlite" "$WS/dp4/ws.sqlite" 1e-6 guilomo/gsv_expert,guilomo/gsv_rank \
    || fail "GSVs differ (rounds of 4, dropout)"
  ;;
slurm_env)
  # What srun gives each task (no torchrun variables): SLURM_PROCID, SLURM_STEP_NUM_TASKS,
  # SLURM_LOCALID, the step's node list (rank 0's host: its first entry) and the job/step ids
  # (the port is derived from them). A job id whose port is free here is picked.
  job=$(python3 -c '
import random, socket
for _ in range(200):
    job = random.randrange(1, 10**6)
    port = 10000 + (job % 100000 * 8) % 20000
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port)); print(job); break
    except OSError:
        pass')
  mkdir -p "$WS/sl"
  RANK_PIDS=()
  for r in 0 1; do
    SLURM_PROCID=$r SLURM_NTASKS=2 SLURM_STEP_NUM_TASKS=2 SLURM_LOCALID=$r SLURM_JOB_ID=$job \
      SLURM_STEP_ID=0 SLURM_STEP_NODELIST='localhost,node[02]' SLURM_JOB_NODELIST=other \
      "$APP" train "$DATA/moe.json" --max-steps 4 --db "$WS/sl/ws.sqlite" --threads 1 \
      --progress json >"$WS/sl.r$r.out" 2>"$WS/sl.r$r.err" &
    RANK_PIDS+=($!)
    PIDS+=($!)
  done
  CODES=()
  for p in "${RANK_PIDS[@]}"; do wait "$p"; CODES+=($?); done
  [ "${CODES[*]}" = "0 0" ] || fail "srun-style ranks exited ${CODES[*]}"
  [ "$("${Q[@]}" tag "$WS/sl/ws.sqlite" dist/launcher)" = slurm ] || fail "dist/launcher is not slurm"
  check_world_store sl 2
  ;;
refuse)
  # Refused alike on every rank before any run row: grad_accum not a multiple of the world, the
  # GuiLoMo search's reference architect, an architect round that is not a multiple of it.
  ranks ga 2 "$DATA/moe.json" --set train.grad_accum=3
  [ "${CODES[*]}" = "2 2" ] || fail "grad_accum 3: exit codes ${CODES[*]}"
  grep -q "train.grad_accum: is 3, but a data-parallel run of 2 ranks" "$WS/ga.r0.err" || fail "message: $(cat "$WS/ga.r0.err")"
  grep -q "rank 1/2: train.grad_accum" "$WS/ga.r1.err" || fail "rank 1's message: $(cat "$WS/ga.r1.err")"
  [ "$("${Q[@]}" count "$WS/ga/ws.sqlite")" = 0 ] || fail "a refused run left a run row"
  ranks gl 2 "$DATA/moe.json" --set 'allocation={"method": "guilomo", "guilomo": {"stage": "search", "architect_mode": "reference"}}'
  [ "${CODES[*]}" = "2 2" ] || fail "guilomo reference search: exit codes ${CODES[*]}"
  grep -q "the \"reference\" architect of the GuiLoMo search cannot train data-parallel (2 ranks)" "$WS/gl.r0.err" || fail "message: $(cat "$WS/gl.r0.err")"
  ranks gr 2 "$DATA/moe.json" --set 'allocation={"method": "guilomo", "guilomo": {"stage": "search", "architect_round": 1}}'
  [ "${CODES[*]}" = "2 2" ] || fail "guilomo round 1: exit codes ${CODES[*]}"
  grep -q "allocation.guilomo.architect_round: is 1, but on 2 ranks" "$WS/gr.r1.err" || fail "message: $(cat "$WS/gr.r1.err")"
  [ "$("${Q[@]}" count "$WS/gr/ws.sqlite")" = 0 ] || fail "a refused search left a run row"
  ;;
*)
  fail "unknown case $CASE"
  ;;
esac
echo "ok: $CASE"
