#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The display fuzzer (tests/display/fuzz.py) on our QEMU and the simulator:
# seeded random sequences on every console, a replay of a case file, or one
# sequence again by seed.  Builds nothing: run scripts/build.sh first.
#
# usage: fuzz.sh [--asan] [fuzz.py options: --seconds N --seed S
#                --console C,.. --model M,.. --sequence I --replay FILE..]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}
qemu=$out/qemu/qemu-system-x86_64
extra=()
if [ "${1:-}" = --asan ]; then
    shift
    qemu=$out/qemu-asan/qemu-system-x86_64
    extra=(--asan)
fi
for f in "$qemu" "$out/vfio-sim/libvfio-sim.so" "$out/display/spice-probe"; do
    if [ ! -e "$f" ]; then
        echo "fuzz.sh: $f is missing (scripts/build.sh; for --asan" \
            "scripts/build-asan.sh)" >&2
        exit 1
    fi
done
exec /usr/bin/python3 "$top/tests/display/fuzz.py" --qemu "$qemu" \
    --simlib "$out/vfio-sim/libvfio-sim.so" \
    --probe "$out/display/spice-probe" --out "$out/fuzz" "${extra[@]}" "$@"
