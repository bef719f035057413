#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# README command 2: install what is missing, build everything, run the whole test suite (ctest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/packaging/install-deps.sh"
"$root/packaging/build.sh"
cd "${AP_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j2 --timeout 900
