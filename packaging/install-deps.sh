#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs the Debian 12 or 13 packages Apportion builds and runs with, only those missing
# (idempotent). Uses sudo when not root. AP_HEADLESS=1 skips the Qt/GUI packages.
set -euo pipefail

packages=(
  build-essential cmake pkg-config python3   # python3: test and experiment scripts
  libtorch-dev libopenblas0-pthread   # LibTorch (CPU; 1.13 on 12, 2.6 on 13); OpenBLAS: ~10x faster GEMMs
  libgloo-dev   # Gloo headers for LibTorch's c10d ProcessGroupGloo (data-parallel training, docs/DISTRIBUTED.md)
  nlohmann-json3-dev libsqlite3-dev libcli11-dev libbenchmark-dev clang-format
  libpcre2-dev libsentencepiece-dev libicu-dev zlib1g-dev   # tokenizers (core/tokenizer/)
  libssl-dev   # libcrypto's SHA-256 for the token cache (core/data/token_cache.cpp)
  slurmctld slurmd slurm-client munge   # tests/remote: a loopback Slurm cluster (slurm_cluster.sh)
  openssh-client openssh-server   # the ssh executor (core/remote) and its loopback sshd test
)
# AP_FUZZ=1: clang's libFuzzer, ASan/UBSan runtimes and llvm-symbolizer for tests/fuzz/run_fuzz.sh
# (CI replays the fuzz corpora with the normal build and needs none of them).
if [ "${AP_FUZZ:-0}" = 1 ]; then
  packages+=(clang libclang-rt-dev llvm)
fi
if [ "${AP_HEADLESS:-0}" != 1 ]; then
  packages+=(qt6-base-dev libqcustomplot-dev libgl-dev xvfb xauth
             qt6-svg-dev poppler-utils   # SVG figure export; pdfinfo/pdftoppm check exported PDFs
             desktop-file-utils appstream file)  # tests/packaging: validators; CPack's shlibdeps
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# munge/slurmctld/slurmd postinsts start their services through invoke-rc.d. Without systemd and
# without Docker's policy-rc.d (exit 101) that would leave a system munged running; deny service
# starts while installing (tests/remote runs private daemons; Slurm's need /etc/slurm/slurm.conf).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
