#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A second build of our QEMU with AddressSanitizer and UndefinedBehavior-
# Sanitizer (build/qemu-asan), from the tree scripts/build.sh laid out;
# through the same ccache.  UBSan does not recover: a report aborts QEMU.
#
# usage: build-asan.sh   (after build.sh)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}

export PATH=/usr/lib/ccache:$PATH
export CCACHE_BASEDIR=$out
export CCACHE_NOHASHDIR=1

# QEMU's --enable-ubsan adds -fsanitize=undefined; that it stops at the
# first report (as ASan does) is ours: a report nobody reads is no test.
# The checks scripts/ubsan.supp suppresses in upstream code must recover
# (suppressions work only for those); they still log any other report,
# which check.sh's asan-reports and the fuzzer count as failures.
"$top/scripts/configure.sh" "$out/src" "$out/qemu-asan" \
    "$(cat "$out/debian-version")" --small --enable-asan --enable-ubsan \
    "--extra-cflags=-fno-sanitize-recover=undefined -fsanitize-recover=nonnull-attribute"
ninja -C "$out/qemu-asan" qemu-system-x86_64
"$top/scripts/link-firmware.sh" "$out/qemu-asan"
