#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job.  For now: build our QEMU and start it the way a user would
# with an mdev vGPU, -device vfio-pci,sysfsdev=...,display=on.  This machine
# has no VFIO device, so QEMU must refuse with one clear message.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}
mdev=${VFIO_DISPLAY_MDEV:-/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001}

mkdir -p "$out"
echo "demo: building QEMU (first run: a few minutes)"
"$top/scripts/build.sh" > "$out/demo-build.log" 2>&1 || {
    tail -30 "$out/demo-build.log"
    echo "demo: build FAILED (log: $out/demo-build.log)"
    exit 1
}
qemu=$out/qemu/qemu-system-x86_64
"$qemu" --version | head -1

cmd=("$qemu" -M q35 -nodefaults -display none
     -device "vfio-pci,sysfsdev=$mdev,display=on")
echo "demo: ${cmd[*]}"
err=$("${cmd[@]}" 2>&1 < /dev/null)
status=$?
echo "$err"
if [ $status -eq 1 ] && grep -q "no such host device" <<< "$err"; then
    echo "demo: as expected, there is no VFIO mdev at $mdev on this machine;"
    echo "demo: the simulated vGPU (tests/vfio-sim) will stand in for one."
    exit 0
fi
echo "demo: unexpected result (exit status $status)"
exit 1
