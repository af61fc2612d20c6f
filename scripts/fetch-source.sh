#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Source step: download the newest QEMU 10.0.x source package that trixie
# offers and unpack it with Debian's patches applied (dpkg-source -x) into a
# read-only pristine tree in the cache.  Prints the pristine tree's path.
set -euo pipefail

CACHE=${VFIO_DISPLAY_CACHE:-/var/cache/vfio-display}
SERIES=${QEMU_SERIES:-10.0}

log() { echo "fetch-source: $*" >&2; }

# Every qemu source version apt knows (deb-src trixie from scripts/deps.sh),
# restricted to the wanted upstream series, newest first.
versions=$(apt-cache showsrc qemu 2>/dev/null |
           sed -n 's/^Version: //p' |
           grep -E "^([0-9]+:)?${SERIES//./\\.}\.[0-9]+" || true)
if [ -z "$versions" ]; then
    log "no QEMU ${SERIES}.x source package is offered by apt" \
        "(is deb-src for trixie configured? run scripts/deps.sh)"
    exit 1
fi
best=
for v in $versions; do
    if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
        best=$v
    fi
done
upstream=${best#*:}
upstream=${upstream%%+*}
upstream=${upstream%%-*}
dir="$CACHE/qemu-${best//:/_}"
tree="$dir/qemu-$upstream"

if [ ! -f "$dir/.complete" ]; then
    log "downloading qemu $best"
    rm -rf "$dir"
    mkdir -p "$dir/dl"
    (cd "$dir/dl" && apt-get source -q --download-only "qemu=$best" >&2)
    dsc=$(ls "$dir"/dl/*.dsc)
    log "unpacking with Debian's patches (dpkg-source -x)"
    dpkg-source -q -x "$dsc" "$tree" >&2
    rm -rf "$dir/dl"
    echo "$best" > "$dir/version"
    chmod -R a-w "$tree"
    touch "$dir/.complete"
fi
echo "$tree"
