#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Companion of packaging/gpu-check.sh, run here (Debian 12, with its package registry) before a
# GPU call: downloads the Debian .deb files of the C/C++ libraries the headless build needs
# besides LibTorch (which comes from the GPU machine's Python PyTorch) into an ignored folder
# that travels with the call. Nothing is installed; gpu-check.sh unpacks them into a private
# prefix. About 30 MB.
# Usage: packaging/gpu-bundle.sh [DIR]   (default .gpu-bundle/ in the repository)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/.gpu-bundle}
# The -dev packages the build needs and, found with apt-cache, the runtime libraries they pull
# in (so the same script works on Debian 12 and 13, whose library package names differ), minus
# what every Linux system has (the C and C++ runtimes).
# (libprotobuf-dev: Debian 13's sentencepiece.pc requires protobuf-lite.)
roots=(libsqlite3-dev nlohmann-json3-dev libcli11-dev libpcre2-dev libsentencepiece-dev
  libprotobuf-dev libicu-dev libssl-dev pkgconf)
skip=" libc6 libc6-dev libc-dev-bin linux-libc-dev libgcc-s1 libstdc++6 zlib1g icu-devtools "
packages=()
queue=("${roots[@]}")
while [ ${#queue[@]} -gt 0 ]; do
  p=${queue[0]}
  queue=("${queue[@]:1}")
  case " ${packages[*]} $skip " in *" $p "*) continue ;; esac
  packages+=("$p")
  for d in $(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$p" | awk '$1 ~ /Depends:$/ && $2 !~ /^</ {print $2}'); do
    queue+=("$d")
  done
done
mkdir -p "$out/debs"
cd "$out/debs"
rm -f ./*.deb
apt-get download "${packages[@]}" >/dev/null
echo "gpu-bundle: $(ls ./*.deb | wc -l) packages, $(du -sh . | cut -f1) in $out/debs"
