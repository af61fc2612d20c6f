#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our QEMU's vfio display seen by real clients from Debian's packages:
# gvnccapture (gtk-vnc) on VNC and spicy-screenshot (spice-gtk) on SPICE
# without GL, for dma-bufs read back (gvt) and a region (mdpy), pixel for
# pixel; and the cursor plane as a VNC client receives it (image and
# hotspot, through a minimal RFB client of ours: the real clients draw
# the cursor locally and do not capture it).  TAP output.
#
# usage: test-clients.py SIMLIB QEMU

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import Tap, control, read_png, read_ppm  # noqa: E402
from display import CONFIG, GVT, MDPY, Qemu, wrong  # noqa: E402
import rfb  # noqa: E402

SIMLIB, QEMU = sys.argv[1:3]
tap = Tap()
ok = tap.ok

def gvnccapture(port, path):
    r = subprocess.run(["gvnccapture", "127.0.0.1:%d" % (port - 5900),
                        path], capture_output=True, text=True, timeout=60)
    if r.returncode:
        return None, r.stdout + r.stderr
    return read_png(path), ""


def spicy_screenshot(port, path):
    r = subprocess.run(["spicy-screenshot", "-h", "127.0.0.1", "-p",
                        str(port), "-o", path], capture_output=True,
                       text=True, timeout=60)
    if r.returncode or not os.path.exists(path):
        return None, r.stdout + r.stderr
    return read_ppm(path), ""


def test_vnc(tmp, uuid, path):
    port = rfb.free_port()
    q = Qemu(QEMU, SIMLIB, tmp, uuid,
             extra=["-vnc", "127.0.0.1:%d" % (port - 5900)])
    if uuid == GVT:
        control(tmp, "present %s format=XRGB8888 width=800 height=600 "
                "pattern=xy" % GVT)
        size = (800, 600)
    else:
        control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % uuid)
        size = (640, 480)
    img, err = gvnccapture(port, os.path.join(tmp, "vnc1.png"))
    ok(img and img[:2] == size and wrong(img) == 0,
       "vnc: gvnccapture sees the %s pixel for pixel" % path, err)
    control(tmp, "rect %s x=100 y=100 w=30 h=10 pattern=0x00ff00" % uuid)
    img, err = gvnccapture(port, os.path.join(tmp, "vnc2.png"))
    off = (105 * size[0] + 110) * 3
    ok(img and wrong(img) == 300 and img[2][off:off + 3] == b"\0\xff\0",
       "vnc: gvnccapture sees a change of the %s" % path, err)
    st = q.stats()
    err = q.stop()
    ok(st["updates"] >= 2 and st["damage-pixels"] < size[0] * size[1] * 2,
       "vnc: %s: the full frame once, then only damage (%d pixels in %d "
       "rectangles over %d refreshes)" % (path, st["damage-pixels"],
                                         st["updates"], st["refreshes"]),
       "%s %s" % (st, err))


def test_vnc_cursor(tmp):
    port = rfb.free_port()
    q = Qemu(QEMU, SIMLIB, tmp, GVT,
             extra=["-vnc", "127.0.0.1:%d" % (port - 5900)])
    control(tmp, "present %s format=XRGB8888 width=640 height=480 "
            "pattern=xy" % GVT)
    control(tmp, "cursor %s size=64 pattern=0x80ff0000 x=100 y=50 hot_x=5 "
            "hot_y=7" % GVT)
    c = rfb.Rfb(port)
    cur = c.cursor()
    good = cur and cur[:4] == (64, 64, 5, 7) and \
        cur[4] == b"\0\0\xff\x80" * 64 * 64
    ok(good, "vnc cursor: a client gets the cursor plane: 64x64, hotspot "
       "5,7, ARGB 0x80ff0000 in every pixel", cur[:4] if cur else "none")
    control(tmp, "cursor %s hot_x=20 hot_y=30" % GVT)
    cur = c.cursor()
    ok(cur and cur[:4] == (64, 64, 20, 30),
       "vnc cursor: a new hotspot is sent again",
       cur[:4] if cur else "none")
    c.close()
    err = q.stop()
    ok("display:" not in err, "vnc cursor: no display message", err)


def test_spice(tmp, uuid, path):
    port = rfb.free_port()
    q = Qemu(QEMU, SIMLIB, tmp, uuid,
             extra=["-spice", "port=%d,addr=127.0.0.1,disable-ticketing=on"
                    % port])
    if uuid == GVT:
        control(tmp, "present %s format=XRGB8888 width=800 height=600 "
                "pattern=xy" % GVT)
        size = (800, 600)
    else:
        control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % uuid)
        size = (640, 480)
    q.qmp.cmd("cont")
    img, err = spicy_screenshot(port, os.path.join(tmp, "spice1.ppm"))
    ok(img and img[:2] == size and wrong(img) == 0,
       "spice: spicy-screenshot sees the %s pixel for pixel" % path, err)
    control(tmp, "rect %s x=100 y=100 w=30 h=10 pattern=0x00ff00" % uuid)
    time.sleep(0.2)
    img, err = spicy_screenshot(port, os.path.join(tmp, "spice2.ppm"))
    off = (105 * size[0] + 110) * 3
    ok(img and wrong(img) == 300 and img[2][off:off + 3] == b"\0\xff\0",
       "spice: spicy-screenshot sees a change of the %s" % path, err)
    q.stop()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG)
        test_vnc(tmp, GVT, "dma-buf read back (gvt)")
        test_vnc(tmp, MDPY, "region (mdpy)")
        test_vnc_cursor(tmp)
        test_spice(tmp, GVT, "dma-buf read back (gvt)")
        test_spice(tmp, MDPY, "region (mdpy)")
    return tap.done()


sys.exit(main())
