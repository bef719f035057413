#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The ssh executor against a real OpenSSH server: starts Debian's sshd on 127.0.0.1 at a free
# port with a generated host key and user key, launches a run through an ssh profile into a
# second workspace folder, watches its rows arrive at home while it trains (`apportion pull`),
# stops it (`apportion stop`: SIGTERM → checkpoint, KILLED), resumes it (`train --resume`
# resubmits it over ssh), pulls it home after it finished and checks that the home store equals
# the remote store row for row; pulling again adds nothing, a pull killed half-way loses
# nothing, and `pull --artifacts` copies the run folder home byte for byte.
# Usage: ssh_executor.sh APPORTION TESTDATA_DIR     (exit 77: no sshd on this machine)
set -euo pipefail
APP=$(readlink -f "$1")
DATA=$(readlink -f "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
SSHD=/usr/sbin/sshd
if [ ! -x "$SSHD" ] || ! command -v ssh > /dev/null; then
  echo "SKIP: OpenSSH server/client not installed (packaging/install-deps.sh installs them)"
  exit 77
fi
# A root sshd chroots its pre-auth child into /run/sshd (made by the package's service, which
# install-deps keeps from starting); an sshd of another user does not need it.
if [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd; fi
T=$(mktemp -d /tmp/ap-ssh.XXXXXX)
ok=0
cleanup() {
  [ -f "$T/sshd.pid" ] && kill "$(cat "$T/sshd.pid")" 2> /dev/null || true
  if [ "$ok" = 1 ]; then rm -rf "$T"; else
    echo "--- sshd log"; tail -n 30 "$T/sshd.log" 2> /dev/null || true
    for f in "$T"/remote-ws/remote/*/err.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
    echo "(kept $T)"
  fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

ssh-keygen -q -t ed25519 -N '' -f "$T/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$T/id"
cp "$T/id.pub" "$T/authorized_keys"
chmod 600 "$T/authorized_keys" "$T/id" "$T/host_key"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$T/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/host_key
PidFile $T/sshd.pid
AuthorizedKeysFile $T/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
LogLevel VERBOSE
CONF
"$SSHD" -f "$T/sshd_config" -E "$T/sshd.log"
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$T/host_key.pub")" > "$T/known_hosts"
SSH=(ssh -F /dev/null -p "$PORT" -i "$T/id" -o IdentitiesOnly=yes -o BatchMode=yes
     -o UserKnownHostsFile="$T/known_hosts" -o StrictHostKeyChecking=yes "$(id -un)@127.0.0.1")
for _ in $(seq 50); do "${SSH[@]}" true 2> /dev/null && break; sleep 0.2; done
"${SSH[@]}" true || fail "cannot log in to the test sshd"

# The remote workspace holds what the config needs (here nothing: an inline random backbone).
mkdir -p "$T/remote-ws" "$T/home"
cat > "$T/profile.json" <<JSON
{"kind": "ssh", "host": "127.0.0.1", "port": $PORT, "user": "$(id -un)",
 "identity_file": "$T/id",
 "ssh_options": ["-F", "/dev/null", "-o", "IdentitiesOnly=yes",
                 "-o", "UserKnownHostsFile=$T/known_hosts", "-o", "StrictHostKeyChecking=yes"],
 "apportion": "$APP", "workspace": "$T/remote-ws"}
JSON
HOME_DB="$T/home/workspace.sqlite"
status_of() {  # status and newest train/loss step of the only run at home
  python3 - "$HOME_DB" <<'PY'
import sqlite3, sys
try:
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    r = db.execute("SELECT run_id, status FROM runs").fetchall()
    s = db.execute("SELECT MAX(step) FROM metrics WHERE key = 'train/loss'").fetchone()[0]
    print(r[0][0], r[0][1], s or 0) if r else print("- NONE 0")
except Exception:
    print("- NONE 0")
PY
}

STEPS=4000
"$APP" train "$DATA/cli/tiny-random.json" --on "$T/profile.json" --db "$HOME_DB" --threads 1 \
  --max-steps $STEPS --set train.eval_every=100000 --set train.log_matrices_every=25 \
  --set train.checkpoint_every=100000 --name over-ssh | tee "$T/launch.out"
KEY=$(sed -n 's/^launch \(l-[0-9a-f]*\):.*/\1/p' "$T/launch.out")
[ -n "$KEY" ] || fail "no launch key printed"

# Live progress: rows arrive at home while the run trains over there.
seen_running=0
for _ in $(seq 150); do
  "$APP" pull --db "$HOME_DB" > /dev/null
  read -r RUN ST STEP < <(status_of)
  echo "poll: $ST $STEP" >> "$T/polls.log"
  if [ "$ST" = RUNNING ] && [ "$STEP" -ge 20 ]; then seen_running=1; break; fi
  [ "$ST" = FINISHED ] && fail "the run finished before it could be stopped (raise STEPS)"
  sleep 0.2
done
[ "$seen_running" = 1 ] || fail "no live rows of a RUNNING run arrived at home (last: $ST $STEP)"
echo "live: run $RUN RUNNING at step $STEP, pulled home while it trains"

"$APP" stop "${RUN:0:8}" --db "$HOME_DB"
for _ in $(seq 100); do
  "$APP" pull --db "$HOME_DB" > /dev/null
  read -r RUN ST STEP < <(status_of)
  [ "$ST" = KILLED ] && break
  sleep 0.2
done
[ "$ST" = KILLED ] || fail "after stop the run is $ST, not KILLED"
[ -f "$T/remote-ws/runs/$RUN/checkpoint.pt" ] || fail "no checkpoint after stop"
echo "stopped: KILLED at step $STEP with a checkpoint"

"$APP" train --resume "${RUN:0:8}" --db "$HOME_DB"
# An interrupted pull (killed at once) loses nothing: the next pull starts from what arrived.
timeout -s KILL 0.3 "$APP" pull --db "$HOME_DB" > /dev/null 2>&1 || true
timeout 300 "$APP" pull --follow --interval 0.5 --db "$HOME_DB" > "$T/follow.out"
read -r RUN ST STEP < <(status_of)
[ "$ST" = FINISHED ] || fail "after resume the run is $ST, not FINISHED"
[ "$STEP" = "$STEPS" ] || fail "the resumed run ended at step $STEP, not $STEPS"
echo "resumed: FINISHED at step $STEP"

REMOTE_DB="$T/remote-ws/remote/$KEY/store.sqlite"
python3 "$HERE/store_rows_equal.py" "$HOME_DB" "$REMOTE_DB" || fail "home and remote stores differ"
"$APP" pull --all --db "$HOME_DB" | tee "$T/again.out"
grep -q "(+0 rows)" "$T/again.out" || fail "pulling again added rows"
python3 "$HERE/store_rows_equal.py" "$HOME_DB" "$REMOTE_DB" > /dev/null || fail "differ after re-pull"

"$APP" pull --artifacts "${RUN:0:8}" --db "$HOME_DB"
cmp "$T/home/runs/$RUN/checkpoint.pt" "$T/remote-ws/runs/$RUN/checkpoint.pt" \
  || fail "the checkpoint copied home differs"
echo "PASS: ssh executor (launch, live pull, stop, resume, row-for-row pull, artifacts)"
ok=1
