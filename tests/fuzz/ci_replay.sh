#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The sanitized replay (optional; CI replays with tests/fuzz/replay instead): a build with clang of ap_core and the libFuzzer
# targets (AP_FUZZ=ON: no LibTorch, no Qt) into build-fuzz/ (or $AP_FUZZ_BUILD_DIR), then the
# replay tests: every target runs once over its seed corpus and saved regression inputs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${AP_FUZZ_BUILD_DIR:-$root/build-fuzz}
cc=${CC_FUZZ:-$(command -v clang-14 || command -v clang || true)}
cxx=${CXX_FUZZ:-$(command -v clang++-14 || command -v clang++ || true)}
if [ -z "$cc" ] || [ -z "$cxx" ]; then
  echo "fuzz replay: no clang found; packaging/install-deps.sh installs it" >&2
  exit 1
fi
CC=$cc CXX=$cxx cmake -S "$root" -B "$build" -DAP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target fuzz_all
symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
[ -z "$symbolizer" ] || export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$symbolizer}
cd "$build"
ctest --output-on-failure -L fuzz -j"$(nproc)"
