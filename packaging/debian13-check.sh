#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Debian 13 (trixie: LibTorch 2.6, Qt 6.8, GCC 14) check, on a Debian machine without a second
# one: makes a fresh trixie root filesystem with Debian's mmdebstrap, then inside it (chroot)
# installs the dependencies (packaging/install-deps.sh), builds (packaging/build.sh) and runs the
# whole test suite (ctest, as packaging/test.sh does), builds the .deb with CPack, installs that
# .deb into a second fresh trixie root and runs `apportion --version` and a short headless training
# run from the installed files. Not part of .ci/run: about 50 minutes on 2 cores from scratch
# (the build is 40 of them; docs/PLATFORMS.md has the figures).
#
# Usage: packaging/debian13-check.sh [WORKDIR]     (default /var/tmp/apportion-debian13)
#   Needs root (chroot, mounts), mmdebstrap (apt-get install mmdebstrap) and deb.debian.org.
#   The sources are the working tree's tracked and untracked-but-not-ignored files; ../shared is
#   copied beside them when present. AP_KEEP_ROOT=1 reuses an existing build root (faster reruns).
# Writes WORKDIR/report.md (printed at the end) and one log per phase in WORKDIR/logs/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/var/tmp/apportion-debian13}
mirror=${AP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
build_root=$work/build-root
install_root=$work/install-root
logs=$work/logs

[ "$(id -u)" = 0 ] || { echo "debian13-check: run as root (it uses chroot and mounts)" >&2; exit 2; }
command -v mmdebstrap >/dev/null ||
  { echo "debian13-check: mmdebstrap missing: apt-get install mmdebstrap" >&2; exit 2; }
mkdir -p "$logs"
report=$work/report.md
: >"$report.rows"

mounted=()
unmount_all() {
  for m in "${mounted[@]}"; do umount -R "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}
trap unmount_all EXIT

# mount_system ROOT: /proc, /dev (as a slave so nothing propagates back) and DNS for apt.
mount_system() {
  mount -t proc proc "$1/proc" && mounted+=("$1/proc")
  mount --rbind /dev "$1/dev" && mount --make-rslave "$1/dev" && mounted+=("$1/dev")
  cp /etc/resolv.conf "$1/etc/resolv.conf"
}

# phase NAME LOG COMMAND...: runs, times and records one phase; a failure ends the check.
phase() {
  local name=$1 log=$2 start end rc
  shift 2
  echo "== $name (log: $log)"
  start=$(date +%s)
  set +e
  "$@" >"$log" 2>&1
  rc=$?
  set -e
  end=$(date +%s)
  echo "| $name | $([ $rc = 0 ] && echo ok || echo "FAILED (exit $rc)") | $((end - start)) |" >>"$report.rows"
  if [ $rc != 0 ]; then
    tail -40 "$log"
    write_report
    exit 1
  fi
}

write_report() {
  {
    echo "# Debian 13 check ($(date -u +%Y-%m-%d), $(nproc) cores)"
    echo
    echo "Sources: $(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)."
    [ -f "$build_root/etc/debian_version" ] &&
      echo "Build root: Debian $(cat "$build_root/etc/debian_version")."
    [ -f "$logs/versions.txt" ] && sed 's/^/- /' "$logs/versions.txt"
    [ -f "$logs/ctest-summary.txt" ] && { echo; cat "$logs/ctest-summary.txt"; }
    echo
    echo "| phase | result | seconds |"
    echo "| --- | --- | --- |"
    cat "$report.rows"
  } >"$report"
  cat "$report"
}

if [ "${AP_KEEP_ROOT:-0}" != 1 ] || [ ! -x "$build_root/usr/bin/apt-get" ]; then
  rm -rf "$build_root"
  phase "create build root (mmdebstrap trixie minbase)" "$logs/mmdebstrap-build.log" \
    mmdebstrap --variant=minbase --include=ca-certificates,git,sudo trixie "$build_root" "$mirror"
fi
mount_system "$build_root"

# The sources, as the working tree has them (no build folders; a kept root keeps its build/ so
# a rerun builds incrementally).
[ "${AP_KEEP_ROOT:-0}" = 1 ] || rm -rf "$build_root/src"
mkdir -p "$build_root/src/main"
# Only files whose content changed are copied, with the current time as their mtime (copying
# the working tree's older mtimes over a kept build would leave stale objects behind).
rm -rf "$work/src-new" && mkdir -p "$work/src-new"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  tar --null -T - -cf -) | tar -x -C "$work/src-new"
(cd "$work/src-new" && find . -type f -print0) | while IFS= read -r -d '' f; do
  cmp -s "$work/src-new/$f" "$build_root/src/main/$f" && continue
  mkdir -p "$(dirname "$build_root/src/main/$f")"
  cp "$work/src-new/$f" "$build_root/src/main/$f"
done
rm -rf "$work/src-new"
[ -d "$root/../shared" ] && rm -rf "$build_root/src/shared" && cp -r "$root/../shared" "$build_root/src/shared"

in_build_root() { chroot "$build_root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 AP_BUILD_DIR=/src/main/build bash -c "cd /src/main && $1"; }

phase "install dependencies (packaging/install-deps.sh)" "$logs/install-deps.log" \
  in_build_root packaging/install-deps.sh
in_build_root 'echo "g++ $(g++ -dumpfullversion), cmake $(cmake --version | head -1 | cut -d" " -f3),
$(dpkg-query -W -f="\${Package} \${Version}" libtorch-dev), $(dpkg-query -W -f="\${Package} \${Version}" qt6-base-dev)"' \
  >"$logs/versions.txt"
phase "build (packaging/build.sh)" "$logs/build.log" in_build_root packaging/build.sh
phase "whole test suite (ctest -j2 --timeout 900)" "$logs/ctest.log" \
  in_build_root 'cd build && ctest --output-on-failure -j2 --timeout 900'
grep -E "tests passed|Total Test time" "$logs/ctest.log" >"$logs/ctest-summary.txt" || true
phase "package (cpack -G DEB)" "$logs/cpack.log" in_build_root 'cd build && cpack -G DEB'
deb=$(ls "$build_root"/src/main/build/apportion_*.deb | head -1)
cp "$deb" "$work/"
echo "| .deb | $(basename "$deb") | $(du -k "$deb" | cut -f1) KiB |" >>"$report.rows"

# A second, fresh root: the .deb alone must bring everything it needs.
rm -rf "$install_root"
phase "create install root (mmdebstrap trixie minbase)" "$logs/mmdebstrap-install.log" \
  mmdebstrap --variant=minbase trixie "$install_root" "$mirror"
mount_system "$install_root"
cp "$deb" "$install_root/tmp/"
in_install_root() { chroot "$install_root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 bash -c "$1"; }
phase "apt-get install ./$(basename "$deb")" "$logs/deb-install.log" in_install_root \
  "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/$(basename "$deb")"
phase "installed: apportion --version" "$logs/deb-version.log" in_install_root 'apportion --version'
phase "installed: 20-step LoRA run on the shipped tiny-llama" "$logs/deb-run.log" in_install_root '
  set -e; ws=/tmp/ws; mkdir -p $ws; cp -r /usr/share/apportion/experiments/backbones $ws/
  apportion train /usr/share/apportion/experiments/lora.json --db $ws/workspace.sqlite \
    --set train.steps=20 --set train.eval_every=10 --set train.checkpoint_every=10 --threads 2 \
    --progress none
  apportion runs --db $ws/workspace.sqlite
  apportion runs --db $ws/workspace.sqlite | grep -q FINISHED
  test -x /usr/bin/apportion-gui
  test -f /usr/share/applications/io.github.apportion.Apportion.desktop'
write_report
