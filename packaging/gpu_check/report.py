#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Assembles packaging/gpu-check.sh's outputs (phases.jsonl, runs.json, estimate_lora.json,
kv_cache.json, parity.json, throughput.json, mola_reference.json) into report.json (with an
overall "ok") and report.md. Usage: report.py OUT_DIR MODE SECONDS"""
import json
import os
import sys


def load(out, name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"missing": f"{name}: {e}"}


def main():
    out, mode, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    phases = [json.loads(line) for line in open(os.path.join(out, "phases.jsonl"))]
    runs = load(out, "runs.json")
    runs = {r["name"]: r for r in runs} if isinstance(runs, list) else {}

    def final(name, key="train/loss"):
        return runs.get(name, {}).get("latest_metrics", {}).get(key)

    checks = {}
    base = final("bf16")
    for name in ["bf16-ckpt", "bf16-resume"]:
        other = final(name)
        if base is not None and other is not None:
            checks[name + " final loss vs bf16"] = {
                "bf16": base, name: other, "abs_diff": abs(other - base),
                "bit_exact": other == base, "pass": abs(other - base) <= 1e-2 * (1 + abs(base))}
    for name in ["bf16", "fp16", "drlora"]:
        if name == "fp16" and mode == "cpu":
            continue  # not run on the CPU (no float16 matrix products in Debian's LibTorch)
        status = runs.get(name, {}).get("status")
        loss = final(name)
        checks[name + " run"] = {"status": status, "final_loss": loss,
                                 "pass": status == "FINISHED" and loss is not None}
    est = load(out, "estimate_lora.json")
    peak_mb = final("bf16", "perf/peak_memory_mb")
    if "memory" in est and peak_mb:
        e = est["memory"]["peak_bytes"] / 2**20
        checks["peak memory vs estimate (bf16 lora run)"] = {
            "estimate_mib": e, "measured_mib": peak_mb, "error": (e - peak_mb) / peak_mb,
            "pass": True}
    kv = load(out, "kv_cache.json")
    parity = load(out, "parity.json")
    thr = load(out, "throughput.json")
    mola = load(out, "mola_reference.json")
    ok = (all(p["rc"] == 0 for p in phases) and all(c["pass"] for c in checks.values())
          and kv.get("ok", False) and thr.get("ok", False)
          and (parity.get("ok", False) or "skipped" in parity))
    ratio = None
    for r in thr.get("results", []):
        if (r["method"] == "mola-2468" and r["cutoff"] == mola.get("cutoff")
                and not r["gradient_checkpointing"] and mola.get("tokens_per_s")):
            ratio = r["tokens_per_s"] / mola["tokens_per_s"]
    report = {"mode": mode, "seconds": seconds, "ok": ok, "phases": phases, "checks": checks,
              "kv_cache": kv, "parity": parity, "throughput": thr, "mola_reference": mola,
              "mola_speedup_vs_python_reference": ratio}
    json.dump(report, open(os.path.join(out, "report.json"), "w"), indent=1)

    md = [f"# GPU check ({mode}): {'PASS' if ok else 'FAIL'} in {seconds} s", "",
          *(["CPU dry run: tiny shapes, so the throughput and MFU figures below only show that the "
             "code path runs; they measure nothing.", ""] if mode == "cpu" else []),
          "| phase | exit | seconds |", "| --- | --- | --- |"]
    md += [f"| {p['phase']} | {p['rc']} | {p['seconds']} |" for p in phases]
    md += ["", "| check | pass | details |", "| --- | --- | --- |"]
    md += [f"| {k} | {v['pass']} | {json.dumps({a: b for a, b in v.items() if a != 'pass'})} |"
           for k, v in checks.items()]
    md += ["", f"KV cache: {json.dumps([(r['dtype'], r['cached_equals_recomputed']) for r in kv.get('results', [])])}",
           "", "Parity: " + json.dumps({a: (v.get("pass"), v.get("float32", {}).get("max_abs_diff"),
                                              v.get("bfloat16", {}).get("max_abs_diff"))
                                          for a, v in parity.get("architectures", {}).items()})
           + (f"; peft {parity.get('peft')}" if "peft" in parity else f" {parity.get('skipped', '')}"),
           "", f"GEMM rate {thr.get('gemm_flops_per_s', 0) / 1e12:.1f} TFLOP/s ({thr.get('device')})", "",
           "| method | cutoff | batch | ckpt | tokens/s | MFU | peak GiB | estimate GiB | error |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in thr.get("results", []):
        md.append(f"| {r['method']} | {r['cutoff']} | {r['batch']} | {r['gradient_checkpointing']} | "
                  f"{r['tokens_per_s']:.0f} | {100 * r['mfu_vs_measured_gemm']:.1f} % | "
                  f"{r['peak_memory_bytes'] / 2**30:.2f} | {r['estimated_peak_bytes'] / 2**30:.2f} | "
                  f"{100 * r['estimate_error']:+.0f} % |")
    md += ["", f"MoLA reference (Python per-expert loop): {json.dumps(mola)}",
           f"Apportion MoLA-2468 / Python reference tokens/s: {ratio}"]
    open(os.path.join(out, "report.md"), "w").write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
