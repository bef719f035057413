#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the .deb with CPack from the build tree and checks it as a package manager would: the
# files it installs (both programs, the experiments and shipped backbones, icon, menu entry,
# AppStream metadata), its Depends (LibTorch and Qt from dpkg-shlibdeps, the pthread OpenBLAS),
# and the menu entry and metadata with Debian's validators. Installing it into a fresh Debian 13
# root is packaging/debian13-check.sh's job (too long for the suite).
# Usage: package_deb.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: package_deb.sh BUILD_DIR}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out" >"$out/cpack.log" 2>&1 ||
  { cat "$out/cpack.log"; fail "cpack -G DEB failed (log above)"; }
deb=$(ls "$out"/apportion_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "cpack made no apportion_*.deb in $out: $(ls "$out")"
echo "package: $(basename "$deb")"

contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/apportion ./usr/bin/apportion-gui \
  ./usr/share/applications/io.github.apportion.Apportion.desktop \
  ./usr/share/metainfo/io.github.apportion.Apportion.metainfo.xml \
  ./usr/share/icons/hicolor/scalable/apps/io.github.apportion.Apportion.svg \
  ./usr/share/apportion/experiments/lora.json \
  ./usr/share/apportion/experiments/backbones/tiny-llama/model.safetensors \
  ./usr/share/doc/apportion/LICENSE; do
  grep -q " $f\$" <<<"$contents" || fail "$f is not in the package"
done

depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for d in libtorch libqt6widgets6 libsqlite3-0 libopenblas0-pthread; do
  grep -q "$d" <<<"$depends" || fail "Depends lacks $d: $depends"
done
[ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] ||
  fail "Architecture is $(dpkg-deb -f "$deb" Architecture)"

mkdir "$out/x" && dpkg-deb -x "$deb" "$out/x"
desktop-file-validate "$out/x/usr/share/applications/io.github.apportion.Apportion.desktop"
appstreamcli validate --no-net \
  "$out/x/usr/share/metainfo/io.github.apportion.Apportion.metainfo.xml" >/dev/null ||
  fail "appstreamcli validate rejects the metainfo"
"$out/x/usr/bin/apportion" --version | grep -q "^apportion " || fail "packaged apportion --version"
echo "package_deb: OK"
