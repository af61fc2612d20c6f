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
from display import CONFIG, GVT, MDPY, Qemu, delta, wrong  # noqa: E402
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


# client: (its QEMU option for a port, its capture, its file's suffix)
CLIENTS = {
    "vnc": (lambda port: ["-vnc", "127.0.0.1:%d" % (port - 5900)],
            gvnccapture, "png"),
    "spice": (lambda port: ["-spice", "port=%d,addr=127.0.0.1,"
                            "disable-ticketing=on" % port],
              spicy_screenshot, "ppm"),
}


def test_client(tmp, client, uuid, path):
    option, capture, suffix = CLIENTS[client]
    port = rfb.free_port()
    q = Qemu(QEMU, SIMLIB, tmp, uuid, extra=option(port))
    name = capture.__name__.replace("_", "-")
    if uuid == GVT:
        control(tmp, "present %s format=XRGB8888 width=800 height=600 "
                "pattern=xy" % GVT)
        size = (800, 600)
    else:
        control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % uuid)
        size = (640, 480)
    q.qmp.cmd("cont")
    img, err = capture(port, os.path.join(tmp, "%s1.%s" % (client, suffix)))
    ok(img and img[:2] == size and wrong(img) == 0,
       "%s: %s sees the %s pixel for pixel" % (client, name, path), err)
    s1 = q.stats()
    control(tmp, "rect %s x=100 y=100 w=30 h=10 pattern=0x00ff00" % uuid)
    time.sleep(0.2)
    img, err = capture(port, os.path.join(tmp, "%s2.%s" % (client, suffix)))
    off = (105 * size[0] + 110) * 3
    ok(img and wrong(img) == 300 and img[2][off:off + 3] == b"\0\xff\0",
       "%s: %s sees a change of the %s" % (client, name, path), err)
    d = delta(s1, q.stats())
    err = q.stop()
    # 30x10 at 100,100: the tiles of columns 64..191, rows 96..111
    ok(d["updates"] == 1 and d["damage-pixels"] == 128 * 16,
       "%s: %s: the change is the only update over %d refreshes"
       % (client, path, d["refreshes"]), "%s %s" % (d, err))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG)
        for client in CLIENTS:
            test_client(tmp, client, GVT, "dma-buf read back (gvt)")
            test_client(tmp, client, MDPY, "region (mdpy)")
        test_vnc_cursor(tmp)
    return tap.done()


sys.exit(main())
