#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every format and tiling a real vendor driver reports, on every console:
# gvt's SKL+ primaries (RGB, BGR, 10-bit, packed YUV) linear, X, Y and Yf
# tiled; NVIDIA's console region at each depth on widths whose stride is
# no multiple of 4; C8, which the ABI carries no palette for; an mdpy
# stride pixman refuses.  On each console QEMU must stay up and its
# screendump must show what the simulator decodes the plane to (YUV:
# within the rounding of two BT.601 conversions); a real VNC and SPICE
# client sees the converted frame too.  TAP output.
#
# usage: test-formats.py SIMLIB QEMU SPICE-PROBE

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import (Tap, control, gvnccapture, read_ppm,  # noqa: E402
                    spicy_screenshot, start_xvfb)
from display import CONFIG, GVT, MDPY, Qemu  # noqa: E402
import rfb  # noqa: E402

SIMLIB, QEMU = sys.argv[1:3]
tap = Tap()
ok = tap.ok

NVIDIA = "dddddddd-0000-4000-8000-0000000000d1"
EXTRA = "%s nvidia group=81\n" % NVIDIA
W, H = 320, 96
RGB = ["XRGB8888", "ARGB8888", "XBGR8888", "ABGR8888", "RGB565",
       "XRGB2101010", "XBGR2101010"]
YUV = ["YUYV", "YVYU", "UYVY", "VYUY"]
MODIFIERS = ["linear", "x", "y", "yf"]
# the bits a format keeps of each 8-bit channel
MASKS = {"RGB565": (0xf8, 0xfc, 0xf8)}
# two BT.601 conversions (the simulator's and ours) round differently
YUV_TOLERANCE = 3


def same(a, b, mask=(0xff, 0xff, 0xff), tol=0):
    """How many pixels of images @a and @b (w, h, rgb) differ beyond @tol
    in the bits @mask keeps; all of them if the sizes differ."""
    if not a or not b or a[:2] != b[:2] or len(a[2]) != len(b[2]):
        return -1
    if a[2] == b[2]:
        return 0
    m = bytes(mask) * (a[0] * a[1])
    x = int.from_bytes(a[2], "big") & int.from_bytes(m, "big")
    y = int.from_bytes(b[2], "big") & int.from_bytes(m, "big")
    if x == y:
        return 0
    pa, pb = a[2], b[2]
    bad = 0
    for i in range(0, len(pa), 3):
        if any(abs((pa[i + c] & mask[c]) - (pb[i + c] & mask[c])) > tol
               for c in range(3)):
            bad += 1
    return bad


def snapshot(tmp, uuid, name):
    path = os.path.join(tmp, name + ".ppm")
    rsp = control(tmp, "snapshot %s path=%s" % (uuid, path))
    return read_ppm(path) if rsp.startswith("ok") else None


class Console:
    """QEMU with one console kind; its screendump."""
    started = []

    def __init__(self, tmp, kind, uuid, xdisplay):
        Console.started.append(self)
        self.kind = kind
        self.port = None
        extra, env, display = [], {}, "none"
        if kind == "vnc":
            self.port = rfb.free_port()
            extra = ["-vnc", "127.0.0.1:%d" % (self.port - 5900)]
        elif kind == "spice":
            self.port = rfb.free_port()
            extra = ["-spice", "port=%d,disable-ticketing=on" % self.port]
        elif kind == "spice-gl":
            extra = ["-spice", "unix=on,addr=%s,disable-ticketing=on,gl=on"
                     % os.path.join(tmp, "spice.sock")]
        elif kind in ("egl-headless",):
            display = kind
        elif kind.startswith("gtk"):
            display = "gtk,gl=" + ("on" if kind == "gtk-gl" else "off")
            env = {"DISPLAY": xdisplay}
        self.q = Qemu(QEMU, SIMLIB, tmp, uuid, display=display, extra=extra,
                      env=env)
        self.q.qmp.cmd("cont")

    def dump(self):
        return self.q.dump()

    def stop(self):
        alive = self.q.alive()
        return alive, self.q.stop()


def test_gvt(tmp, kind, xdisplay):
    c = Console(tmp, kind, GVT, xdisplay)
    for fmt in RGB + YUV:
        bad = []
        for mod in MODIFIERS:
            rsp = control(tmp, "present %s format=%s width=%d height=%d "
                          "modifier=%s pattern=xy" % (GVT, fmt, W, H, mod))
            want = snapshot(tmp, GVT, "want")
            img, err = c.dump()
            n = same(img, want, MASKS.get(fmt, (0xff,) * 3),
                     YUV_TOLERANCE if fmt in YUV else 0)
            if n != 0 or not rsp.startswith("ok"):
                bad.append((mod, n, rsp, err))
        ok(not bad and c.q.alive(), "%s: gvt %s linear, X, Y and Yf tiled: "
           "the screendump is the plane as the simulator decodes it"
           % (kind, fmt), bad)
    # C8: one message, the last frame kept (the C8 buffer is another
    # one: a GL console scans out the last buffer itself)
    control(tmp, "present %s format=XRGB8888 width=%d height=%d pattern=xy"
            % (GVT, W, H))
    before, _ = c.dump()
    control(tmp, "present %s format=C8 width=%d height=%d buffer=1 "
            "pattern=0x00000007" % (GVT, W, H))
    after = [c.dump()[0] for _ in range(3)]
    alive, err = c.stop()
    palette = [line for line in err.splitlines() if "no palette" in line]
    ok(alive and len(palette) == 1 and all(same(a, before) == 0
                                          for a in after),
       "%s: gvt C8: one message that the ABI carries no palette, the last "
       "frame kept" % kind, err)


def test_nvidia(tmp, kind, xdisplay):
    c = Console(tmp, kind, NVIDIA, xdisplay)
    for depth, fmt in ((16, "RGB565"), (24, "RGB888"), (32, "XRGB8888")):
        bad = []
        for width in (640, 641, 643):
            rsp = control(tmp, "mode %s width=%d height=%d depth=%d "
                          "pattern=xy" % (NVIDIA, width, 64, depth))
            want = snapshot(tmp, NVIDIA, "want")
            img, err = c.dump()
            n = same(img, want, MASKS.get(fmt, (0xff,) * 3))
            if n != 0 or not rsp.startswith("ok"):
                bad.append((width, n, rsp, err))
        ok(not bad and c.q.alive(), "%s: nvidia console at depth %d (%s), "
           "widths 640, 641, 643 (strides not multiples of 4): shown as the "
           "simulator decodes it" % (kind, depth, fmt), bad)
    alive, err = c.stop()
    ok(alive, "%s: nvidia: QEMU answered to the end" % kind, err)


def test_mdpy_stride(tmp, kind, xdisplay):
    """The issue's example: mdpy's 640x480 XRGB8888 at stride 2562."""
    c = Console(tmp, kind, MDPY, xdisplay)
    control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % MDPY)
    control(tmp, "hostile %s primary:stride=2562" % MDPY)
    img, err = c.dump()
    alive, err2 = c.stop()
    ok(alive and img and img[:2] == (640, 480),
       "%s: mdpy at stride 2562: shown, QEMU up" % kind, err + err2)


def test_clients(tmp):
    """Real clients see a converted frame: XBGR8888 Yf, YUYV X-tiled."""
    for kind, grab in (("vnc", gvnccapture), ("spice", spicy_screenshot)):
        c = Console(tmp, kind, GVT, None)
        for fmt, mod in (("XBGR8888", "yf"), ("YUYV", "x")):
            control(tmp, "present %s format=%s width=%d height=%d "
                    "modifier=%s pattern=xy" % (GVT, fmt, W, H, mod))
            want = snapshot(tmp, GVT, "want")
            c.dump()
            img, err = grab(c.port, os.path.join(tmp, "client." + ("png" if kind == "vnc" else "ppm")))
            n = same(img, want, tol=YUV_TOLERANCE if fmt in YUV else 0)
            ok(n == 0, "%s client: gvt %s %s shown as the simulator "
               "decodes it" % (kind, fmt, mod), (n, err))
        c.stop()


def guarded(test, tmp, kind, xdisplay):
    """@test on console @kind; QEMU dying is a failure with its stderr."""
    try:
        test(tmp, kind, xdisplay)
    except (EOFError, OSError) as e:
        proc = Console.started[-1].q.proc
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        err = proc.stderr.read()
        ok(False, "%s: %s: QEMU went away (exit %s)" %
           (kind, test.__name__, proc.returncode),
           "%s\n%s" % (e, err))


def main():
    xvfb, xdisplay = start_xvfb()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "config"), "w") as f:
                f.write(CONFIG + EXTRA)
            for kind in os.environ.get("FORMATS_CONSOLES", " ".join(
                    ("none", "vnc", "spice", "spice-gl", "egl-headless",
                     "gtk", "gtk-gl"))).split():
                for test in (test_gvt, test_nvidia, test_mdpy_stride):
                    guarded(test, tmp, kind, xdisplay)
            test_clients(tmp)
    finally:
        xvfb.terminate()
        xvfb.wait()
    return tap.done()


sys.exit(main())
