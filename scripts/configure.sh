#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Configure step: a small x86_64 system emulator (TCG, Q35 + vfio-pci + PCIe
# ports from our devices file, VNC, SPICE, OpenGL with epoxy and gbm, GTK).
# Re-runs QEMU's configure only when the options change.
#
# usage: configure.sh SRC BUILD DEBIAN_VERSION [EXTRA CONFIGURE OPTIONS...]
set -euo pipefail

src=$1
build=$2
debver=$3
shift 3

opts=(
    --prefix=/usr
    --firmwarepath=/usr/share/qemu:/usr/share/seabios
    --target-list=x86_64-softmmu
    --without-default-features
    --without-default-devices
    --with-devices-x86_64=vfio-display
    --python=/usr/bin/python3
    --disable-install-blobs
    --disable-docs
    --enable-tcg
    --enable-kvm
    --enable-fdt=system
    --enable-pixman
    --enable-vnc
    --enable-spice
    --enable-spice-protocol
    --enable-opengl
    --enable-gtk
    --enable-gio
    --enable-dbus-display
    "--with-pkgversion=Debian $debver, vfio-display overlay"
    "$@"
)

mkdir -p "$build"
want=$(printf '%s\n' "${opts[@]}")
if [ -f "$build/build.ninja" ] && [ -f "$build/.vfio-display-configure" ] &&
   [ "$(cat "$build/.vfio-display-configure")" = "$want" ]; then
    exit 0
fi
echo "configure: $src -> $build" >&2
(cd "$build" && "$src/configure" "${opts[@]}") > "$build/configure.log" 2>&1 || {
    tail -30 "$build/configure.log" >&2
    echo "configure: FAILED (full log: $build/configure.log)" >&2
    exit 1
}
echo "$want" > "$build/.vfio-display-configure"
