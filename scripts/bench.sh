#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The benchmark: our QEMU and Debian's stock QEMU 10.0 on the same
# simulated vGPU; prints Markdown tables.  Not a test: figures, and which
# targets hold.  First the display's own cost on synthetic frames
# (tests/bench/bench.py, its options here), then what a user feels with
# a real guest animating (tests/bench/feel.py, its options in $FEEL;
# FEEL=skip leaves it out).
#
# usage: [FEEL="--quick ..."] bench.sh [--seconds S] [--repeat N] [--quick]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}

"$top/scripts/build-logged.sh" "$out/bench-build.log"
/usr/bin/python3 "$top/tests/bench/bench.py" \
    "$out/qemu/qemu-system-x86_64" /usr/bin/qemu-system-x86_64 \
    "$out/vfio-sim/libvfio-sim.so" "$out/display/spice-probe" "$@"
if [ "${FEEL:-}" != skip ]; then
    # shellcheck disable=SC2086
    /usr/bin/python3 "$top/tests/bench/feel.py" "$out" \
        /usr/bin/qemu-system-x86_64 ${FEEL:-}
fi
