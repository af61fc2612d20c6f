# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by overlay.sh and test-build.sh: which files of this repository
# are laid over QEMU's tree.  scripts/ is our build machinery, not QEMU's
# scripts/; tests/vfio-sim (a standalone program), tests/guest (the test
# guest), tests/display, tests/kernel, tests/libvirt, tests/bench and
# tests/product (run against the built binary) are not part of QEMU's tree.
OVERLAY_DIRS="configs docs hw include tests ui"
OVERLAY_EXCLUDE="tests/vfio-sim tests/guest tests/display tests/kernel tests/libvirt tests/bench tests/product"

# overlay_files TOP: the overlay's files, relative to TOP
overlay_files() {
    local d
    (cd "$1" && for d in $OVERLAY_DIRS; do
        [ -d "$d" ] && find "$d" -type f
    done) | grep -v -E "^($(echo $OVERLAY_EXCLUDE | tr ' ' '|'))/" || true
}
