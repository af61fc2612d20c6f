#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Dependency step: apt sources of our own (bookworm-backports for meson >= 1.5
# and Mesa 25, trixie deb-src for Debian's QEMU 10.0 source) and every package
# the build, the tests and the demo need.  Idempotent; run as root.
set -euo pipefail

SOURCES=/etc/apt/sources.list.d/vfio-display.sources
STAMP=/var/lib/vfio-display/deps.stamp
HERE=$(cd "$(dirname "$0")" && pwd)
PKGS_FILE="$HERE/deps.list"

if [ "$(id -u)" != 0 ]; then
    echo "deps: must run as root (apt-get install)" >&2
    exit 1
fi

want_sources() {
    cat <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
}

# libvirtd refuses to start without the user its QEMU driver was built to
# run guests as (made by libvirt-daemon-system, which we do not install)
libvirt_user() {
    getent group kvm > /dev/null || groupadd --system kvm
    getent passwd libvirt-qemu > /dev/null ||
        useradd --system --user-group --groups kvm --no-create-home \
                --home-dir /var/lib/libvirt --shell /usr/sbin/nologin \
                libvirt-qemu
}

# Re-run apt only when the package list or the sources changed.
sum=$( (want_sources; cat "$PKGS_FILE") | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$sum" ]; then
    libvirt_user
    echo "deps: up to date"
    exit 0
fi

if ! cmp -s <(want_sources) "$SOURCES" 2>/dev/null; then
    want_sources > "$SOURCES"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q

# The list holds "pkg" for bookworm and "bpo:pkg" for bookworm-backports.
mapfile -t all < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$PKGS_FILE")
plain=() bpo=()
for p in "${all[@]}"; do
    case "$p" in
    bpo:*) bpo+=("${p#bpo:}") ;;
    *) plain+=("$p") ;;
    esac
done
apt-get install -y -q --no-install-recommends -t bookworm-backports "${bpo[@]}"
apt-get install -y -q --no-install-recommends "${plain[@]}"

libvirt_user
mkdir -p "$(dirname "$STAMP")"
echo "$sum" > "$STAMP"
echo "deps: installed"
