#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make install: our qemu-system-x86_64, its tools, modules, keymaps and
# trace-events under PREFIX (default /usr/local), staged through DESTDIR.
# The build is relocatable, so any PREFIX works; firmware stays Debian's
# (/usr/share/qemu, /usr/share/seabios, /usr/lib/ipxe/qemu).
#
# usage: install.sh [PREFIX [DESTDIR]]   (after scripts/build.sh)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}
prefix=${1:-/usr/local}
destdir=${2:-}
bld=$out/qemu
configured=/usr/local                   # scripts/configure.sh's --prefix

# what meson installs, built first (not every default target: tests)
mapfile -t targets < <(cd "$bld" && meson introspect --installed |
    /usr/bin/python3 -c 'import json, subprocess, sys, os
known = set(line.split(":")[0] for line in subprocess.run(
    ["ninja", "-t", "targets", "all"], capture_output=True,
    text=True).stdout.splitlines())
for src in json.load(sys.stdin):
    rel = os.path.relpath(src, ".")
    if rel in known:
        print(rel)')
echo "install: building ${#targets[@]} installed files"
ninja -C "$bld" "${targets[@]}" > "$out/install-build.log" 2>&1 || {
    tail -20 "$out/install-build.log"
    exit 1
}
stage=$(mktemp -d "$out/install-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
meson install -C "$bld" --no-rebuild --quiet --destdir "$stage" \
    > "$out/install.log"
# as Debian's package: no plugin header, no qtest accelerator, no tools
# that are not installed (elf2dmp, qemu-edid), no desktop files
root=$stage$configured
rm -rf "$root/include" "$root/share/applications" "$root/share/icons" \
    "$root/bin/elf2dmp" "$root/bin/qemu-edid"
rm -f "$root"/lib/*/qemu/accel-qtest-*.so
mkdir -p "$destdir$prefix"
cp -a "$root/." "$destdir$prefix/"
echo "install: $destdir$prefix ($(find "$root" -type f | wc -l) files)"
