#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make deb: a Debian package of make install, qemu-system-x86-vfio-display,
# under its own prefix /opt/vfio-display: it sits beside Debian's
# qemu-system-x86 (no file of Debian's, no Provides, no Conflicts) and
# uses Debian's firmware and data (qemu-system-data, seabios, ipxe-qemu).
#
# usage: deb.sh [OUTDIR]   (the .deb goes to OUTDIR, default build/)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}
dest=${1:-$out}
name=qemu-system-x86-vfio-display
prefix=/opt/vfio-display
debver=$(cat "$out/debian-version")
version="$debver+vfiodisplay1"
work=$(mktemp -d "$out/deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
pkg=$work/$name

echo "deb: installing into the package tree"
"$top/scripts/install.sh" "$prefix" "$pkg" > "$work/install.log"
mkdir -p "$pkg/usr/share/doc/$name" "$pkg/DEBIAN"
cat > "$pkg/usr/share/doc/$name/copyright" <<EOT
QEMU $debver (Debian's source package qemu, trixie) with the vfio-display
overlay.  QEMU is GPL-2.0 (see /usr/share/common-licenses/GPL-2); the
overlay's files are GPL-2.0-or-later.
EOT

echo "deb: shared library dependencies (dpkg-shlibdeps)"
mkdir -p "$work/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: amd64\n' "$name" "$name" \
    > "$work/debian/control"
mapfile -t elves < <(find "$pkg$prefix" -type f \( -perm -u+x -o \
    -name '*.so' \) -exec sh -c 'head -c4 "$1" | grep -q ELF' _ {} \; \
    -print)
(cd "$work" && dpkg-shlibdeps -O --warnings=0 "${elves[@]}") \
    > "$work/shlibs" 2> "$work/shlibs.log"
depends=$(sed -n 's/^shlibs:Depends=//p' "$work/shlibs")

cat > "$pkg/DEBIAN/control" <<EOT
Package: $name
Version: $version
Architecture: amd64
Maintainer: vfio-display project <maintainers@invalid>
Section: otherosfs
Priority: optional
Installed-Size: $(du -sk "$pkg$prefix" | cut -f1)
Depends: $depends, qemu-system-data (>= 1:10.0~), seabios, ipxe-qemu
Recommends: ovmf
Suggests: qemu-system-common
Description: QEMU x86_64 with the VFIO mediated-device display
 Debian's qemu-system-x86_64 ($debver), its feature
 and device set, with the vfio-display overlay: vGPU (mdev) displays on
 every console.  Installed under $prefix beside Debian's
 qemu-system-x86, whose firmware and data it uses.
EOT
mkdir -p "$dest"
dpkg-deb --root-owner-group --build "$pkg" \
    "$dest/${name}_${version#*:}_amd64.deb" > /dev/null
echo "deb: $dest/${name}_${version#*:}_amd64.deb"
