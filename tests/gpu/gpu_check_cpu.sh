#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs packaging/gpu-check.sh --cpu on this build and checks its report: every phase ran and
# passed (CLI device checks, KV cache, throughput on tiny shapes, the Python MoLA layer's
# self-test when Python has torch), and report.json/report.md were written.
# Usage: gpu_check_cpu.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=${1:?} build=${2:?}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$out/log.txt" >&2 || true; exit 1; }
AP_BUILD_DIR=$build AP_GPU_OUT=$out "$src/packaging/gpu-check.sh" --cpu || fail "gpu-check.sh --cpu failed"
[ -s "$out/report.md" ] || fail "no report.md"
python3 - "$out/report.json" <<'PY' || fail "report content"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"], "report not ok"
names = [p["phase"] for p in r["phases"]]
for want in ["train bf16 (lora, 20 steps)",
             "train bf16 + gradient checkpointing", "resume on cpu to 20",
             "sparse-MoE backbone (drlora, 20 steps)", "kv-cache generation", "throughput (tiny)"]:
    assert want in names, f"phase {want!r} missing: {names}"
assert all(c["pass"] for c in r["checks"].values()), r["checks"]
# On the CPU, checkpointing and resume reproduce the uninterrupted run exactly.
assert r["checks"]["bf16-resume final loss vs bf16"]["bit_exact"], r["checks"]
assert len(r["throughput"]["results"]) == 12, r["throughput"]
print("gpu_check_cpu: OK;", len(names), "phases")
PY
