#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The test command: builds everything (dependencies included), runs every
# suite in TAP and ends with the line "N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}
logs=$out/test-logs
passed=0
failed=0

# run_suite NAME COMMAND...: echo its TAP, count ok / not ok lines
run_suite() {
    local name=$1 line
    shift
    echo "== suite: $name"
    while IFS= read -r line; do
        echo "$line"
        case "$line" in
        "not ok"*) failed=$((failed + 1)) ;;
        "ok "*) passed=$((passed + 1)) ;;
        "# exit status "*)
            # a suite that dies outside a test case counts as one failure
            if [ "${line#\# exit status }" != 0 ]; then
                echo "not ok - suite $name exited with ${line#\# exit status }"
                failed=$((failed + 1))
            fi ;;
        esac
    done < <("$@" 2> "$logs/$name.stderr"; echo "# exit status $?")
}

mkdir -p "$logs"
echo "== build"
# progress lines while it builds (every stage, ninja's [n/N] every 15 s)
# (pipefail: the build's own failure fails the pipe)
if ! "$top/scripts/build.sh" 2>&1 |
    /usr/bin/python3 "$top/scripts/progress.py" "$logs/build.log"; then
    tail -40 "$logs/build.log"
    echo "build FAILED (log: $logs/build.log)"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "QEMU source: qemu $(cat "$out/debian-version") (Debian, trixie)"

run_suite build "$top/scripts/test-build.sh"
# the display core calls only downwards (its source, no build needed)
run_suite layers /usr/bin/python3 "$top/tests/display/test-layers.py" "$top"
run_suite vfio-sim env LD_PRELOAD="$out/vfio-sim/libvfio-sim.so" \
    "$out/vfio-sim/test-abi"
run_suite vfio-sim-gvt timeout 120 env \
    LD_PRELOAD="$out/vfio-sim/libvfio-sim.so" "$out/vfio-sim/test-gvt"
run_suite vfio-sim-control timeout 120 env \
    LD_PRELOAD="$out/vfio-sim/libvfio-sim.so" "$out/vfio-sim/test-control"
run_suite vfio-sim-nvidia timeout 120 env \
    LD_PRELOAD="$out/vfio-sim/libvfio-sim.so" "$out/vfio-sim/test-nvidia"
run_suite vfio-sim-egl env LD_PRELOAD="$out/vfio-sim/libvfio-sim.so" \
    "$out/vfio-sim/test-egl"
run_suite vfio-sim-egl-nogpu env LD_PRELOAD="$out/vfio-sim/libvfio-sim.so" \
    VFIO_SIM_GPU=none "$out/vfio-sim/test-egl"
# the simulator's own tests on its ASan and UBSan build, leaks detected; a
# preloaded ASan library needs the runtimes loaded before it
simasan_suites() {
    local lib t
    echo "== build: the simulator with ASan and UBSan"
    if ! make -s -C "$top/tests/vfio-sim" O="$out/vfio-sim-asan" SANITIZE=1 \
        > "$logs/build-sim-asan.log" 2>&1; then
        tail -20 "$logs/build-sim-asan.log"
        echo "not ok - the simulator's sanitizer build failed"
        failed=$((failed + 1))
        return
    fi
    lib="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
    lib="$lib $out/vfio-sim-asan/libvfio-sim.so"
    for t in abi gvt control nvidia egl; do
        run_suite "vfio-sim-asan-$t" timeout 300 env \
            ASAN_OPTIONS=detect_leaks=1 LD_PRELOAD="$lib" \
            "$out/vfio-sim-asan/test-$t"
    done
}
simasan_suites
run_suite fidelity /usr/bin/python3 "$top/tests/vfio-sim/test-fidelity.py" \
    "$out/vfio-sim/libvfio-sim.so" /usr/bin/qemu-system-x86_64
run_suite guest timeout 600 /usr/bin/python3 "$top/tests/guest/test-guest.py" \
    "$out/vfio-sim/libvfio-sim.so" /usr/bin/qemu-system-x86_64 "$out/guest"
# display_suites PREFIX TIMEOUT QEMU [VAR=VALUE...]: the display suites on
# binary QEMU, named PREFIX"display"..., with VAR=VALUE in their environment
display_suites() {
    local prefix=$1 limit=$2 qemu=$3 t name
    shift 3
    for t in screendump faults clients gtk wayland spicegtk dbus device still \
        formats stall; do
        name=${prefix}display-$t
        [ "$t" = screendump ] && name=${prefix}display
        run_suite "$name" timeout "$limit" env "$@" /usr/bin/python3 \
            "$top/tests/display/test-$t.py" "$out/vfio-sim/libvfio-sim.so" \
            "$qemu" "$out/display/spice-probe"
    done
}
display_suites "" 300 "$out/qemu/qemu-system-x86_64"
# the demo end to end with real clients, and libvirt's command line for it
run_suite demo timeout 420 /usr/bin/python3 "$top/tests/guest/test-demo.py" \
    "$out"
# the benchmark's real-guest part, its short form: the animation's frames
# and pointer moves measured end to end (no figure is asserted)
run_suite bench-feel timeout 300 /usr/bin/python3 \
    "$top/tests/bench/feel.py" "$out" /usr/bin/qemu-system-x86_64 --quick --tap
# the demo's desktop guest driven through VNC, seen on VNC, SPICE and GTK
run_suite desktop timeout 600 /usr/bin/python3 \
    "$top/tests/guest/test-desktop.py" "$out"
# the kernel's own mbochs and mdpy in a nested guest, against the simulator
run_suite kernel timeout 1200 /usr/bin/python3 \
    "$top/tests/kernel/test-kernel.py" "$out/qemu/qemu-system-x86_64" \
    "$out/vfio-sim/libvfio-sim.so" "$out/kernel-guest"
run_suite libvirt timeout 420 /usr/bin/python3 \
    "$top/tests/libvirt/test-libvirt.py" "$out/vfio-sim/libvfio-sim.so" \
    "$out/qemu/qemu-system-x86_64" "$out/guest"
# libvirtd starts a desktop domain on the installed binary (make install)
run_suite libvirt-start timeout 600 /usr/bin/python3 \
    "$top/tests/libvirt/test-libvirt-start.py" "$top" \
    "$out/vfio-sim/libvfio-sim.so" "$out/guest"

# The display suites again on a build with AddressSanitizer and UBSan; their
# reports go to files, and there must be none (leaks are QEMU's own business
# at exit; ASan's warning about QEMU's coroutines, makecontext, is not a
# report; a UBSan report is a "runtime error:" line).
asan_reports() {
    local bad
    bad=$(grep -l -e "ERROR: AddressSanitizer" -e "runtime error:" \
        "$1"/* 2> /dev/null || true)
    if [ -z "$bad" ]; then
        echo "ok 1 - AddressSanitizer and UBSan: no report in $(find "$1" \
            -type f | wc -l) log files"
    else
        echo "not ok 1 - AddressSanitizer and UBSan: reports in $(echo "$bad" |
            wc -l) log files"
        # shellcheck disable=SC2086
        head -c 8000 $bad | sed 's/^/# /'
    fi
    echo "1..1"
}
echo "== build with AddressSanitizer"
if "$top/scripts/build-asan.sh" 2>&1 |
    /usr/bin/python3 "$top/scripts/progress.py" "$logs/build-asan.log" 15 \
        build-asan; then
    asan=$logs/asan
    rm -rf "$asan"
    mkdir -p "$asan"
    display_suites asan- 600 "$out/qemu-asan/qemu-system-x86_64" \
        ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:log_path=$asan/asan" \
        UBSAN_OPTIONS="print_stacktrace=1:log_path=$asan/ubsan:suppressions=$top/scripts/ubsan.supp"
    # the fuzzer, a fixed budget a console (its case files first); its own
    # sanitizer logs are checked per sequence, and kept here as well
    run_suite asan-fuzz timeout 900 /usr/bin/python3 \
        "$top/tests/display/fuzz.py" --tap --asan --seconds 150 --seed 1 \
        --shrink-seconds 60 --out "$logs/fuzz" \
        --qemu "$out/qemu-asan/qemu-system-x86_64" \
        --simlib "$out/vfio-sim/libvfio-sim.so" \
        --probe "$out/display/spice-probe" --sanitizer-logs "$asan"
    run_suite asan-reports asan_reports "$asan"
else
    tail -20 "$logs/build-asan.log"
    echo "not ok - the AddressSanitizer build failed (log: $logs/build-asan.log)"
    failed=$((failed + 1))
fi
# Debian's stock qemu-system-x86_64 beside ours: what we lack is named
run_suite product /usr/bin/python3 "$top/tests/product/test-stock.py" \
    "$out/qemu/qemu-system-x86_64" /usr/bin/qemu-system-x86_64 \
    "$top/README.md"
run_suite product-install timeout 1200 /usr/bin/python3 \
    "$top/tests/product/test-install.py" "$top" \
    "$out/vfio-sim/libvfio-sim.so"
run_suite product-deb timeout 1800 /usr/bin/python3 \
    "$top/tests/product/test-deb.py" "$top" "$out/vfio-sim/libvfio-sim.so"
run_suite qtest env QTEST_QEMU_BINARY="$out/qemu/qemu-system-x86_64" \
    "$out/qemu/tests/qtest/vfio-display-test" --tap -k

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
