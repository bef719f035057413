#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Compares the rows of runs between two Apportion run stores, table by table (the run row with
# its experiment matched by name): exits 0 when equal, 1 with the first differences otherwise.
# Usage: store_rows_equal.py HOME.sqlite REMOTE.sqlite [RUN_ID ...]   (default: every run of REMOTE)
import sqlite3
import sys

TABLES = ["params", "tags", "metrics", "latest_metrics", "matrices", "artifacts"]


def rows(db, run_id):
    out = {}
    cols = [c[1] for c in db.execute("PRAGMA table_info(runs)") if c[1] != "experiment_id"]
    r = db.execute("SELECT e.name, " + ", ".join("r." + c for c in cols) +
                   " FROM runs r JOIN experiments e USING (experiment_id) WHERE r.run_id = ?",
                   (run_id,)).fetchall()
    out["runs"] = r
    for t in TABLES:
        out[t] = sorted(db.execute("SELECT * FROM %s WHERE run_id = ?" % t, (run_id,)).fetchall(),
                        key=repr)
    return out


def main():
    home = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    remote = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True)
    ids = sys.argv[3:] or [r[0] for r in remote.execute("SELECT run_id FROM runs")]
    if not ids:
        print("no runs to compare in", sys.argv[2])
        return 1
    bad = 0
    for run_id in ids:
        a, b = rows(home, run_id), rows(remote, run_id)
        for t in ["runs"] + TABLES:
            if a[t] != b[t]:
                bad += 1
                print("run %s: table %s differs: home %d rows, remote %d rows" %
                      (run_id, t, len(a[t]), len(b[t])))
        n = sum(len(v) for v in b.values())
        print("run %s: %d rows compared%s" % (run_id, n, "" if not bad else " (DIFFER)"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
