#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The one-call GPU check. On a machine with an NVIDIA GPU, CUDA, CMake, a C++ compiler and
# Python with CUDA PyTorch, transformers and peft — and nothing else: no registry, no
# internet — it
#   1. unpacks the .deb bundle made here by packaging/gpu-bundle.sh into a private prefix and
#      builds the headless `apportion` and `gpu_check` (AP_BUILD_GUI=OFF) against the LibTorch
#      inside the Python PyTorch install (its share/cmake/Torch);
#   2. runs the CUDA checks: bf16 and fp16 training steps, gradient checkpointing (same loss),
#      resume on CUDA, a sparse-MoE (DR-LoRA) run, peak-memory records against the estimate,
#      KV-cached generation (gpu_check kv-cache);
#   3. parity with transformers and peft (packaging/gpu_check/parity.py);
#   4. throughput, MFU and memory of a LLaMA-2-7B-shaped model (gpu_check throughput) and the
#      MoLA reference layer in Python (packaging/gpu_check/mola_reference.py) for a ratio;
#   5. writes report.json and report.md to the output folder.
# Every phase runs even when an earlier one failed (so one call says everything), within the
# time limits below (about 8 minutes in all on an H100, the build included).
#
# Usage: packaging/gpu-check.sh [--cpu]
#   (default) the GPU check; output in $AP_GPU_OUT, else $OUT (log.txt, report.json and
#             report.md only), else gpu-check-out/; the build in $AP_GPU_BUILD or .gpu-build/.
#   --cpu     the dry run of every part that needs no GPU, with the already-built binaries of
#             $AP_BUILD_DIR (default build/): CPU device, tiny shapes, the Python parts as far
#             as the installed Python allows (tests/gpu runs it).
#   --prefix-configure  only unpack the bundle and configure against it (checks the bundle).
# Environment: AP_GPU_BUNDLE (default .gpu-bundle), AP_GPU_PREFIX (default /tmp/ap-prefix),
#   AP_PYTHON (default python3).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=gpu
[ "${1:-}" = --cpu ] && mode=cpu
[ "${1:-}" = --prefix-configure ] && mode=configure
# Work files go to $out; log.txt, report.json and report.md to $results. Under the device tool
# ($OUT set) only a few files come back, so the work stays in /tmp there.
if [ -n "${AP_GPU_OUT:-}" ]; then
  out=$AP_GPU_OUT results=$AP_GPU_OUT
elif [ -n "${OUT:-}" ]; then
  out=/tmp/ap-gpu-check results=$OUT
else
  out=$root/gpu-check-out results=$root/gpu-check-out
fi
bundle=${AP_GPU_BUNDLE:-$root/.gpu-bundle}
prefix=${AP_GPU_PREFIX:-/tmp/ap-prefix}
py=${AP_PYTHON:-python3}
mkdir -p "$out" "$results"
export root out bundle prefix py
log=$results/log.txt
: >"$log"
: >"$out/phases.jsonl"
start_all=$(date +%s)

# phase NAME SECONDS COMMAND...: runs with a time limit, logs, records {name, rc, seconds}.
phase() {
  local name=$1 limit=$2 t0 rc
  shift 2
  echo "== $name" | tee -a "$log"
  t0=$(date +%s)
  # bash -c so that exported shell functions (train, unpack_bundle, …) run under timeout too
  timeout "$limit" bash -c '"$@"' _ "$@" >>"$log" 2>&1
  rc=$?
  printf '{"phase": "%s", "rc": %d, "seconds": %d}\n' "$name" "$rc" "$(($(date +%s) - t0))" \
    >>"$out/phases.jsonl"
  [ $rc = 0 ] || echo "   $name: exit $rc (see $log)" | tee -a "$log"
  return $rc
}

unpack_bundle() {
  [ -d "$bundle/debs" ] || { echo "no bundle at $bundle: run packaging/gpu-bundle.sh first"; return 1; }
  rm -rf "$prefix" && mkdir -p "$prefix"
  for deb in "$bundle"/debs/*.deb; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$deb" "$prefix" || return 1
    else  # an .deb is an ar archive holding data.tar.*
      (cd "$prefix" && ar p "$deb" "$(ar t "$deb" | grep '^data.tar')" | tar -x -a -f - 2>/dev/null ||
        ar p "$deb" "$(ar t "$deb" | grep '^data.tar')" | tar -x --zstd -f -) || return 1
    fi
  done
  # Debian's .so links are absolute to /usr/lib/…: point them into the prefix.
  find "$prefix" -type l | while read -r l; do
    t=$(readlink "$l")
    case $t in /*) ln -sfn "$prefix$t" "$l" ;; esac
  done
  echo "unpacked $(ls "$bundle"/debs/*.deb | wc -l) packages into $prefix"
}

configure_against_prefix() {
  local torch_dir build=$1
  shift
  torch_dir=${AP_TORCH_DIR:-$($py -c 'import os, torch; print(os.path.join(torch.utils.cmake_prefix_path, "Torch"))' 2>/dev/null)}
  [ -n "$torch_dir" ] || { echo "no Torch_DIR: is PyTorch installed for $py?"; return 1; }
  local arch_dir
  arch_dir=$(ls -d "$prefix"/usr/lib/*-linux-gnu | head -1)
  export PKG_CONFIG="$prefix/usr/bin/pkgconf"
  export PKG_CONFIG_LIBDIR="$arch_dir/pkgconfig:$prefix/usr/share/pkgconfig"
  export PKG_CONFIG_SYSROOT_DIR="$prefix"
  # keep -I/usr/include and -L/usr/lib… (then prefixed with the sysroot): the GPU machine has
  # no such headers of its own
  export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  # DT_RPATH (not RUNPATH) to the prefix: it also serves the libraries' own dependencies
  # (libicuuc -> libicudata), so nothing needs LD_LIBRARY_PATH, which would reach Python too.
  local rpath="-Wl,--disable-new-dtags"
  cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DAP_BUILD_GUI=OFF \
    -DAP_BUILD_TESTS=OFF -DAP_BUILD_BENCHMARKS=OFF -DTorch_DIR="$torch_dir" \
    -DCMAKE_PREFIX_PATH="$prefix/usr" -DICU_ROOT="$prefix/usr" \
    -DPKG_CONFIG_EXECUTABLE="$prefix/usr/bin/pkgconf" -DCMAKE_BUILD_RPATH="$arch_dir" \
    -DCMAKE_EXE_LINKER_FLAGS="$rpath" -DCMAKE_MODULE_LINKER_FLAGS="$rpath" \
    -DCMAKE_SHARED_LINKER_FLAGS="$rpath" "$@"
}

export -f unpack_bundle configure_against_prefix

if [ $mode = configure ]; then
  phase unpack 120 unpack_bundle || exit 1
  phase configure 300 configure_against_prefix "$out/build" || exit 1
  exit 0
fi

export device bin db shape steps
if [ $mode = gpu ]; then
  device=cuda
  # Outside $out, so a second call on the same (warm) machine rebuilds incrementally.
  build=${AP_GPU_BUILD:-$root/.gpu-build}
  phase unpack 120 unpack_bundle
  phase configure 180 configure_against_prefix "$build"
  phase build 420 cmake --build "$build" --target apportion gpu_check ap_sentencepiece \
    -j"$(nproc)"
  bin=$build/bin
  shape=7b
  steps=5
else
  device=cpu
  bin=${AP_BUILD_DIR:-$root/build}/bin
  shape=tiny
  steps=2
fi
$py -c 'import torch' 2>/dev/null || py=/usr/bin/python3  # Debian's python3-torch, if any

# 2. Device checks through the real CLI on the shipped tiny backbones.
ws=$out/ws
rm -rf "$ws" && mkdir -p "$ws"
"$root/experiments/install_backbones.sh" "$ws" >>"$log" 2>&1
db=$ws/workspace.sqlite
train() {  # train NAME CONFIG ARGS…
  local name=$1 config=$2
  shift 2
  "$bin/apportion" train "$root/experiments/$config" --db "$db" --device "$device" \
    --name "$name" --progress none --set train.eval_every=10 --set train.checkpoint_every=10 \
    --set train.log_every=1 --set train.log_matrices_every=5 "$@"
}
export -f train
half=bfloat16
phase "train bf16 (lora, 20 steps)" 120 train bf16 lora.json --max-steps 20 --set train.dtype=$half
if [ "$device" = cuda ]; then  # Debian's CPU LibTorch 1.13 has no float16 matrix products
  phase "train fp16 (lora, 20 steps)" 120 train fp16 lora.json --max-steps 20 \
    --set train.dtype=float16
fi
phase "train bf16 + gradient checkpointing" 120 train bf16-ckpt lora.json --max-steps 20 \
  --set train.dtype=$half --set train.gradient_checkpointing=true
# --stop-after ends the run KILLED with a checkpoint: exit 3 is the expected outcome.
phase "train bf16, stop at 10" 120 bash -c 'train bf16-resume lora.json --max-steps 20 \
  --set train.dtype=bfloat16 --stop-after 10; test $? = 3'
resume_id=$("$bin/apportion" runs --db "$db" --json 2>/dev/null | $py -c '
import json, sys
print([r["run_id"] for r in json.load(sys.stdin) if r["name"] == "bf16-resume"][0])' 2>/dev/null)
phase "resume on $device to 20" 120 "$bin/apportion" train --resume "${resume_id:-none}" \
  --db "$db" --progress none
phase "sparse-MoE backbone (drlora, 20 steps)" 180 train drlora drlora.json --max-steps 20 \
  --set train.dtype=$half
"$bin/apportion" train "$root/experiments/lora.json" --db "$db" --device "$device" \
  --set train.dtype=$half --dry-run --progress json >"$out/estimate_lora.json" 2>>"$log"
"$bin/apportion" runs --db "$db" --json >"$out/runs.json" 2>>"$log"
phase "kv-cache generation" 120 sh -c "'$bin/gpu_check' kv-cache $device >'$out/kv_cache.json'"

# 3. Parity with transformers and peft.
if $py -c 'import transformers, peft' 2>/dev/null; then
  phase "parity with transformers and peft" 240 sh -c \
    "$py '$root/packaging/gpu_check/parity.py' '$bin/gpu_check' '$bin/apportion' '$out/parity' $device >'$out/parity.json'"
else
  echo '{"skipped": "transformers/peft not installed for this Python"}' >"$out/parity.json"
fi

# 4. Throughput, MFU, memory; the Python MoLA reference for the ratio.
phase "throughput ($shape)" 300 sh -c "'$bin/gpu_check' throughput $device $shape $steps >'$out/throughput.json'"
if [ $mode = gpu ]; then
  phase "MoLA reference layer in Python" 240 sh -c \
    "$py '$root/packaging/gpu_check/mola_reference.py' cuda $steps >'$out/mola_reference.json'"
elif $py -c 'import torch' 2>/dev/null; then
  phase "MoLA reference layer self-test" 60 sh -c \
    "$py '$root/packaging/gpu_check/mola_reference.py' --selftest >'$out/mola_reference.json'"
else
  echo '{"skipped": "no PyTorch for this Python"}' >"$out/mola_reference.json"
fi

# 5. The report.
$py "$root/packaging/gpu_check/report.py" "$out" "$mode" "$(($(date +%s) - start_all))" \
  >>"$log" 2>&1
[ "$results" = "$out" ] || cp "$out/report.json" "$out/report.md" "$results/"
cat "$out/report.md"
$py -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["ok"] else 1)' \
  "$out/report.json"
