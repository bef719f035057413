# SPDX-License-Identifier: GPL-3.0-or-later
# Shared by experiments/run_all.sh and packaging/demo.sh (sourced, not run): `group NAME CONFIG
# [--set …]` trains the seed group NAME-s<seed> of an experiment unless the workspace already
# holds it complete. Expects root, bin, db, seeds, parallel and threads to be set.

# Number of seeds in a --seeds spec such as 0-4 or 0,2,5-6.
seed_count() {
  python3 -c '
import sys
n = 0
for part in sys.argv[1].split(","):
    a, _, b = part.partition("-")
    n += int(b or a) - int(a) + 1
print(n)' "$1"
}

# True when the workspace holds the group NAME (or a pipeline's "NAME (retrain)") with at least
# as many FINISHED runs as there are seeds.
group_complete() {
  [ -f "$db" ] && "$bin/apportion" runs --db "$db" --groups --json | python3 -c '
import json, sys
name, want = sys.argv[1], int(sys.argv[2])
done = [g for g in json.load(sys.stdin) if g["label"] in (name, name + " (retrain)")
        and g["status"].get("FINISHED", 0) >= want]
sys.exit(0 if done else 1)' "$1" "$(seed_count "$seeds")"
}

group() {
  local name=$1 config=$2
  shift 2
  if group_complete "$name"; then
    echo "== $name: complete, skipped"
    return
  fi
  echo "== $name (seeds $seeds)"
  "$bin/apportion" train "$root/experiments/$config" --db "$db" --name "$name" --seeds "$seeds" \
    --parallel "$parallel" ${threads:+--threads "$threads"} --progress none "$@" ||
    echo "== $name: some seeds did not finish (see 'apportion runs --db $db --groups')"
}
