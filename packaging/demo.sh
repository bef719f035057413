#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# README command 1: install what is missing, build, create the demo workspace (copy the shipped
# tiny backbones, then run every method preset in experiments/) unless it exists, and open the
# workbench on it. Without a display it does the same headless and prints where the results are.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ws=${AP_DEMO_WORKSPACE:-$root/demo-workspace}
db=$ws/workspace.sqlite
headless=0
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || headless=1
[ "${AP_HEADLESS:-0}" = 1 ] && headless=1

if [ $headless = 1 ]; then
  AP_HEADLESS=1 "$root/packaging/install-deps.sh"
  "$root/packaging/build.sh" -DAP_BUILD_GUI=OFF -DAP_BUILD_TESTS=OFF
else
  "$root/packaging/install-deps.sh"
  "$root/packaging/build.sh"
fi
bin=${AP_BUILD_DIR:-$root/build}/bin

mkdir -p "$ws"
# The pretrained demo backbones ship in experiments/backbones/ (AP_PRETRAIN=1 remakes them).
"$root/experiments/install_backbones.sh" "$ws"
# Every method preset once (seed 0); AP_DEMO_SEEDS=0-4 adds the seed repeats as groups.
seeds=${AP_DEMO_SEEDS:-0} parallel=${AP_PARALLEL:-2} threads=${AP_THREADS:-}
source "$root/experiments/seed_groups.sh"
for preset in lora moe-uniform mola-2468 mola-8642 guilomo drlora-uniform drlora-static drlora; do
  group "$preset" "$preset.json"
done

echo
"$bin/apportion" runs --db "$db" --groups
echo
echo "demo workspace: $db"
echo "  runs/<run_id>/ holds checkpoints and adapter exports; compare runs with"
echo "  '$bin/apportion show RUN --db $db' or export them with 'apportion export RUN --csv DIR'."
if [ $headless = 0 ]; then
  exec "$bin/apportion-gui" "$db" --experiments "$root/experiments"
fi
