#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our QEMU's vfio display seen by real clients from Debian's packages:
# gvnccapture (gtk-vnc) on VNC and spicy-screenshot (spice-gtk) on SPICE
# without GL, for dma-bufs read back (gvt) and a region (mdpy), pixel for
# pixel; and the cursor plane as a VNC client receives it (image and
# hotspot, through a minimal RFB client of ours: the real clients draw
# the cursor locally and do not capture it).  SPICE gl=on without a GPU
# and the cursor on SPICE, through spice-probe (spice-client-glib): the
# dma-buf fd the client receives, its pixels, the cursor's shape and
# position.  TAP output.
#
# usage: test-clients.py SIMLIB QEMU SPICE-PROBE

import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import (Tap, control, gvnccapture, read_ppm, until,  # noqa
                    spicy_screenshot, xy_rgb)
from display import (CONFIG, GVT, MDPY, Qemu, delta,  # noqa: E402
                     present_xy, wrong)
import rfb  # noqa: E402
from spiceprobe import SpiceProbe  # noqa: E402

SIMLIB, QEMU, PROBE = sys.argv[1:4]
tap = Tap()
ok = tap.ok

def test_vnc_cursor(tmp):
    port = rfb.free_port()
    q = Qemu(QEMU, SIMLIB, tmp, GVT,
             extra=["-vnc", "127.0.0.1:%d" % (port - 5900)])
    present_xy(tmp)
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
        present_xy(tmp, 800, 600)
        size = (800, 600)
    else:
        control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % uuid)
        size = (640, 480)
    q.qmp.cmd("cont")
    got = [None, ""]

    def first():
        # a client that connects before the first refresh sees no plane yet
        got[:] = capture(port, os.path.join(tmp, "%s1.%s" % (client, suffix)))
        return got[0] and got[0][:2] == size and wrong(got[0]) == 0

    until(first, 10)
    img, err = got
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


def test_vnc_egl_headless(tmp):
    """VNC beside egl-headless: the GL display takes the dma-buf and feeds
    VNC what it reads back, as upstream; our device reads nothing back."""
    port = rfb.free_port()
    q = Qemu(QEMU, SIMLIB, tmp, GVT, display="egl-headless",
             extra=["-vnc", "127.0.0.1:%d" % (port - 5900)])
    present_xy(tmp)
    q.qmp.cmd("cont")
    img, err = gvnccapture(port, os.path.join(tmp, "eh.png"))
    s = q.stats()
    err += q.stop()
    ok(img and img[:2] == (640, 480) and wrong(img) == 0 and
       s["imports"] == 1 and s["readbacks"] == 0 and "warning" not in err,
       "vnc + egl-headless: gvnccapture sees the dma-buf pixel for pixel "
       "through egl-headless, no read-back of ours, no message",
       "%s %s" % (s, err))


def cursor_xy(size):
    """The xy pattern as a size x size cursor's RGBA bytes, alpha 0xff."""
    return b"".join(xy_rgb(x, y) + b"\xff"
                    for y in range(size) for x in range(size))


def probe_cursor(tmp, probe, n):
    """The last cursor shape @probe received, as RGBA bytes."""
    path = os.path.join(tmp, "cursor%d.raw" % n)
    probe.send("cursor " + path)
    if not probe.wait("cursored"):
        return b""
    with open(path, "rb") as f:
        return f.read()


def check_cursor(tmp, probe, what):
    """The cursor plane on a SPICE client: shape, hotspot and position
    (SPICE moves the hotspot: the plane's x_pos + hot_x), a move, a new
    hotspot, and the plane turned off."""
    control(tmp, "cursor %s size=64 pattern=xy x=100 y=50 hot_x=5 hot_y=7"
            % GVT)
    got = probe.wait("cursor-set")
    move = probe.wait("cursor-move")
    ok(got == "cursor-set 64 64 5 7" and
       probe_cursor(tmp, probe, 1) == cursor_xy(64),
       "%s: the client gets the cursor plane, 64x64 hotspot 5,7, pixel "
       "for pixel" % what, got)
    ok(move == "cursor-move 105 57",
       "%s: the cursor is at the plane's position plus the hotspot" % what,
       move)
    control(tmp, "cursor %s x=300 y=200" % GVT)
    got = probe.wait("cursor-move")
    ok(got == "cursor-move 305 207", "%s: the cursor moves" % what, got)
    control(tmp, "cursor %s hot_x=20 hot_y=30" % GVT)
    got = probe.wait("cursor-set")
    ok(got == "cursor-set 64 64 20 30", "%s: a new hotspot is sent" % what,
       got)
    control(tmp, "cursor %s size=off" % GVT)
    ok(probe.wait("cursor-hide"), "%s: the plane off hides the cursor"
       % what, probe.seen[-3:])


def test_spice_gl(tmp):
    """SPICE gl=on on a machine without a GPU (llvmpipe, surfaceless): the
    gvt dma-buf itself reaches the client; the cursor, which cannot be
    blended without texture export, goes through the cursor channel."""
    sock = os.path.join(tmp, "spice.sock")
    q = Qemu(QEMU, SIMLIB, tmp, GVT,
             extra=["-spice", "unix=on,addr=%s,disable-ticketing=on,gl=on"
                    % sock])
    present_xy(tmp, 800, 600)
    q.qmp.cmd("cont")
    probe = SpiceProbe(PROBE, "spice+unix://" + sock)
    got = probe.wait("scanout")
    ok(got == "scanout 800 600 3200 0x34325258 0",
       "spice gl=on: the client receives the dma-buf: 800x600, stride 3200, "
       "XR24", got)
    path = os.path.join(tmp, "gl1.ppm")
    probe.send("dump " + path)
    got = probe.wait("dumped")
    img = read_ppm(path) if got else None
    ok(img and img[:2] == (800, 600) and wrong(img) == 0,
       "spice gl=on: the client maps the fd it got and sees the frame pixel "
       "for pixel", got or probe.seen[-3:])
    # The simulator's dma-bufs are windows of one memfd whose offset its
    # shim applies inside QEMU: a client process sees right only a buffer
    # at offset 0, gvt's buffer 0.  So flip to buffer 1 and back.
    probe.drain()
    control(tmp, "flip %s pattern=0x0000ff" % GVT)
    got1 = probe.wait("scanout")
    control(tmp, "flip %s pattern=0x00ff00" % GVT)
    got2 = probe.wait("scanout")
    path = os.path.join(tmp, "gl2.ppm")
    probe.send("dump " + path)
    img = read_ppm(path) if probe.wait("dumped") else None
    ok(got1 == got2 == "scanout 800 600 3200 0x34325258 0" and img and
       img[2] == b"\0\xff\0" * 800 * 600,
       "spice gl=on: each page flip sends the client the new buffer's fd",
       "%s %s %s" % (got1, got2, img and img[2][:6]))
    check_cursor(tmp, probe, "spice gl=on")
    probe.send("draws")
    got = probe.wait("draws")
    ok(got and int(got.split()[1]) > 0,
       "spice gl=on: gl-draw messages arrive and are acknowledged", got)
    probe.close()
    err = q.stop()
    # spice-server says so when the client's socket closes under it
    resets = err.count("warning: Spice: Connection reset by peer")
    ok(err.count("warning:") - resets == 1 and "2D frames" in err and
       "display:" not in err,
       "spice gl=on: one message, that 2D frames cannot reach the client",
       err)


def test_spice_cursor(tmp):
    """SPICE without GL: the cursor plane of a read-back dma-buf device."""
    port = rfb.free_port()
    q = Qemu(QEMU, SIMLIB, tmp, GVT,
             extra=["-spice", "port=%d,addr=127.0.0.1,disable-ticketing=on"
                    % port])
    present_xy(tmp)
    q.qmp.cmd("cont")
    probe = SpiceProbe(PROBE, "spice://127.0.0.1?port=%d" % port)
    probe.drain(1)
    check_cursor(tmp, probe, "spice")
    probe.close()
    err = q.stop()
    ok("warning" not in err, "spice: no message", err)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG)
        for client in CLIENTS:
            test_client(tmp, client, GVT, "dma-buf read back (gvt)")
            test_client(tmp, client, MDPY, "region (mdpy)")
        test_vnc_cursor(tmp)
        test_spice_cursor(tmp)
        test_vnc_egl_headless(tmp)
        test_spice_gl(tmp)
    return tap.done()


sys.exit(main())
