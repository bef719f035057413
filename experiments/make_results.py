#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Writes the results table of the method presets (experiments/RESULTS.md) from a workspace run
# store: for the newest FINISHED run of every run name, the final eval accuracy (overall and per
# task), trainable parameters, wall time and the allocation it found or used. Standard library
# only (sqlite3), so it runs wherever the workspace is. Usage: make_results.py DB [OUT.md]
import json
import re
import sqlite3
import struct
import sys
from datetime import datetime, timezone


# Run names of seed repeats: NAME-s1, NAME-s2 (a pipeline adds " (search)" / " (retrain)").
SEED_REPEAT = re.compile(r"-s\d+(?= \(|$)")


def newest_runs(db):
    rows = db.execute(
        "SELECT run_id, name, allocation_method, start_ms, end_ms, config_json FROM runs "
        "WHERE status = 'FINISHED' ORDER BY start_ms").fetchall()
    by_name = {}
    for r in rows:
        by_name[r[1]] = r  # later runs win
    return sorted(by_name.values(), key=lambda r: r[3])


def tags(db, run_id):
    return dict(db.execute("SELECT key, value FROM tags WHERE run_id = ?", (run_id,)).fetchall())


def latest(db, run_id, key):
    row = db.execute("SELECT value FROM latest_metrics WHERE run_id = ? AND key = ?",
                     (run_id, key)).fetchone()
    return None if row is None else row[0]


def task_accuracies(db, run_id):
    rows = db.execute("SELECT key, value FROM latest_metrics WHERE run_id = ? AND key LIKE "
                      "'eval/acc/%' ORDER BY key", (run_id,)).fetchall()
    return {k[len("eval/acc/"):]: v for k, v in rows}


def newest_matrix(db, run_id, key):
    row = db.execute("SELECT shape, dtype, blob FROM matrices WHERE run_id = ? AND key = ? "
                     "ORDER BY step DESC LIMIT 1", (run_id, key)).fetchone()
    if row is None:
        return None
    shape = json.loads(row[0])
    n = 1
    for s in shape:
        n *= s
    fmt = {"f32": "f", "i32": "i"}[row[1]]
    return shape, list(struct.unpack("<%d%s" % (n, fmt), row[2]))


def oldest_and_newest_matrix(db, run_id, key):
    rows = db.execute("SELECT shape, dtype, blob FROM matrices WHERE run_id = ? AND key = ? "
                      "ORDER BY step", (run_id, key)).fetchall()
    if len(rows) < 2:
        return None
    def decode(row):
        n = 1
        for s in json.loads(row[0]):
            n *= s
        return struct.unpack("<%d%s" % (n, {"f32": "f", "i32": "i"}[row[1]]), row[2])
    return decode(rows[0]), decode(rows[-1])


def search_movement(db, run_id):
    """How much a GuiLoMo search moved the argmax readout away from its random start."""
    e = oldest_and_newest_matrix(db, run_id, "alloc/experts")
    r = oldest_and_newest_matrix(db, run_id, "alloc/rank")
    if e is None or r is None:
        return ""
    moved_e = sum(a != b for a, b in zip(*e) if a >= 0)
    cells_e = sum(1 for a in e[0] if a >= 0)
    pairs = [(a, b) for a, b in zip(*r) if a > 0 and b > 0]
    moved_r = sum(a != b for a, b in pairs)
    return "; moved from the random start: %d of %d expert counts, %d of %d ranks" % (
        moved_e, cells_e, moved_r, len(pairs))


def allocation_text(db, run_id, method):
    """A short description of the allocation a run used or found."""
    if method in ("drlora", "static_frequency"):
        m = newest_matrix(db, run_id, "drlora/rank")
        if m is None:
            return ""
        (layers, experts), v = m
        rows = []
        for l in range(layers):
            row = v[l * experts:(l + 1) * experts]
            if all(x == x for x in row):  # not NaN
                rows.append("-".join(str(int(x)) for x in row))
        return "ranks per layer (experts): " + " / ".join(rows)
    m = newest_matrix(db, run_id, "alloc/experts")
    if m is None:
        return ""
    (layers, modules), v = m
    per_layer = []
    for l in range(layers):
        row = [x for x in v[l * modules:(l + 1) * modules] if x >= 0]
        per_layer.append(sum(row) / len(row) if row else 0)
    text = "mean experts per module by layer: " + "-".join("%.1f" % x for x in per_layer)
    r = newest_matrix(db, run_id, "alloc/rank")
    if r is not None and method in ("guilomo", "guilomo_search"):
        (_, _, e), rv = r
        ranks = []
        for l in range(layers):
            cells = [x for x in rv[l * modules * e:(l + 1) * modules * e] if x > 0]
            ranks.append(sum(cells) / len(cells) if cells else 0)
        text += "; mean rank by layer: " + "-".join("%.1f" % x for x in ranks)
    if method == "guilomo_search":
        text += search_movement(db, run_id)
    return text


def seed_table(db):
    """Mean and spread of the final eval accuracy over the seed repeats (runs NAME, NAME-s1, …;
    a pipeline's retrain run stands for it)."""
    groups = {}
    for run_id, name, method, start, end, cfg in newest_runs(db):
        if method in ("pretrain", "guilomo_search"):
            continue
        base = SEED_REPEAT.sub("", name.replace(" (retrain)", ""))
        acc = latest(db, run_id, "eval/acc")
        if acc is not None:
            groups.setdefault(base, []).append(acc)
    rows = ["", "## Seed repeats", "",
            "Final eval accuracy over seeds 0, 1, 2 (adapter init and data order; the backbone "
            "and the data are fixed).", "",
            "| preset | runs | mean acc | min | max |", "| --- | --- | --- | --- | --- |"]
    for base, accs in groups.items():
        if len(accs) < 2:
            continue
        rows.append("| %s | %d | %.3f | %.3f | %.3f |" %
                    (base, len(accs), sum(accs) / len(accs), min(accs), max(accs)))
    return rows if len(rows) > 6 else []


def cross_task_table(db):
    """Pairs of single-task GuiLoMo searches of one family (NAME-search-TASK): how many of the
    modules' found expert counts and ranks differ between the two tasks."""
    found = {}
    for run_id, name, method, start, end, cfg in newest_runs(db):
        m = re.match(r"(.*)-search-(\w+)$", name)
        if method != "guilomo_search" or not m:
            continue
        e = newest_matrix(db, run_id, "alloc/experts")
        r = newest_matrix(db, run_id, "alloc/rank")
        if e and r:
            found.setdefault(m.group(1), {})[m.group(2)] = (e[1], r[1])
    rows = ["", "## GuiLoMo allocations across tasks", "",
            "Single-task searches of the same settings and seed (so the same random GSV start): "
            "modules whose found expert count differs, and expert slots (used by both) whose "
            "found rank differs.", "",
            "| searches | tasks | expert counts differing | ranks differing |",
            "| --- | --- | --- | --- |"]
    for family, tasks in found.items():
        names = sorted(tasks)
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                (ea, ra), (eb, rb) = tasks[names[i]], tasks[names[j]]
                de = sum(a != b for a, b in zip(ea, eb) if a >= 0)
                pairs = [(a, b) for a, b in zip(ra, rb) if a > 0 and b > 0]
                dr = sum(a != b for a, b in pairs)
                rows.append("| %s | %s vs %s | %d of %d | %d of %d |" % (
                    family, names[i], names[j], de, sum(1 for a in ea if a >= 0), dr,
                    len(pairs)))
    return rows if len(rows) > 6 else []


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: make_results.py WORKSPACE.sqlite [OUT.md]")
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    out = []
    out.append("# Results of the method presets\n")
    out.append("Written by `experiments/make_results.py` from `%s` on %s (newest FINISHED run of "
               "each name; re-create with `experiments/run_all.sh`). Accuracy is the final "
               "teacher-forced exact match on the held-out examples; wall time is the run's "
               "start-to-end time on this machine.\n" %
               (sys.argv[1].split("/")[-1], datetime.now(timezone.utc).strftime("%Y-%m-%d")))
    out.append("| run | method | eval acc | per task | trainable params | wall s | allocation |")
    out.append("| --- | --- | --- | --- | --- | --- | --- |")
    for run_id, name, method, start, end, cfg in newest_runs(db):
        if method == "pretrain" or SEED_REPEAT.search(name):
            continue
        t = tags(db, run_id)
        acc = latest(db, run_id, "eval/acc")
        tasks = task_accuracies(db, run_id)
        params = t.get("active_params", t.get("trainable_params", "?"))
        wall = (end - start) / 1000.0 if end else float("nan")
        task_text = ", ".join("%s %.2f" % (k, v) for k, v in tasks.items())
        out.append("| %s | %s | %s | %s | %s | %.0f | %s |" % (
            name, method, "%.3f" % acc if acc is not None else "–", task_text, params, wall,
            allocation_text(db, run_id, method)))
    out += seed_table(db)
    out += cross_task_table(db)
    text = "\n".join(out) + "\n"
    # Hand-written findings below "## Findings" in an existing file survive a re-run.
    if len(sys.argv) > 2:
        try:
            with open(sys.argv[2]) as f:
                old = f.read()
            if "\n## Findings" in old:
                text += "\n" + old[old.index("\n## Findings") + 1:]
        except FileNotFoundError:
            pass
        with open(sys.argv[2], "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
