#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole build: dependencies, Debian's source, overlay + patches,
# configure, ninja.  Incremental; compiles through ccache.
#
# usage: build.sh [NINJA TARGETS...]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}

"$top/scripts/deps.sh"
pristine=$("$top/scripts/fetch-source.sh")
debver=$(cat "$(dirname "$pristine")/version")

mkdir -p "$out"
echo "$debver" > "$out/debian-version"
echo "build: QEMU source package qemu $debver" >&2

# ccache through its compiler links; paths relative to the build directory
# so that every clone of the repository shares one cache.
export PATH=/usr/lib/ccache:$PATH
export CCACHE_BASEDIR=$out
export CCACHE_NOHASHDIR=1

"$top/scripts/overlay.sh" "$pristine" "$out/src"
"$top/scripts/configure.sh" "$out/src" "$out/qemu" "$debver"

# the simulator and its raw-ABI tests (plain C, no QEMU)
make -s -C "$top/tests/vfio-sim" O="$out/vfio-sim"
make -s -C "$top/tests/display" O="$out/display"
# the test guest: Debian's kernel and busybox-static, cached
/usr/bin/python3 "$top/tests/guest/mkguest.py" "$out/guest"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(qemu-system-x86_64 tests/qtest/vfio-display-test)
ninja -C "$out/qemu" "${targets[@]}"

# Run from the build tree, QEMU looks for data files only in qemu-bundle/:
# link Debian's firmware there (seabios; qemu-system-data's option ROMs)
# the way QEMU's own build links its pc-bios/ blobs.
bundle=$out/qemu/qemu-bundle/usr/share
mkdir -p "$bundle/qemu"
ln -sfn /usr/share/seabios "$bundle/seabios"
for f in /usr/share/qemu/*; do
    [ -e "$bundle/qemu/${f##*/}" ] || [ -L "$bundle/qemu/${f##*/}" ] ||
        ln -s "$f" "$bundle/qemu/"
done
