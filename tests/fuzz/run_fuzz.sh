#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the libFuzzer targets (AP_FUZZ, clang) unless given a build, then fuzzes each target in
# turn, one process at a time, for a time or a number of runs; prints executions and coverage.
#
#   tests/fuzz/run_fuzz.sh [-b BUILD] [-o OUT] [-t SECONDS | -r RUNS] [-j] [TARGET…]
#
#   -b BUILD  build folder (default build-fuzz; configured and built when it lacks the targets)
#   -o OUT    scratch folder (default /tmp/ap-fuzz-out): OUT/corpus/<t> new corpus entries,
#             OUT/artifacts/<t>/ crashes, leaks, timeouts, OOMs; OUT/logs/<t>.log libFuzzer's log
#   -t SEC    fuzz each target SEC seconds (-max_total_time; default 60)
#   -r RUNS   or stop after RUNS executions (-runs); with -t too, whichever comes first
#   -k        keep going after a finding (-fork=1 -ignore_crashes/timeouts/ooms: one child at a
#             time, each finding saved; the stats then come from the fork driver's last line)
# Environment: NICE (default 10), MAX_LEN (-max_len, default 16384), TIMEOUT (per input, 25 s),
# RSS_MB (-rss_limit_mb, 2048), EXTRA (more libFuzzer flags), CC/CXX (clang-14 when present).
# The seed corpora (tests/fuzz/corpus/<t>) are read, never written. Exit 1 when any target left
# an artifact.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-fuzz
out=/tmp/ap-fuzz-out
seconds=""
runs=""
keep_going=0
while getopts "b:o:t:r:kh" opt; do
  case $opt in
    b) build=$(realpath -m "$OPTARG") ;;
    o) out=$(realpath -m "$OPTARG") ;;
    t) seconds=$OPTARG ;;
    r) runs=$OPTARG ;;
    k) keep_going=1 ;;
    *) sed -n '3,18p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ -n "$seconds$runs" ] || seconds=60
all=(fuzz_experiment_config fuzz_hf_config fuzz_safetensors_header fuzz_tokenizer_json
     fuzz_jsonl_dataset fuzz_progress_line)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

missing=0
for t in "${targets[@]}"; do [ -x "$build/bin/$t" ] || missing=1; done
if [ $missing = 1 ]; then
  cc=${CC:-$(command -v clang-14 || command -v clang)}
  cxx=${CXX:-$(command -v clang++-14 || command -v clang++)}
  echo "run_fuzz: building the fuzz targets in $build ($cxx)"
  CC=$cc CXX=$cxx cmake -S "$root" -B "$build" -DAP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
  nice -n "${NICE:-10}" cmake --build "$build" -j"$(nproc)" --target fuzz_all
fi

mkdir -p "$out/logs"
summary=()
found=0
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
  flags=(-print_final_stats=1 -timeout="${TIMEOUT:-25}" -rss_limit_mb="${RSS_MB:-2048}"
         -max_len="${MAX_LEN:-16384}" -dict="$root/tests/fuzz/dict/$t.dict"
         -artifact_prefix="$out/artifacts/$t/")
  [ -z "$seconds" ] || flags+=(-max_total_time="$seconds")
  [ -z "$runs" ] || flags+=(-runs="$runs")
  [ $keep_going = 0 ] || flags+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  # shellcheck disable=SC2086
  flags+=(${EXTRA:-})
  log=$out/logs/$t.log
  echo "run_fuzz: $t (log $log)"
  set +e
  (cd "$out/artifacts/$t" && nice -n "${NICE:-10}" "$build/bin/$t" "${flags[@]}" \
     "$out/corpus/$t" "$root/tests/fuzz/corpus/$t") >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$' || true)
  speed=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$' || true)
  last=$(grep -E '^#[0-9]+:?[[:space:]]' "$log" | grep -E 'cov: ' | tail -1 || true)
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || true)
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || true)
  if [ -z "$execs" ]; then  # fork mode, or stopped by a finding: the driver's last words
    execs=$(grep -oE 'INFO: fuzzed for [0-9]+ iterations' "$log" | grep -oE '[0-9]+' || true)
    [ -n "$execs" ] || execs=$(echo "$last" | grep -oE '^#[0-9]+' | tr -d '#' || true)
    secs=$(grep -oE 'INFO: exiting: [0-9-]+ time: [0-9]+s' "$log" | grep -oE '[0-9]+s$' | tr -d s || true)
    if [ -n "$execs" ] && [ -n "$secs" ] && [ "$secs" -gt 0 ]; then
      speed=$((execs / secs))
    else
      speed=$(echo "$last" | grep -oE 'exec/s:? [0-9]+' | grep -oE '[0-9]+' || true)
    fi
  fi
  artifacts=$(find "$out/artifacts/$t" -maxdepth 1 -type f -name '*-*' | wc -l)
  [ "$artifacts" = 0 ] || found=1
  summary+=("$(printf '%-26s %12s %8s %7s %8s %9s %4s' "$t" "${execs:-?}" "${speed:-?}" \
                "${cov:-?}" "${ft:-?}" "$artifacts" "$rc")")
done

printf '\n%-26s %12s %8s %7s %8s %9s %4s\n' target executions exec/s cov ft artifacts rc
printf '%s\n' "${summary[@]}"
echo "commit: ${AP_FUZZ_COMMIT:-$(git -C "$root" log -1 --format=%h 2>/dev/null || echo unknown)}; artifacts under $out/artifacts"
exit $found
