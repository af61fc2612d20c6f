#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job: build our QEMU, the simulator and the test guest, then run
# a Linux guest on the simulated vGPU and show it (scripts/demo.py).
#
# usage: demo.sh [--no-build] [--vnc HOST:DISPLAY | --gtk | --spice [HOST:PORT]]
#                [--mdpy] [--run demo|pattern] [--seconds N]
# `make demo DEMO="--spice"` passes the same options.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}

build=1
mdpy=0
for a in "$@"; do
    case "$a" in
    --no-build) build=0 ;;
    --mdpy) mdpy=1 ;;
    -h|--help) exec /usr/bin/python3 "$top/scripts/demo.py" --help ;;
    esac
done
args=()
for a in "$@"; do
    [ "$a" = --no-build ] || args+=("$a")
done

if [ $build = 1 ]; then
    mkdir -p "$out"
    echo "demo: building QEMU, the simulator and the guest (first run: a" \
         "few minutes; log: $out/demo-build.log)"
    {
        "$top/scripts/build.sh" &&
        if [ $mdpy = 1 ]; then
            # the kernel's mdpy-fb, built against the guest's kernel
            /usr/bin/python3 "$top/tests/guest/mksamples.py" \
                "$out/samples" mdpy-fb &&
            /usr/bin/python3 "$top/tests/guest/mkguest.py" \
                "$out/guest-mdpy" --ko "$out/samples/mdpy-fb.ko"
        fi
    } 2>&1 | /usr/bin/python3 "$top/scripts/progress.py" \
        "$out/demo-build.log" 15 demo || {
        tail -30 "$out/demo-build.log"
        echo "demo: build FAILED (log: $out/demo-build.log)"
        exit 1
    }
    "$out/qemu/qemu-system-x86_64" --version | head -1
fi
exec /usr/bin/python3 "$top/scripts/demo.py" --build "$out" "${args[@]}"
