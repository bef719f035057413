#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# README command 1: install what is missing, build, create the demo workspace (pretrain the tiny
# backbones, then run every method preset in experiments/) unless it exists, and open the
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
if [ ! -f "$ws/backbones/tiny-llama/model.safetensors" ]; then
  echo "demo: pretraining the tiny backbone (about a minute)…"
  "$bin/apportion" pretrain "$root/experiments/pretrain-tiny.json" --db "$db" --name pretrain-tiny
fi
if [ ! -f "$ws/backbones/tiny-mixtral/model.safetensors" ]; then
  echo "demo: pretraining the tiny sparse-MoE backbone for DR-LoRA…"
  "$bin/apportion" pretrain "$root/experiments/pretrain-tiny-moe.json" --db "$db" --name pretrain-tiny-moe
fi
for preset in lora moe-uniform mola-2468 mola-8642 guilomo drlora-uniform drlora-static drlora; do
  if ! "$bin/apportion" runs --db "$db" | grep -qE "FINISHED +$preset "; then
    echo "demo: training $preset…"
    "$bin/apportion" train "$root/experiments/$preset.json" --db "$db" --name "$preset"
  fi
done

echo
"$bin/apportion" runs --db "$db"
echo
echo "demo workspace: $db"
echo "  runs/<run_id>/ holds checkpoints and adapter exports; compare runs with"
echo "  '$bin/apportion show RUN --db $db' or export them with 'apportion export RUN --csv DIR'."
if [ $headless = 0 ]; then
  exec "$bin/apportion-gui" "$db" --experiments "$root/experiments"
fi
