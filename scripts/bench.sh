#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The benchmark: our QEMU and Debian's stock QEMU 10.0 on the same
# simulated vGPU (tests/bench/bench.py); prints Markdown tables.  Not a
# test: figures, and which targets hold.
#
# usage: bench.sh [--seconds S] [--repeat N] [--quick]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}

"$top/scripts/build-logged.sh" "$out/bench-build.log"
exec /usr/bin/python3 "$top/tests/bench/bench.py" \
    "$out/qemu/qemu-system-x86_64" /usr/bin/qemu-system-x86_64 \
    "$out/vfio-sim/libvfio-sim.so" "$out/display/spice-probe" "$@"
