#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run from the build tree, QEMU looks for data files only in qemu-bundle/:
# link Debian's firmware there (seabios; qemu-system-data's option ROMs;
# ipxe-qemu's network ROMs)
# the way QEMU's own build links its pc-bios/ blobs.
#
# usage: link-firmware.sh BUILD   (a configured QEMU build directory)
set -euo pipefail

bundle=$1/qemu-bundle/usr/share
mkdir -p "$bundle/qemu" "$1/qemu-bundle/usr/lib/ipxe"
ln -sfn /usr/share/seabios "$bundle/seabios"
# ipxe-qemu's option ROMs of the network cards (efi-e1000e.rom...)
ln -sfn /usr/lib/ipxe/qemu "$1/qemu-bundle/usr/lib/ipxe/qemu"
for f in /usr/share/qemu/*; do
    [ -e "$bundle/qemu/${f##*/}" ] || [ -L "$bundle/qemu/${f##*/}" ] ||
        ln -s "$f" "$bundle/qemu/"
done
