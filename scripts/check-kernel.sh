#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Only the real-kernel test (tests/kernel/README.md): build, then run it;
# ends with "N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}

"$top/scripts/build-logged.sh" "$out/check-kernel-build.log" || {
    echo "0 passed, 1 failed"
    exit 1
}
tap=$(/usr/bin/python3 "$top/tests/kernel/test-kernel.py" \
      "$out/qemu/qemu-system-x86_64" "$out/vfio-sim/libvfio-sim.so" \
      "$out/kernel-guest" 2>&1)
echo "$tap"
passed=$(grep -c "^ok " <<< "$tap")
failed=$(grep -c "^not ok " <<< "$tap")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
