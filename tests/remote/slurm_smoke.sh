#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Smoke test of the loopback Slurm cluster (tests/remote/slurm_cluster.sh): proves it does what
# Apportion's Slurm executor relies on.
#   1. sbatch --parsable --array=0-3%2: 4 tasks complete, never more than 2 at once, IDs in env
#   2. scancel JOBID_TASK of a running member: the task sees SIGTERM (trap writes a marker)
#      before the SIGKILL, the member ends CANCELLED, its sibling still COMPLETES
#   3. srun -n 2 inside an sbatch --ntasks=2 allocation (and directly): SLURM_PROCID 0/1,
#      SLURM_NTASKS=2, SLURM_STEP_NODELIST set
#   4. finished members' states stay readable (scontrol show job, MinJobAge=600; jobcomp file)
# Usage: slurm_smoke.sh [SCRATCH_DIR]   (default: a fresh mktemp dir, removed on success)
# Exit 77 (ctest SKIP_RETURN_CODE) when the Slurm packages are not installed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER="$HERE/slurm_cluster.sh"

for b in slurmctld slurmd munged sbatch srun scancel scontrol squeue; do
  if ! command -v "$b" >/dev/null; then
    echo "slurm_smoke: SKIP: $b not installed (packaging/install-deps.sh installs slurmctld slurmd slurm-client munge)"
    exit 77
  fi
done

own_scratch=0
if [ $# -ge 1 ]; then
  S=$1; rm -rf "$S"; mkdir -p "$S"
else
  S=$(mktemp -d /tmp/ap-slurm-smoke.XXXXXX); own_scratch=1
fi
S=$(cd "$S" && pwd -P)
C="$S/cluster"
W="$S/work"
mkdir -p "$W"
T0=$SECONDS
failed=1

cleanup() {
  local rc=$?
  if [ $failed = 1 ]; then
    echo "slurm_smoke: FAILED after $((SECONDS - T0)) s; cluster state and daemon logs:" >&2
    if [ -f "$C/slurm.conf" ]; then
      SLURM_CONF="$C/slurm.conf" timeout 5 squeue -a -o '%i %T %R' >&2 2>/dev/null || true
      SLURM_CONF="$C/slurm.conf" timeout 5 sinfo -N -l >&2 2>/dev/null || true
    fi
    "$CLUSTER" logs "$C" >&2 || true
    [ -s "$C/log/jobcomp.txt" ] && { echo "----- $C/log/jobcomp.txt" >&2; cat "$C/log/jobcomp.txt" >&2; }
    for f in "$W"/*.out; do [ -s "$f" ] && { echo "----- $f" >&2; cat "$f" >&2; }; done
  fi
  "$CLUSTER" stop "$C" || true
  if [ $failed = 0 ] && [ $own_scratch = 1 ]; then rm -rf "$S"; fi
  [ $failed = 0 ] || [ $rc != 0 ] || rc=1
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "slurm_smoke: FAIL: $*" >&2; exit 1; }
step() { echo "slurm_smoke: [$((SECONDS - T0))s] $*"; }
now() { date +%s.%N; }

# wait_until TIMEOUT_S DESCRIPTION COMMAND...: polls COMMAND every 0.2 s.
wait_until() {
  local t=$1 what=$2; shift 2
  local deadline=$((SECONDS + t))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${t}s waiting for $what"
    sleep 0.2
  done
}
# JobState of one job or array member (JOBID or JOBID_TASK) from slurmctld's records.
job_state() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n1 | cut -d= -f2; }
queue_empty() { [ -z "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]; }
# sbatch --parsable prints "JOBID" or "JOBID;CLUSTER".
parse_jobid() {
  local out=$1 id
  id=${out%%;*}
  [[ $id =~ ^[0-9]+$ ]] || fail "sbatch --parsable printed '$out', expected JOBID[;CLUSTER]"
  echo "$id"
}

step "starting cluster in $C"
"$CLUSTER" start "$C"
# shellcheck disable=SC1091
. "$C/env.sh"
step "cluster up"

# ---------------------------------------------------------------- 1. array with a %2 throttle
cat >"$W/array.sh" <<'EOF'
#!/bin/bash
f="$AP_W/array.$SLURM_ARRAY_TASK_ID"
echo "$SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID $SLURM_JOB_ID $SLURM_ARRAY_TASK_COUNT" >"$f.ids"
date +%s.%N >"$f.start"
sleep 3
date +%s.%N >"$f.end"
EOF
out=$(AP_W="$W" sbatch --parsable --array=0-3%2 -J ap-array -o "$W/array_%A_%a.out" "$W/array.sh")
ajid=$(parse_jobid "$out")
step "array job $ajid submitted (sbatch --parsable printed '$out')"
wait_until 45 "array $ajid to finish" queue_empty "$ajid"
step "array $ajid done"
for i in 0 1 2 3; do
  [ -s "$W/array.$i.end" ] || fail "array task $i did not finish (no $W/array.$i.end)"
  read -r a t j n <"$W/array.$i.ids"
  [[ $j =~ ^[0-9]+$ ]] || fail "task $i: SLURM_JOB_ID='$j'"
  [ "$a" = "$ajid" ] || fail "task $i: SLURM_ARRAY_JOB_ID=$a, expected $ajid"
  [ "$t" = "$i" ] || fail "task $i: SLURM_ARRAY_TASK_ID=$t"
  [ "$n" = 4 ] || fail "task $i: SLURM_ARRAY_TASK_COUNT=$n, expected 4"
  st=$(job_state "${ajid}_$i")
  [ "$st" = COMPLETED ] || fail "array member ${ajid}_$i state '$st', expected COMPLETED"
done
# Max concurrency from the tasks' own start/end stamps: a sweep over +1/-1 events (ends first on
# ties, since a successor can start within the same instant its predecessor ended).
maxc=$(for i in 0 1 2 3; do
  echo "$(cat "$W/array.$i.start") 1"; echo "$(cat "$W/array.$i.end") -1"
done | sort -k1,1g -k2,2n | awk '{c += $2; if (c > m) m = c} END {print m}')
[ "$maxc" -le 2 ] || fail "up to $maxc array tasks ran at once despite %2"
[ "$maxc" = 2 ] || fail "array tasks never overlapped (max $maxc at once): expected 2 concurrent"
span=$(awk -v a="$(cat "$W"/array.*.start | sort -g | head -n1)" \
           -v b="$(cat "$W"/array.*.end | sort -g | tail -n1)" 'BEGIN {printf "%.1f", b - a}')
step "array: 4/4 COMPLETED, max $maxc concurrent, first start..last end ${span}s"
jc=$(grep -c "ArrayJobId=$ajid " "$C/log/jobcomp.txt" || true)
[ "$jc" = 4 ] || fail "jobcomp file has $jc records for array $ajid, expected 4"

# ---------------------------------------------------------------- 2. scancel of one member
cat >"$W/cancel.sh" <<'EOF'
#!/bin/bash
f="$AP_W/cancel.$SLURM_ARRAY_TASK_ID"
trap 'date +%s.%N >"$f.term"; exit 143' TERM
date +%s.%N >"$f.started"
if [ "$SLURM_ARRAY_TASK_ID" = 1 ]; then sleep 120 & else sleep 4 & fi
wait $!
date +%s.%N >"$f.end"
EOF
out=$(AP_W="$W" sbatch --parsable --array=0-1 -J ap-cancel -o "$W/cancel_%A_%a.out" "$W/cancel.sh")
cjid=$(parse_jobid "$out")
wait_until 20 "member ${cjid}_1 to start" test -s "$W/cancel.1.started"
[ "$(job_state "${cjid}_1")" = RUNNING ] || fail "${cjid}_1 not RUNNING after it started: $(job_state "${cjid}_1")"
t_cancel=$(now)
scancel "${cjid}_1"
wait_until 10 "SIGTERM marker of ${cjid}_1" test -s "$W/cancel.1.term"
t_term=$(cat "$W/cancel.1.term")
wait_until 15 "${cjid}_1 to leave the queue" queue_empty "${cjid}_1"
t_gone=$(now)
st=$(job_state "${cjid}_1")
[ "$st" = CANCELLED ] || fail "${cjid}_1 state '$st' after scancel, expected CANCELLED"
[ ! -e "$W/cancel.1.end" ] || fail "${cjid}_1 ran to its end despite scancel"
step "$(awk -v c="$t_cancel" -v t="$t_term" -v g="$t_gone" \
  'BEGIN {printf "scancel: SIGTERM seen %.2fs after scancel, out of squeue after %.2fs", t - c, g - c}'), state CANCELLED"
wait_until 20 "${cjid}_0 to finish" queue_empty "${cjid}"
st=$(job_state "${cjid}_0")
[ "$st" = COMPLETED ] || fail "sibling ${cjid}_0 state '$st', expected COMPLETED (scancel of _1 must not touch it)"
[ ! -e "$W/cancel.0.term" ] || fail "sibling ${cjid}_0 got SIGTERM"
grep "ArrayTaskId=1 " "$C/log/jobcomp.txt" | grep "ArrayJobId=$cjid " | grep -q 'JobState=CANCELLED' ||
  fail "jobcomp file lacks a CANCELLED record for ${cjid}_1"
step "scancel: sibling ${cjid}_0 COMPLETED untouched"

# ---------------------------------------------------------------- 3. srun -n 2
cat >"$W/srun.sh" <<'EOF'
#!/bin/bash
srun -n 2 -l bash -c 'echo "rank=$SLURM_PROCID ntasks=$SLURM_NTASKS nodes=$SLURM_STEP_NODELIST"'
EOF
out=$(sbatch --parsable --ntasks=2 -J ap-srun -o "$W/srun.out" "$W/srun.sh")
sjid=$(parse_jobid "$out")
wait_until 20 "srun job $sjid to finish" queue_empty "$sjid"
st=$(job_state "$sjid")
[ "$st" = COMPLETED ] || fail "srun job $sjid state '$st', expected COMPLETED"
check_ranks() {  # $1: srun -l output
  local r
  for r in 0 1; do
    grep -qE "^ *$r: rank=$r ntasks=2 nodes=$AP_SLURM_NODE\$" "$1" ||
      fail "$1 lacks 'rank=$r ntasks=2 nodes=$AP_SLURM_NODE':$(printf '\n'; cat "$1")"
  done
  [ "$(grep -c 'rank=' "$1")" = 2 ] || fail "$1: expected exactly 2 tasks"
}
check_ranks "$W/srun.out"
# shellcheck disable=SC2016
srun -n 2 -l -J ap-srun-direct bash -c 'echo "rank=$SLURM_PROCID ntasks=$SLURM_NTASKS nodes=$SLURM_STEP_NODELIST"' \
  >"$W/srun_direct.out" 2>&1 || fail "direct srun -n 2 failed: $(cat "$W/srun_direct.out")"
check_ranks "$W/srun_direct.out"
step "srun -n 2: ranks 0,1 with SLURM_NTASKS=2, SLURM_STEP_NODELIST=$AP_SLURM_NODE (in sbatch and direct)"

failed=0
step "PASS (total $((SECONDS - T0)) s)"
