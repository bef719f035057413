#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Downloads the GPU check's .deb bundle (packaging/gpu-bundle.sh; needs Debian's registry),
# unpacks it into a private prefix and configures the headless build against it
# (gpu-check.sh --prefix-configure, with this machine's LibTorch standing in for the Python
# one), then checks that every library the build found comes from the prefix, not the system.
# Usage: gpu_bundle_configure.sh SOURCE_DIR TORCH_DIR
set -euo pipefail
src=${1:?} torch_dir=${2:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp/out/log.txt" >&2 2>/dev/null || true; exit 1; }
"$src/packaging/gpu-bundle.sh" "$tmp/bundle" || fail "gpu-bundle.sh"
AP_GPU_BUNDLE=$tmp/bundle AP_GPU_PREFIX=$tmp/prefix AP_GPU_OUT=$tmp/out AP_TORCH_DIR=$torch_dir \
  "$src/packaging/gpu-check.sh" --prefix-configure || fail "configure against the prefix"
cache=$tmp/out/build/CMakeCache.txt
for key in SQLite3_INCLUDE_DIR SQLite3_LIBRARY ICU_INCLUDE_DIR ICU_UC_LIBRARY_RELEASE \
  nlohmann_json_DIR CLI11_DIR; do
  value=$(grep "^$key:" "$cache" | cut -d= -f2-)
  case $value in
    "$tmp/prefix"*) ;;
    *) fail "$key=$value is not from the prefix $tmp/prefix" ;;
  esac
done
for key in pkgcfg_lib_PCRE2_pcre2-8 pkgcfg_lib_SENTENCEPIECE_sentencepiece PCRE2_INCLUDE_DIRS \
  SENTENCEPIECE_INCLUDE_DIRS; do
  grep -q "^$key:[A-Z]*=$tmp/prefix" "$cache" || fail "$key not from the prefix: $(grep "^$key:" "$cache")"
done
echo "gpu_bundle_configure: OK (every library from $tmp/prefix)"
