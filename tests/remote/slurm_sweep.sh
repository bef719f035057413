#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Slurm executor against a real single-node Slurm cluster on loopback (slurm_cluster.sh:
# munged, slurmctld, slurmd from Debian's slurm-wlm): `apportion sweep` submits a 4-run sweep
# (2 learning rates × 2 seeds) as one job array with %2, `apportion stop` cancels one member
# while it trains (scancel → SIGTERM → checkpoint, KILLED), `sweep --resubmit` resubmits it
# alone (it resumes from its checkpoint), and `pull --follow` brings all four home: each member's
# own store equals the home store row for row. Then a 2-rank data-parallel run through
# `srun -n 2` (profile "ntasks": 2) matches a single-process run of the same config step for
# step (train/loss within 1e-6).
# Usage: slurm_sweep.sh APPORTION TESTDATA_DIR      (exit 77: Slurm not installed)
set -euo pipefail
APP=$(readlink -f "$1")
DATA=$(readlink -f "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
for b in slurmctld slurmd munged sbatch srun scancel squeue; do
  command -v "$b" > /dev/null || { echo "SKIP: $b not installed"; exit 77; }
done
T=$(mktemp -d /tmp/ap-slurm-sweep.XXXXXX)
ok=0
cleanup() {
  "$HERE/slurm_cluster.sh" stop "$T/cluster" > /dev/null 2>&1 || true
  if [ "$ok" = 1 ]; then rm -rf "$T"; else
    for f in "$T"/remote-ws/remote/*/err.log "$T"/remote-ws/remote/slurm-*.out; do
      [ -s "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
    done
    echo "(kept $T)"
  fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; "$HERE/slurm_cluster.sh" status "$T/cluster" || true; exit 1; }

"$HERE/slurm_cluster.sh" start "$T/cluster"
# shellcheck disable=SC1091
. "$T/cluster/env.sh"
mkdir -p "$T/remote-ws" "$T/home"
cat > "$T/slurm.json" <<JSON
{"kind": "slurm", "partition": "debug", "time_limit": "00:10:00", "cpus_per_task": 1,
 "apportion": "$APP", "workspace": "$T/remote-ws", "max_parallel": 2}
JSON
cat > "$T/sweep.json" <<JSON
{"name": "lr-sweep", "experiment": "$DATA/cli/tiny-random.json",
 "grid": {"train.lr": [0.001, 0.003]}, "seeds": [0, 1], "max_steps": 1500,
 "set": ["train.eval_every=100000", "train.log_matrices_every=50", "train.checkpoint_every=100000"]}
JSON
HOME_DB="$T/home/workspace.sqlite"
"$APP" sweep "$T/sweep.json" --on "$T/slurm.json" --db "$HOME_DB" | tee "$T/sweep.out"
KEY=$(sed -n 's/^sweep \(sw-[0-9a-f]*\):.*/\1/p' "$T/sweep.out")
[ -n "$KEY" ] || fail "no sweep key printed"
grep -q -- "--array=0-3%2" "$T/remote-ws/remote/$KEY.sbatch" || fail "not one array with %2"

states() {  # one line per home run: launch status step
  python3 - "$HOME_DB" <<'PY'
import sqlite3, sys
try:
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    for k, st, s in db.execute(
            "SELECT t.value, r.status, (SELECT MAX(step) FROM metrics m WHERE m.run_id = r.run_id "
            "AND m.key = 'train/loss') FROM runs r JOIN tags t ON t.run_id = r.run_id "
            "AND t.key = 'remote/launch' ORDER BY t.value"):
        print(k, st, s or 0)
except Exception:
    pass
PY
}
# Cancel member 1 while it trains (watched in its own store over there: a pull round asks
# about all four launches, too slow a clock for this).
VICTIM="$KEY-1"
VICTIM_DB="$T/remote-ws/remote/$VICTIM/store.sqlite"
ST=NONE
for _ in $(seq 600); do
  read -r ST STEP < <(python3 - "$VICTIM_DB" <<'PY'
import sqlite3, sys
try:
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    st = db.execute("SELECT status FROM runs").fetchone()[0]
    s = db.execute("SELECT MAX(step) FROM metrics WHERE key = 'train/loss'").fetchone()[0]
    print(st, s or 0)
except Exception:
    print("NONE 0")
PY
)
  [ "$ST" = RUNNING ] && [ "$STEP" -ge 20 ] && break
  [ "$ST" = FINISHED ] && fail "member 1 finished before it could be cancelled"
  sleep 0.1
done
[ "$ST" = RUNNING ] || fail "member 1 never ran (last: $ST)"
"$APP" stop "$VICTIM" --db "$HOME_DB"
timeout 300 "$APP" pull --follow --interval 0.5 --db "$HOME_DB" > "$T/follow1.out"
states | tee "$T/states1"
grep -q "^$VICTIM KILLED" "$T/states1" || fail "the cancelled member is not KILLED"
[ "$(grep -c ' FINISHED ' "$T/states1")" = 3 ] || fail "the other three did not finish"
RUN1=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT run_id FROM tags WHERE key='remote/launch' AND value=?\", (sys.argv[2],)).fetchone()[0])" "$HOME_DB" "$VICTIM")
[ -f "$T/remote-ws/runs/$RUN1/checkpoint.pt" ] || fail "the cancelled member left no checkpoint"

"$APP" sweep --resubmit "$KEY" --db "$HOME_DB" | tee "$T/resubmit.out"
grep -q "^1 of 4 members" "$T/resubmit.out" || fail "resubmit did not pick exactly the cancelled member"
timeout 300 "$APP" pull --follow --interval 0.5 --db "$HOME_DB" > "$T/follow2.out"
states | tee "$T/states2"
[ "$(grep -c ' FINISHED 1500$' "$T/states2")" = 4 ] || fail "not all four FINISHED at step 1500"
for i in 0 1 2 3; do
  python3 "$HERE/store_rows_equal.py" "$HOME_DB" "$T/remote-ws/remote/$KEY-$i/store.sqlite" \
    || fail "member $i: home and remote stores differ"
done
echo "sweep: 4 members FINISHED, one cancelled and resubmitted, all pulled home row for row"

# Data parallel through Slurm: "ntasks": 2 makes the job run `srun apportion train`, two ranks.
DDP_CFG="$HERE/../ddp/data/moe.json"
cat > "$T/slurm-ddp.json" <<JSON
{"kind": "slurm", "partition": "debug", "time_limit": "00:10:00", "cpus_per_task": 1,
 "ntasks": 2, "apportion": "$APP", "workspace": "$T/remote-ws", "max_parallel": 1}
JSON
# No dropout: a plain process draws it from another stream (docs/DISTRIBUTED.md, "Random numbers").
"$APP" train "$DDP_CFG" --db "$T/single/workspace.sqlite" --threads 1 --progress none \
  --set adapters.lora_dropout=0
"$APP" train "$DDP_CFG" --on "$T/slurm-ddp.json" --db "$T/ddp-home/workspace.sqlite" --threads 1 \
  --set adapters.lora_dropout=0 \
  | tee "$T/ddp.out"
DKEY=$(sed -n 's/^launch \(l-[0-9a-f]*\):.*/\1/p' "$T/ddp.out")
timeout 300 "$APP" pull --follow --interval 0.5 --db "$T/ddp-home/workspace.sqlite" > /dev/null
python3 "$HERE/../ddp/store_query.py" compare "$T/single/workspace.sqlite" \
  "$T/ddp-home/workspace.sqlite" 1e-6 train/loss,train/grad_norm \
  || fail "srun -n 2 does not match one process"
[ "$(python3 "$HERE/../ddp/store_query.py" tag "$T/ddp-home/workspace.sqlite" dist/world_size)" = 2 ] \
  || fail "the Slurm run did not train with 2 ranks"
grep -q "^srun " "$T/remote-ws/remote/$DKEY/run.sh" || fail "run.sh does not use srun"
echo "srun -n 2: the 2-rank run matches one process (train/loss within 1e-6)"
ok=1
