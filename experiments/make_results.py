#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Writes experiments/RESULTS.md from a workspace made by experiments/run_all.sh: the sensitivity
# checks of the demo suite and the papers' comparisons, over seed groups. Every statistic (mean,
# standard deviation, min-max, Welch 95 % interval of a difference of means) comes from the
# apportion CLI (`runs --groups --json`, `show GROUP --json`, `compare A B --json`), i.e. from
# the same code the workbench shows; this script only reads the store for allocations.
# Usage: make_results.py WORKSPACE.sqlite OUT.md APPORTION_BINARY
import json
import sqlite3
import struct
import subprocess
import sys
from datetime import datetime, timezone

TASKS = ["encode", "decode", "increment"]


class Workspace:
    def __init__(self, db_path, binary):
        self.db_path, self.binary = db_path, binary
        self.db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
        self.groups = {g["label"]: g for g in self.cli("runs", "--groups")}

    def cli(self, *args):
        out = subprocess.run([self.binary, *args, "--db", self.db_path, "--json"], check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out)

    def group(self, label):
        return self.groups.get(label) or self.groups.get(label + " (retrain)")

    def show(self, label):
        g = self.group(label)
        return None if g is None else self.cli("show", g["key"])

    def compare(self, a, b):
        ga, gb = self.group(a), self.group(b)
        if ga is None or gb is None:
            return None
        return {m["metric"]: m for m in self.cli("compare", ga["key"], gb["key"])["metrics"]}

    def matrix(self, run_id, key, newest=True):
        row = self.db.execute(
            "SELECT shape, dtype, blob FROM matrices WHERE run_id = ? AND key = ? ORDER BY step "
            + ("DESC" if newest else "ASC") + " LIMIT 1", (run_id, key)).fetchone()
        if row is None:
            return None
        shape = json.loads(row[0])
        n = 1
        for s in shape:
            n *= s
        return shape, struct.unpack("<%d%s" % (n, {"f32": "f", "i32": "i"}[row[1]]), row[2])

    def tag(self, run_id, key):
        row = self.db.execute("SELECT value FROM tags WHERE run_id = ? AND key = ?",
                              (run_id, key)).fetchone()
        return None if row is None else row[0]

    def wall_s(self, run_ids):
        walls = []
        for r in run_ids:
            s, e = self.db.execute("SELECT start_ms, end_ms FROM runs WHERE run_id = ?",
                                   (r,)).fetchone()
            if e:
                walls.append((e - s) / 1000.0)
        return sum(walls) / len(walls) if walls else float("nan")


def pct(x):
    return "–" if x is None else "%.1f" % (100 * x)


def mean_sd(summary):
    if not summary or summary.get("mean") is None:
        return "–"
    return "%.1f ± %.1f" % (100 * summary["mean"], 100 * (summary.get("std") or 0))


def min_max(summary):
    if not summary or summary.get("min") is None:
        return "–"
    return "%.1f–%.1f" % (100 * summary["min"], 100 * summary["max"])


def diff_text(row):
    if row is None or row.get("diff") is None:
        return "–"
    if row.get("ci95_low") is None:
        return "%+.1f (no interval)" % (100 * row["diff"])
    lo, hi = 100 * row["ci95_low"], 100 * row["ci95_high"]
    verdict = "separates" if lo > 0 or hi < 0 else "does not separate"
    return "%+.1f [%+.1f, %+.1f] (n %d/%d): %s" % (100 * row["diff"], lo, hi, row["n_a"],
                                                  row["n_b"], verdict)


def group_row(ws, label, note=""):
    s = ws.show(label)
    if s is None:
        return "| %s | – | – | – | – | – | – | %s |" % (label, note)
    m = s["metrics"]
    tasks = " / ".join(mean_sd(m.get("eval/acc/" + t)).split(" ±")[0] for t in TASKS)
    base = m.get("baseline/accuracy") or m.get("baseline/acc")
    params = ws.tag(s["runs"][0]["run_id"], "active_params") or \
        ws.tag(s["runs"][0]["run_id"], "trainable_params") or "?"
    return "| %s | %d | %s | %s | %s | %s | %s | %s | %.0f |" % (
        label, m["eval/acc"]["n"], pct(base["mean"]) if base else "–", mean_sd(m["eval/acc"]),
        min_max(m["eval/acc"]), tasks, params, note, ws.wall_s([r["run_id"] for r in s["runs"]]))


def compare_rows(ws, pairs):
    rows = ["| A | B | A − B, eval accuracy (points, 95 % CI) | per task (A − B) |",
            "| --- | --- | --- | --- |"]
    for a, b in pairs:
        c = ws.compare(a, b)
        if c is None:
            rows.append("| %s | %s | not run | |" % (a, b))
            continue
        per_task = "; ".join("%s %+.1f" % (t, 100 * c["eval/acc/" + t]["diff"]) for t in TASKS
                             if c.get("eval/acc/" + t) and c["eval/acc/" + t]["diff"] is not None)
        rows.append("| %s | %s | %s | %s |" % (a, b, diff_text(c.get("eval/acc")), per_task))
    return rows


def search_movement(ws, run_id):
    """Expert counts and ranks of a GuiLoMo search's argmax readout: first record vs last."""
    first = ws.matrix(run_id, "alloc/experts", newest=False)
    last = ws.matrix(run_id, "alloc/experts")
    if not first or not last:
        return None
    cells = [(a, b) for a, b in zip(first[1], last[1]) if a >= 0]
    return sum(a != b for a, b in cells), len(cells), last[1]


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: make_results.py WORKSPACE.sqlite OUT.md APPORTION_BINARY")
    ws = Workspace(sys.argv[1], sys.argv[3])
    head = ["| group | n | baseline acc (step 0) | final acc, mean ± sd | min–max | "
            "encode / decode / increment | trainable params | note | wall s per run |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    out = ["# Results on the demo suite", "",
           "Written by `experiments/make_results.py` on %s from `experiments/run_all.sh` "
           "(re-create with that one command). **How every number is obtained:** the demo "
           "suite `encode`, `decode`, `increment` (docs/TASKS.md) with `data.seed` 1: 3000 training "
           "and 600 held-out examples (200 per task, no held-out prompt occurs in training). "
           "Accuracy is teacher-forced exact match of the whole answer and its EOS on the "
           "held-out examples (exactly when greedy decoding would produce it), the mean of the "
           "three per-task accuracies; it is read at the **last step** (no checkpoint "
           "selection). The baseline is the same evaluation at step 0, before any adapter "
           "update (LoRA B = 0: the backbone alone). Each group is 5 runs, seeds 0–4 (the seed "
           "changes adapter initialisation, dropout and data order; backbone and data are "
           "fixed). Means ± sample standard deviation; differences are Welch 95 %% intervals "
           "(`apportion compare`). Percent points throughout." %
           datetime.now(timezone.utc).strftime("%Y-%m-%d"), ""]

    out += ["## 1. Sensitivity of the suite", "",
            "### Fine-tuning teaches (every preset, baseline vs final)", ""] + head
    for label in ["lora", "moe-uniform", "mola-2468", "mola-8642", "guilomo", "drlora-uniform",
                  "drlora-static", "drlora", "alphalora", "increlora", "lora-r1", "lora-r16", "lora-ffn-r1", "lora-ffn-r16",
                  "lora-vo-r1", "lora-vo-r16", "lora-lower", "lora-upper",
                  "moe-lora-r1", "moe-lora-r16", "moe-lora-lower", "moe-lora-upper"]:
        out.append(group_row(ws, label))
    out += ["", "### Capacity: LoRA rank 1 vs rank 16 (alpha/r = 2), everything else equal", "",
            "Dense backbone: LoRA on all 7 projections of the 4 layers (`lora-r1`, `lora-r16`), "
            "on the three FFN projections only (`lora-ffn-r1`, `lora-ffn-r16`) and on the "
            "attention value and output projections only (`lora-vo-r1`, `lora-vo-r16`). "
            "Sparse-MoE backbone: LoRA on the FFN projections of every routed expert "
            "(`moe-lora-r1`, `moe-lora-r16`: the DR-LoRA uniform-rank preset at r 1 / 16).", ""]
    pairs = [("lora-r16", "lora-r1"), ("lora-ffn-r16", "lora-ffn-r1"),
             ("lora-vo-r16", "lora-vo-r1"), ("moe-lora-r16", "moe-lora-r1")]
    out += compare_rows(ws, pairs)
    out.append("")
    for big, small in pairs:
        s1, s16 = ws.show(small), ws.show(big)
        if not (s1 and s16):
            continue
        d = s16["metrics"]["eval/acc"]["mean"] - s1["metrics"]["eval/acc"]["mean"]
        sd = max(s1["metrics"]["eval/acc"]["std"] or 0,
                 s16["metrics"]["eval/acc"]["std"] or 0)
        out.append("- %s vs %s: difference of means %.1f points, 3 × the larger seed standard "
                   "deviation %.1f points: the suite %s the size of an adapter here." %
                   (big, small, 100 * d, 300 * sd, "**detects**" if d > 3 * sd else
                    "does **not** detect"))
    out += ["", "### Experts: one LoRA vs LoRA-MoE on the competing-task mixture (equal "
            "trainable parameters)", ""]
    out += compare_rows(ws, [("moe-uniform", "lora"), ("mola-2468", "lora")])
    out += ["", "### Depth: adapters on the lower two vs the upper two of four layers", "",
            "Dense: LoRA r 8 on all 7 projections of layers 0-1 vs 2-3. Sparse-MoE: the "
            "uniform-rank expert LoRA (r 8) on layers 0-1 vs 2-3.", ""]
    out += compare_rows(ws, [("lora-lower", "lora-upper"), ("moe-lora-lower", "moe-lora-upper")])
    out += ["", "## 2. The papers' comparisons", "", "### MoLA: 2-4-6-8 vs 8-6-4-2 vs uniform vs "
            "LoRA at equal parameters", ""]
    out += compare_rows(ws, [("mola-2468", "mola-8642"), ("mola-2468", "moe-uniform"),
                             ("mola-8642", "moe-uniform"), ("mola-2468", "lora")])
    out += ["", "### GuiLoMo search → retrain vs MoLA", ""]
    out += compare_rows(ws, [("guilomo", "mola-2468"), ("guilomo", "moe-uniform")])
    out += ["", "### DR-LoRA vs uniform rank vs static frequency at equal rank budget "
            "(sparse-MoE backbone)", ""]
    out += compare_rows(ws, [("drlora", "drlora-uniform"), ("drlora", "drlora-static"),
                             ("drlora-static", "drlora-uniform")])

    out += ["", "### AlphaLoRA vs MoLA at the same 20 experts; IncreLoRA vs LoRA at the same "
            "rank budget", ""]
    out += compare_rows(ws, [("alphalora", "mola-2468"), ("alphalora", "moe-uniform"),
                             ("increlora", "lora")])

    out += ["", "## 3. Does the GuiLoMo search search?", "",
            "Expert counts of the argmax readout (N = max(2, argmax + 1)) at the first record vs "
            "the end of the search, per run; and between single-task searches of the same seed "
            "(same random GSV start), how many module expert counts differ.", "",
            "| search | seed | expert counts moved | found experts per module by layer (mean) |",
            "| --- | --- | --- | --- |"]
    found = {}
    for label in ["guilomo (search)", "guilomo-search-encode", "guilomo-search-decode",
                  "guilomo-search-increment"]:
        g = ws.groups.get(label) or ws.groups.get(label + " (search)")
        if g is None:
            continue
        for seed, run_id in zip(g["seeds"], g["run_ids"]):
            mv = search_movement(ws, run_id)
            if mv is None:
                continue
            moved, cells, last = mv
            shape = ws.matrix(run_id, "alloc/experts")[0]
            layers, modules = shape[0], shape[1]
            per_layer = "-".join("%.1f" % (sum(v for v in last[l * modules:(l + 1) * modules]
                                                if v >= 0) / modules) for l in range(layers))
            found[(label, seed)] = last
            out.append("| %s | %d | %d of %d | %s |" % (label, seed, moved, cells, per_layer))
    out += ["", "| seed | task pair | expert counts differing |", "| --- | --- | --- |"]
    for seed in range(10):
        for i, a in enumerate(TASKS):
            for b in TASKS[i + 1:]:
                ea = found.get(("guilomo-search-" + a, seed))
                eb = found.get(("guilomo-search-" + b, seed))
                if ea and eb:
                    diff = sum(x != y for x, y in zip(ea, eb) if x >= 0)
                    out.append("| %d | %s vs %s | %d of %d |" % (seed, a, b, diff,
                                                               sum(1 for x in ea if x >= 0)))
    text = "\n".join(out) + "\n"
    # Hand-written findings below "## Findings" in an existing file survive a re-run.
    try:
        with open(sys.argv[2]) as f:
            old = f.read()
        if "\n## Findings" in old:
            text += "\n" + old[old.index("\n## Findings") + 1:]
    except FileNotFoundError:
        pass
    with open(sys.argv[2], "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
