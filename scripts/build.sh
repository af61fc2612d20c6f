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
make -s -C "$top/tests/bench" O="$out/bench"
# the test guest: Debian's kernel and busybox-static, cached
/usr/bin/python3 "$top/tests/guest/mkguest.py" "$out/guest"
# the kernel's vfio-mdev samples for that kernel (linux-source, built
# against its linux-headers), and the guest with mdpy-fb for the mdpy model
/usr/bin/python3 "$top/tests/guest/mksamples.py" "$out/samples" \
    mdpy-fb mdpy mbochs
/usr/bin/python3 "$top/tests/guest/mkguest.py" "$out/guest-mdpy" \
    --ko "$out/samples/mdpy-fb.ko"
# the real-kernel test's guest: vfio, mdev, 9p and the samples mbochs, mdpy
/usr/bin/python3 "$top/tests/guest/mkguest.py" "$out/kernel-guest" \
    --init "$top/tests/kernel/init" --module vfio_iommu_type1 \
    --module mdev --module virtio_pci --module 9pnet_virtio --module 9p \
    --ko "$out/samples/mbochs.ko" --ko "$out/samples/mdpy.ko"
# the desktop guest of the demo: weston on bochs-drm, Xorg on mdpy-fb
# (debootstrap, cached; the first build takes minutes)
/usr/bin/python3 "$top/tests/guest/mkdesktop.py" "$out/desktop" \
    --ko "$out/samples/mdpy-fb.ko"

targets=("$@")
# the modules too: with --enable-modules the UIs (gtk, spice, egl-headless,
# dbus), audio, USB and display devices and the qtest accelerator are .so
[ ${#targets[@]} -gt 0 ] ||
    targets=(qemu-system-x86_64 modules tests/qtest/vfio-display-test)
ninja -C "$out/qemu" "${targets[@]}"

# firmware where QEMU looks when it runs from the build tree
"$top/scripts/link-firmware.sh" "$out/qemu"
