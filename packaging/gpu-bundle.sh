#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Companion of packaging/gpu-check.sh, run here (Debian 12, with its package registry) before a
# GPU call: downloads the Debian .deb files of the C/C++ libraries the headless build needs
# besides LibTorch (which comes from the GPU machine's Python PyTorch) into an ignored folder
# that travels with the call. Nothing is installed; gpu-check.sh unpacks them into a private
# prefix. About 25 MB.
# Usage: packaging/gpu-bundle.sh [DIR]   (default .gpu-bundle/ in the repository)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/.gpu-bundle}
packages=(
  libsqlite3-dev libsqlite3-0 nlohmann-json3-dev libcli11-dev
  libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3
  libsentencepiece-dev libsentencepiece0 libprotobuf-lite32
  libicu-dev libicu72 pkgconf pkgconf-bin libpkgconf3
)
mkdir -p "$out/debs"
cd "$out/debs"
rm -f ./*.deb
apt-get download "${packages[@]}" >/dev/null
echo "gpu-bundle: $(ls ./*.deb | wc -l) packages, $(du -sh . | cut -f1) in $out/debs"
