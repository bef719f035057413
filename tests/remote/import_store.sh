#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `apportion import`: runs trained into another store are merged into a workspace by run id;
# importing the same store twice adds nothing; a store holding one of those run ids with
# different rows is reported as a CONFLICT (exit 1) and the workspace keeps its rows; a damaged
# or missing source is refused with the file named.
# Usage: import_store.sh APPORTION TESTDATA_DIR
set -euo pipefail
APP=$(readlink -f "$1")
DATA=$(readlink -f "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/ap-import.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$T/elsewhere" "$T/home"
for seed in 1 2; do
  "$APP" train "$DATA/cli/tiny-random.json" --db "$T/elsewhere/ws.sqlite" --threads 1 \
    --set seed=$seed --progress none
done
"$APP" train "$DATA/cli/tiny-random.json" --db "$T/home/ws.sqlite" --threads 1 --progress none

"$APP" import "$T/elsewhere/ws.sqlite" --db "$T/home/ws.sqlite" | tee "$T/first.out"
grep -q "^imported 2 runs" "$T/first.out" || fail "first import did not copy 2 runs"
python3 "$HERE/store_rows_equal.py" "$T/home/ws.sqlite" "$T/elsewhere/ws.sqlite" \
  || fail "imported runs differ from the source"
"$APP" import "$T/elsewhere/ws.sqlite" --db "$T/home/ws.sqlite" | tee "$T/second.out"
grep -q "^imported 0 runs .* 2 already present, 0 conflicts" "$T/second.out" \
  || fail "second import was not a no-op"

# A store with one of the same run ids but a different metric value: a conflict.
cp "$T/elsewhere/ws.sqlite" "$T/changed.sqlite"
python3 - "$T/changed.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
run = db.execute("SELECT run_id FROM runs ORDER BY start_ms LIMIT 1").fetchone()[0]
db.execute("UPDATE runs SET status = 'FAILED' WHERE run_id = ?", (run,))
db.commit()
PY
set +e
"$APP" import "$T/changed.sqlite" --db "$T/home/ws.sqlite" > "$T/conflict.out" 2> "$T/conflict.err"
code=$?
set -e
cat "$T/conflict.out" "$T/conflict.err"
[ "$code" = 1 ] || fail "a conflict should exit 1, got $code"
grep -q "CONFLICT" "$T/conflict.out" || fail "the conflict was not reported"
grep -q "1 conflicts" "$T/conflict.out" || fail "not exactly one conflict"
python3 "$HERE/store_rows_equal.py" "$T/home/ws.sqlite" "$T/elsewhere/ws.sqlite" > /dev/null \
  || fail "the conflicting import changed the workspace's rows"

set +e
"$APP" import "$T/nope.sqlite" --db "$T/home/ws.sqlite" 2> "$T/missing.err"
code=$?
set -e
[ "$code" = 2 ] && grep -q "nope.sqlite" "$T/missing.err" || fail "a missing source: exit $code"
echo "PASS: import (2 runs copied, re-import adds nothing, conflict reported and left alone)"
