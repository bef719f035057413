#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Reads run stores for the data-parallel tests (python3's sqlite3; no sqlite3 CLI needed).
#   store_query.py compare A.sqlite B.sqlite TOL KEY[,KEY…] [MATRIX[,MATRIX…]]
#       each store holds one run; every metric KEY has the same steps in both and values within
#       TOL (prints the largest difference); every MATRIX record is byte-identical
#   store_query.py matrix_close A.sqlite B.sqlite TOL MATRIX[,MATRIX…]
#       every f32 MATRIX record has the same steps and shape in both, elements within TOL
#   store_query.py matrix_max_diff A.sqlite B.sqlite MATRIX   largest element difference
#   store_query.py run DB FIELD          one run's column (status, run_id, …)
#   store_query.py tag DB KEY            one run's tag value
#   store_query.py count DB              the number of runs
#   store_query.py metric DB KEY         "step value" lines
#   store_query.py matrix_steps DB KEY   the steps of a matrix record, space-separated
import sqlite3
import struct
import sys


def connect(path):
    return sqlite3.connect("file:" + path + "?mode=ro", uri=True)


def only_run(db):
    ids = [r[0] for r in db.execute("SELECT run_id FROM runs")]
    if len(ids) != 1:
        sys.exit("expected one run in the store, found %d" % len(ids))
    return ids[0]


def metrics(db, run, key):
    rows = db.execute("SELECT step, value FROM metrics WHERE run_id=? AND key=? ORDER BY step",
                      (run, key))
    return [(s, v) for s, v in rows]


def compare(a_path, b_path, tol, keys, matrices):
    a, b = connect(a_path), connect(b_path)
    ra, rb = only_run(a), only_run(b)
    worst = 0.0
    for key in keys:
        ma, mb = metrics(a, ra, key), metrics(b, rb, key)
        if not ma:
            sys.exit("no %s in %s" % (key, a_path))
        if [s for s, _ in ma] != [s for s, _ in mb]:
            sys.exit("%s: steps differ: %s vs %s" % (key, [s for s, _ in ma], [s for s, _ in mb]))
        for (step, va), (_, vb) in zip(ma, mb):
            d = abs(va - vb)
            worst = max(worst, d)
            if d > tol:
                sys.exit("%s at step %d: %.9g vs %.9g (difference %.3g > %g)" %
                         (key, step, va, vb, d, tol))
        print("ok: %s over %d steps, largest difference %.3g" % (key, len(ma), max(
            abs(x - y) for (_, x), (_, y) in zip(ma, mb))))
    for key in matrices:
        q = "SELECT step, blob FROM matrices WHERE run_id=? AND key=? ORDER BY step"
        xa, xb = list(a.execute(q, (ra, key))), list(b.execute(q, (rb, key)))
        if not xa:
            sys.exit("no matrix %s in %s" % (key, a_path))
        if xa != xb:
            sys.exit("matrix %s differs (steps %s vs %s)" %
                     (key, [s for s, _ in xa], [s for s, _ in xb]))
        print("ok: matrix %s identical at steps %s" % (key, [s for s, _ in xa]))
    print("largest metric difference %.3g" % worst)


def matrix_rows(db, run, key):
    q = "SELECT step, shape, dtype, blob FROM matrices WHERE run_id=? AND key=? ORDER BY step"
    rows = []
    for step, shape, dtype, blob in db.execute(q, (run, key)):
        if dtype != "f32":
            sys.exit("matrix %s at step %d is %s, not f32" % (key, step, dtype))
        rows.append((step, shape, struct.unpack("<%df" % (len(blob) // 4), blob)))
    return rows


def matrix_max_diff(a_path, b_path, key):
    """The largest element difference of a matrix record over all steps (same steps/shapes)."""
    a, b = connect(a_path), connect(b_path)
    xa, xb = matrix_rows(a, only_run(a), key), matrix_rows(b, only_run(b), key)
    if not xa:
        sys.exit("no matrix %s in %s" % (key, a_path))
    if [(s, sh) for s, sh, _ in xa] != [(s, sh) for s, sh, _ in xb]:
        sys.exit("matrix %s: steps or shapes differ" % key)
    return max(abs(x - y) for (_, _, va), (_, _, vb) in zip(xa, xb) for x, y in zip(va, vb))


def matrix_close(a_path, b_path, tol, keys):
    for key in keys:
        d = matrix_max_diff(a_path, b_path, key)
        if d > tol:
            sys.exit("matrix %s: elements differ by up to %.3g > %g" % (key, d, tol))
        print("ok: matrix %s within %g, largest difference %.3g" % (key, tol, d))


def main():
    cmd = sys.argv[1]
    if cmd == "compare":
        compare(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5].split(","),
                sys.argv[6].split(",") if len(sys.argv) > 6 and sys.argv[6] else [])
        return
    if cmd == "matrix_close":
        matrix_close(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5].split(","))
        return
    if cmd == "matrix_max_diff":
        print("%.6g" % matrix_max_diff(sys.argv[2], sys.argv[3], sys.argv[4]))
        return
    db = connect(sys.argv[2])
    if cmd == "count":
        print(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
        return
    run = only_run(db)
    if cmd == "run":
        print(db.execute("SELECT %s FROM runs WHERE run_id=?" % sys.argv[3], (run,)).fetchone()[0])
    elif cmd == "tag":
        row = db.execute("SELECT value FROM tags WHERE run_id=? AND key=?",
                         (run, sys.argv[3])).fetchone()
        print(row[0] if row else "")
    elif cmd == "matrix_steps":
        rows = db.execute("SELECT step FROM matrices WHERE run_id=? AND key=? ORDER BY step",
                          (run, sys.argv[3]))
        print(" ".join(str(r[0]) for r in rows))
    elif cmd == "metric":
        for s, v in metrics(db, run, sys.argv[3]):
            print(s, v)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
