#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Configure step: qemu-system-x86_64 with Debian's feature and device set,
# or (--small, the sanitizer build) Q35 + vfio-pci + PCIe ports from our
# devices file and the display features.  Re-runs QEMU's configure only
# when the options change.
#
# usage: configure.sh SRC BUILD DEBIAN_VERSION [--small] [EXTRA OPTIONS...]
set -euo pipefail

src=$1
build=$2
debver=$3
shift 3

# Debian's qemu-system-x86 10.0 (debian/rules and the linux-amd64 options
# of debian/control, read with debian/extract-config-opts): its features
# and its default x86_64 devices, for our one target.  Exceptions, each
# also in the README: --disable-blkio (no libblkio on bookworm; Debian's
# own bookworm-backports build disables it too), no guest agent and no
# other targets (we build qemu-system-x86_64 only), --disable-bzip2 (on
# here, not in Debian's build: the same module set), relocatable (so that
# make install and make deb can put it under any prefix).
debian=(
    --prefix=/usr/local
    --sysconfdir=/etc
    --localstatedir=/var
    --firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu
    --target-list=x86_64-softmmu
    --enable-system --disable-user --disable-linux-user
    --enable-tools --disable-guest-agent --disable-xen
    --enable-modules
    --disable-install-blobs --disable-strip --disable-download
    --disable-containers --disable-docs --disable-xkbcommon
    --enable-capstone --enable-linux-aio --disable-sndio
    --audio-drv-list=pipewire,pa,alsa,jack,oss,sdl
    --enable-attr --enable-bpf --disable-blkio --enable-brlapi
    --enable-virtfs --enable-cap-ng --enable-curl --enable-fdt=system
    --enable-fuse --enable-gnutls --enable-gtk --enable-vte
    --enable-libiscsi --enable-curses --enable-virglrenderer --enable-opengl
    --enable-libnfs --enable-numa --enable-smartcard --enable-pixman
    --enable-rbd --enable-glusterfs --enable-vnc-sasl --enable-sdl
    --enable-seccomp --enable-slirp --enable-spice --enable-spice-protocol
    --enable-rdma --enable-linux-io-uring --enable-libusb --enable-usb-redir
    --enable-libssh --enable-zstd --enable-vde --enable-nettle
    --enable-libudev --enable-vnc --enable-vnc-jpeg --enable-png
    --enable-libpmem --enable-kvm --enable-vhost-net --enable-tcg
    --enable-gio --enable-dbus-display --disable-bzip2
)
# The sanitizer build: our devices file (Q35, PCIe ports, vfio-pci) and
# the display features only, no modules: the display suites run on it.
small=(
    --prefix=/usr/local
    --firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu
    --target-list=x86_64-softmmu
    --without-default-features
    --without-default-devices
    --with-devices-x86_64=vfio-display
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
)
if [ "${1:-}" = --small ]; then
    shift
    opts=("${small[@]}")
else
    opts=("${debian[@]}")
fi
opts+=(
    --python=/usr/bin/python3
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
