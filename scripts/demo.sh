#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job: build our QEMU, the simulator and the guests, then run a
# Debian desktop guest on the simulated vGPU and show it (scripts/demo.py).
#
# usage: demo.sh [--no-build] [--vnc HOST:DISPLAY] [--gtk] [--spice [HOST:PORT]]
#                [--mdpy] [--guest desktop|busybox] [--run demo|pattern]
#                [--seconds N]
# `make demo DEMO="--spice"` passes the same options.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}

build=1
for a in "$@"; do
    case "$a" in
    --no-build) build=0 ;;
    -h|--help) exec /usr/bin/python3 "$top/scripts/demo.py" --help ;;
    esac
done
args=()
for a in "$@"; do
    [ "$a" = --no-build ] || args+=("$a")
done

if [ $build = 1 ]; then
    mkdir -p "$out"
    echo "demo: building QEMU, the simulator and the guests (first run:" \
         "about 25 minutes, of which the desktop guest 1 to 2; log:" \
         "$out/demo-build.log)"
    "$top/scripts/build.sh" 2>&1 | /usr/bin/python3 "$top/scripts/progress.py" \
        "$out/demo-build.log" 15 demo || {
        tail -30 "$out/demo-build.log"
        echo "demo: build FAILED (log: $out/demo-build.log)"
        exit 1
    }
    "$out/qemu/qemu-system-x86_64" --version | head -1
fi
exec /usr/bin/python3 "$top/scripts/demo.py" --build "$out" "${args[@]}"
