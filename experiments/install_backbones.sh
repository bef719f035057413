#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Copies the pretrained demo backbones shipped in experiments/backbones/ (tiny-llama, dense;
# tiny-mixtral, sparse-MoE) into WORKSPACE_DIR/backbones/ unless the workspace has them, so the
# demo and the results do not pretrain each time. They were made by
#   apportion pretrain experiments/pretrain-tiny.json      --db WS/workspace.sqlite --threads 1
#   apportion pretrain experiments/pretrain-tiny-moe.json  --db WS/workspace.sqlite --threads 1
# (see experiments/backbones/README.md); AP_PRETRAIN=1 pretrains them instead of copying.
# Usage: experiments/install_backbones.sh WORKSPACE_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ws=${1:?usage: install_backbones.sh WORKSPACE_DIR}
bin=${AP_BUILD_DIR:-$root/build}/bin
mkdir -p "$ws/backbones"
for pair in tiny-llama:pretrain-tiny tiny-mixtral:pretrain-tiny-moe; do
  name=${pair%%:*} config=${pair##*:}
  [ -f "$ws/backbones/$name/model.safetensors" ] && continue
  if [ "${AP_PRETRAIN:-0}" = 1 ] || [ ! -f "$root/experiments/backbones/$name/model.safetensors" ]; then
    echo "install_backbones: pretraining $name (a few minutes)…"
    "$bin/apportion" pretrain "$root/experiments/$config.json" --db "$ws/workspace.sqlite" \
      --name "$config" --threads 1 --progress none
  else
    cp -r "$root/experiments/backbones/$name" "$ws/backbones/$name"
  fi
done
