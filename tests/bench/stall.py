#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The main loop while the vendor driver is slow: for each model (gvt's
# dma-buf read back, nvidia's region) and each vendor wait, QEMU runs with
# a VNC client asking for frames while the simulated vGPU redraws 10 times
# a second, and the busybox guest (tests/guest, guest.run=ticks) prints a
# tick on its serial console 10 times a second; QMP query-status every
# 20 ms measures the main loop's round trip.  Prints p50/p99/max, the
# frames the client received and the guest's ticks a second, for each
# QEMU binary given (e.g. before and after).  A benchmark: it asserts
# nothing.
#
# usage: stall.py SIMLIB [--seconds N] [--waits 0,100,1000,8000]
#                 [--guest DIR] NAME=QEMU [NAME=QEMU...]

import argparse
import os
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, os.path.join(HERE, "..", "display"))
from simtap import control, until  # noqa: E402
from display import Qemu  # noqa: E402
import rfb  # noqa: E402

GVT = "cccccccc-0000-4000-8000-0000000000c1"
NVIDIA = "dddddddd-0000-4000-8000-0000000000d1"
CONFIG = "%s gvt group=71\n%s nvidia group=75\n" % (GVT, NVIDIA)


def viewer(port, stop, counts):
    try:
        c = rfb.Rfb(port, timeout=30)
        while not stop.is_set():
            c.request(1)
            c.read_update()
            counts[0] += 1
        c.close()
    except OSError:
        pass


def animate(tmp, uuid, stop):
    """The guest's side: a square moving 10 times a second."""
    i = 0
    while not stop.is_set():
        control(tmp, "rect %s x=%d y=100 w=64 h=64 pattern=0xff%06x"
                % (uuid, (i * 16) % 500, (i * 0x101010) & 0xffffff))
        i += 1
        time.sleep(0.1)


def setup(tmp, uuid, wait):
    if uuid == NVIDIA:
        control(tmp, "mode %s width=640 height=480 depth=32 pattern=xy"
                % uuid)
        if wait:
            control(tmp, "manager %s answer=%d" % (uuid, wait))
    else:
        control(tmp, "present %s format=XRGB8888 width=640 height=480 "
                "pattern=xy" % uuid)
        if wait:
            control(tmp, "stall %s query:%d" % (uuid, wait))


def ticks(serial):
    try:
        return open(serial, errors="replace").read().count("guest: tick")
    except OSError:
        return 0


def run(qemu, simlib, uuid, wait, seconds, guest):
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG)
        port = rfb.free_port()
        env = {"QEMU_MODULE_DIR": os.path.dirname(qemu)}
        serial = os.path.join(tmp, "serial.log")
        q = Qemu(qemu, simlib, tmp, uuid, extra=[
            "-vnc", "127.0.0.1:%d" % (port - 5900), "-L", "/usr/share/qemu",
            "-m", "256", "-serial", "file:" + serial,
            "-kernel", os.path.join(guest, "vmlinuz"),
            "-initrd", os.path.join(guest, "initrd.gz"),
            "-append", "console=ttyS0 panic=-1 guest.run=ticks"], env=env)
        setup(tmp, uuid, 0)
        q.qmp.cmd("cont")
        until(lambda: ticks(serial) > 5, 120, 0.2)
        stop, counts = threading.Event(), [0]
        threads = [threading.Thread(target=viewer, args=(port, stop, counts),
                                    daemon=True),
                   threading.Thread(target=animate, args=(tmp, uuid, stop),
                                    daemon=True)]
        for t in threads:
            t.start()
        until(lambda: counts[0] > 2, 10, 0.1)
        setup(tmp, uuid, wait)
        start_frames, start_ticks, rtt = counts[0], ticks(serial), []
        end = time.time() + seconds
        while time.time() < end:
            t = time.time()
            q.qmp.cmd("query-status")
            rtt.append(time.time() - t)
            time.sleep(0.02)
        frames = counts[0] - start_frames
        guest_ticks = ticks(serial) - start_ticks
        stop.set()
        q.stop()
        rtt.sort()
        return (rtt[len(rtt) // 2] * 1e3, rtt[int(len(rtt) * 0.99)] * 1e3,
                rtt[-1] * 1e3, frames / seconds, guest_ticks / seconds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("simlib")
    ap.add_argument("qemus", nargs="+")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--waits", default="0,100,1000,8000")
    ap.add_argument("--guest", default=os.path.join(HERE, "..", "..",
                                                     "build", "guest"),
                    help="the busybox guest's directory (make build)")
    a = ap.parse_args()
    waits = [int(w) for w in a.waits.split(",")]
    print("| binary | model | vendor wait | round trip p50 | p99 | max "
          "| frames/s at the client | guest ticks/s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for named in a.qemus:
        name, qemu = named.split("=", 1)
        for model, uuid in (("gvt", GVT), ("nvidia", NVIDIA)):
            for wait in waits:
                p50, p99, mx, fps, tps = run(qemu, a.simlib, uuid, wait,
                                             a.seconds, a.guest)
                print("| %s | %s | %d ms | %.1f ms | %.1f ms | %.1f ms | "
                      "%.1f | %.1f |" % (name, model, wait, p50, p99, mx,
                                         fps, tps), flush=True)


main()
