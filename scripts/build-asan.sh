#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A second build of our QEMU with AddressSanitizer (build/qemu-asan), from
# the tree scripts/build.sh laid out; through the same ccache.
#
# usage: build-asan.sh   (after build.sh)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}

export PATH=/usr/lib/ccache:$PATH
export CCACHE_BASEDIR=$out
export CCACHE_NOHASHDIR=1

"$top/scripts/configure.sh" "$out/src" "$out/qemu-asan" \
    "$(cat "$out/debian-version")" --enable-asan
ninja -C "$out/qemu-asan" qemu-system-x86_64
"$top/scripts/link-firmware.sh" "$out/qemu-asan"
