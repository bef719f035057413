#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Reproducibility check: re-runs stored runs of a workspace from their stored configs with a
# given `apportion` and compares the last eval/acc and eval/loss with the stored ones, exactly
# (17 significant digits). A GuiLoMo retrain gets its search's allocation file copied along.
# Usage: experiments/rerun_stored.sh APPORTION OLD_WORKSPACE_DIR NEW_WORKSPACE_DIR RUN_NAME…
#   e.g. experiments/rerun_stored.sh build/bin/apportion results-workspace /tmp/re lora-s0
# Prints SAME or DIFF per run; exits 1 when any differs. Needs sqlite3; runs with one thread.
set -u
APP=$1 OLD=$2 WS=$3
shift 3
rm -rf "$WS"
mkdir -p "$WS/runs"
ln -s "$(cd "$OLD" && pwd)/backbones" "$WS/backbones"
status=0
for name in "$@"; do
  id=$(sqlite3 "$OLD/workspace.sqlite" "select run_id from runs where name='$name'")
  [ -n "$id" ] || { echo "MISSING $name"; status=1; continue; }
  sqlite3 "$OLD/workspace.sqlite" "select config_json from runs where run_id='$id'" >"$WS/$id.json"
  if grep -q '"allocation_file":"runs/' "$WS/$id.json"; then
    src=$(grep -o '"allocation_file":"runs/[0-9a-f]*' "$WS/$id.json" | sed 's/.*runs\///')
    mkdir -p "$WS/runs/$src"
    cp "$OLD/runs/$src/guilomo_allocation.json" "$WS/runs/$src/"
  fi
  "$APP" train "$WS/$id.json" --db "$WS/workspace.sqlite" --threads 1 --progress json \
    --name "re-$name" >"$WS/$id.out" 2>"$WS/$id.err"
  new=$(head -n 1 "$WS/$id.out" | sed 's/.*"run_id":"\([0-9a-f]*\)".*/\1/')
  q="select printf('%.17g %.17g',
       (select value from metrics where run_id='X' and key='eval/acc' order by step desc limit 1),
       (select value from metrics where run_id='X' and key='eval/loss' order by step desc limit 1))"
  a=$(sqlite3 "$OLD/workspace.sqlite" "${q//X/$id}")
  b=$(sqlite3 "$WS/workspace.sqlite" "${q//X/$new}")
  if [ "$a" = "$b" ]; then
    echo "SAME  $name  acc loss $a"
  else
    echo "DIFF  $name  stored $a  rerun $b"
    status=1
  fi
done
exit $status
