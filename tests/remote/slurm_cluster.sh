#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Starts/stops a real single-node Slurm cluster on loopback, entirely under DIR, for tests.
#
#   tests/remote/slurm_cluster.sh start DIR   # munged + slurmctld + slurmd; waits for the node idle
#   . DIR/env.sh                              # exports SLURM_CONF (+ AP_SLURM_* helpers)
#   tests/remote/slurm_cluster.sh stop DIR    # cancels jobs, kills the daemons; idempotent
#   tests/remote/slurm_cluster.sh status DIR  # sinfo/squeue against the cluster
#   tests/remote/slurm_cluster.sh logs DIR    # tails of the daemon logs
#
# Uses Debian 12's packages (slurmctld slurmd slurm-client munge); never touches /etc/slurm,
# /etc/munge or the system munged. Env: AP_SLURM_CPUS (default 4: the node advertises that many
# CPUs whatever the machine has, SlurmdParameters=config_overrides), AP_SLURM_TIMEOUT (60 s).
set -euo pipefail

die() { echo "slurm_cluster: $*" >&2; exit 1; }

cmd=${1:-}
DIR=${2:-}
{ [ -n "$cmd" ] && [ -n "$DIR" ]; } || die "usage: $0 start|stop|status|logs DIR"

log_tails() {
  local f
  for f in "$DIR"/log/munged.log "$DIR"/log/slurmctld.log "$DIR"/log/slurmd.log \
           "$DIR"/log/slurmctld.out "$DIR"/log/slurmd.out; do
    [ -s "$f" ] || continue
    echo "----- tail -n 25 $f" >&2
    tail -n 25 "$f" >&2 || true
  done
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
read_pid() { if [ -s "$1" ]; then tr -dc '0-9' <"$1"; fi; }

# Kills the daemons whose pids are in files "$@" together (each takes 1.5-2 s to exit on SIGTERM):
# SIGTERM, up to 10 s, then SIGKILL.
kill_pidfiles() {
  local pf pid pids=() alive
  for pf in "$@"; do
    pid=$(read_pid "$pf")
    if pid_alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  for _ in $(seq 1 100); do
    alive=0
    for pid in "${pids[@]}"; do pid_alive "$pid" && alive=1; done
    [ $alive = 1 ] || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  rm -f "$@"
}

free_ports() {  # prints $1 distinct free TCP ports on 127.0.0.1
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

do_stop() {
  [ -d "$DIR" ] || return 0
  if [ -f "$DIR/slurm.conf" ] && pid_alive "$(read_pid "$DIR/run/slurmctld.pid")"; then
    # Cancel whatever is still queued or running so no slurmstepd outlives the cluster.
    local ids
    ids=$(SLURM_CONF="$DIR/slurm.conf" timeout 5 squeue -h -o %A 2>/dev/null || true)
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086
      SLURM_CONF="$DIR/slurm.conf" timeout 5 scancel $ids 2>/dev/null || true
      for _ in $(seq 1 40); do
        [ -z "$(SLURM_CONF="$DIR/slurm.conf" timeout 5 squeue -h -o %A 2>/dev/null)" ] && break
        sleep 0.25
      done
    fi
  fi
  kill_pidfiles "$DIR/run/slurmd.pid" "$DIR/run/slurmctld.pid" "$DIR/run/munged.pid"
  if [ -s "$DIR/run/sockdir" ]; then  # short socket dir under /tmp (long DIR)
    local sd
    sd=$(cat "$DIR/run/sockdir")
    case "$sd" in /tmp/ap-slurm.*) rm -rf "$sd" ;; esac
    rm -f "$DIR/run/sockdir"
  fi
  return 0
}

do_start() {
  command -v slurmctld >/dev/null || die "slurmctld not found (apt-get install slurmctld slurmd slurm-client munge)"
  command -v slurmd >/dev/null || die "slurmd not found"
  command -v munged >/dev/null || die "munged not found"
  command -v sinfo >/dev/null || die "sinfo not found (slurm-client)"
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd -P)
  if pid_alive "$(read_pid "$DIR/run/slurmctld.pid")"; then
    die "a cluster is already running in $DIR (stop it first)"
  fi
  do_stop
  rm -rf "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/run" "$DIR/slurm.conf" "$DIR/env.sh"
  mkdir -p "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/run"
  chmod 755 "$DIR/munge"  # clients (any uid) must reach the socket
  chmod 755 "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/run"

  local user host cpus ctld_port slurmd_port sockdir sock spool
  user=$(id -un)
  host=$(hostname -s)
  cpus=${AP_SLURM_CPUS:-4}
  read -r ctld_port slurmd_port <<<"$(free_ports 2)"

  # Unix socket paths are limited to 108 bytes: munged's socket and slurmstepd's sockets in
  # SlurmdSpoolDir (<spool>/<node>/<node>_<job>.<step>) go to a short /tmp dir when DIR is long.
  sockdir="$DIR"
  if [ $((${#DIR} + 2 * ${#host} + 45)) -gt 104 ]; then
    sockdir=$(mktemp -d /tmp/ap-slurm.XXXXXX)
    chmod 755 "$sockdir"
    echo "$sockdir" >"$DIR/run/sockdir"
  fi
  spool="$sockdir/spool"
  mkdir -p "$sockdir/munge" "$spool/$host"
  chmod 755 "$sockdir/munge"
  sock="$sockdir/munge/munge.socket"
  dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$DIR/munge/munge.key"
  # --force: munged objects to running as root and to group/world-accessible parent dirs
  # (e.g. /tmp); neither matters for a throw-away test cluster.
  munged --force --socket="$sock" --key-file="$DIR/munge/munge.key" \
    --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
    --seed-file="$DIR/munge/munged.seed" --num-threads=2 \
    </dev/null >"$DIR/log/munged.out" 2>&1 || { log_tails; die "munged failed to start"; }
  for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { log_tails; die "munged socket $sock did not appear"; }
  munge -n -S "$sock" | unmunge -S "$sock" >/dev/null || { log_tails; die "munge round trip failed"; }

  cat >"$DIR/slurm.conf" <<EOF
# Generated by tests/remote/slurm_cluster.sh: a throw-away single-node cluster on loopback.
ClusterName=aptest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$spool/%n
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=5
MinJobAge=600
InactiveLimit=0
Waittime=0
MessageTimeout=10
SlurmdTimeout=300
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
PlugStackConfig=$DIR/plugstack.conf
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus Boards=1 SocketsPerBoard=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=1024 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  : >"$DIR/plugstack.conf"  # keep /etc/slurm/plugstack.conf (spank plugins) out of the picture

  cat >"$DIR/env.sh" <<EOF
# Source me: points Slurm's client commands (sbatch, srun, squeue, scontrol, scancel, sinfo) at
# the test cluster in $DIR.
export SLURM_CONF=$DIR/slurm.conf
export AP_SLURM_DIR=$DIR
export AP_SLURM_NODE=$host
export AP_SLURM_PARTITION=debug
export AP_SLURM_JOBCOMP=$DIR/log/jobcomp.txt
EOF

  # Foreground mode (-D) in the background, every fd redirected, so that nothing (ctest, a pipe)
  # waits on the daemons' output; setsid keeps them out of the caller's process group/signals.
  setsid slurmctld -D -c -i -f "$DIR/slurm.conf" </dev/null >"$DIR/log/slurmctld.out" 2>&1 &
  echo $! >"$DIR/run/slurmctld.pid"
  local ok=0
  for _ in $(seq 1 100); do
    if SLURM_CONF="$DIR/slurm.conf" timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; then ok=1; break; fi
    pid_alive "$(read_pid "$DIR/run/slurmctld.pid")" || break
    sleep 0.2
  done
  [ $ok = 1 ] || { log_tails; do_stop; die "slurmctld did not come up"; }

  setsid slurmd -D -N "$host" -f "$DIR/slurm.conf" </dev/null >"$DIR/log/slurmd.out" 2>&1 &
  echo $! >"$DIR/run/slurmd.pid"

  local timeout=${AP_SLURM_TIMEOUT:-60} state=""
  local deadline=$((SECONDS + timeout))
  while [ $SECONDS -lt $deadline ]; do
    state=$(SLURM_CONF="$DIR/slurm.conf" timeout 5 sinfo -h -N -n "$host" -o %t 2>/dev/null | head -n1 || true)
    [ "$state" = idle ] && break
    pid_alive "$(read_pid "$DIR/run/slurmd.pid")" || { state="slurmd exited"; break; }
    sleep 0.2
  done
  if [ "$state" != idle ]; then
    echo "slurm_cluster: node $host not idle after ${timeout}s (state: ${state:-none})" >&2
    SLURM_CONF="$DIR/slurm.conf" timeout 5 scontrol show node "$host" >&2 2>/dev/null || true
    log_tails
    do_stop
    exit 1
  fi
  echo "slurm_cluster: up in $DIR (node $host, $cpus CPUs, slurmctld :$ctld_port, slurmd :$slurmd_port); . $DIR/env.sh"
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop ;;
  status)
    SLURM_CONF="$DIR/slurm.conf" sinfo
    SLURM_CONF="$DIR/slurm.conf" squeue ;;
  logs) log_tails 2>&1 ;;
  *) die "unknown command $cmd (start|stop|status|logs)" ;;
esac
