#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our QEMU's vfio display in a GTK window on Wayland: weston's headless
# backend with its GL renderer (llvmpipe) and with pixman, desktop-shell,
# GTK as a Wayland client (GDK_BACKEND=wayland, no X server).  GTK gl=on
# there is GtkGLArea (ui/gtk-gl-area.c), not gtk-egl.c; Mesa's EGL on
# Wayland imports dma-bufs, so a dma-buf vGPU's planes are imported, not
# read back.  Each frame is found pixel for pixel in weston's screenshot
# (weston-screenshooter, the debug protocol): gl=off and gl=on, a dma-buf
# device (gvt) and a region device (mdpy), and the gvt cursor plane
# blended by GtkGLArea where the guest put it (patch 0015).  Input on a
# Wayland seat (weston's X11 backend under Xvfb, XTEST): keys reach the
# guest's PS/2 keyboard, the pointer reaches QEMU's window over the
# picture, and GTK gl=off's host cursor is the cursor plane, drawn by
# weston at the pointer with its hotspot.  TAP output.
#
# usage: test-wayland.py SIMLIB QEMU

import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import Tap, control, start_xvfb, xy_rgb  # noqa: E402
from display import (CONFIG, GVT, MDPY, Qemu, Weston, delta,  # noqa: E402
                     frame, present_xy, ps2_codes, xdotool)

SIMLIB, QEMU = sys.argv[1:3]
tap = Tap()
ok = tap.ok

def messages(err):
    # vfio-pci's own notices about mdpy (no AER, no reset) are not ours
    return [line for line in err.splitlines()
            if ("warning" in line or "error" in line) and
            "error recovery" not in line]


def test_frame(tmp, wl, gl, uuid, path):
    q = Qemu(QEMU, SIMLIB, tmp, uuid, display="gtk,gl=%s" % gl, env=wl.env)
    if uuid == GVT:
        present_xy(tmp)
    else:
        control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % uuid)
    q.qmp.cmd("cont")
    what = "%s: gtk gl=%s: %s" % (wl.name, gl, path)
    where = wl.shown(frame(640, 480))
    ok(where, "%s: the window shows the frame pixel for pixel" % what, where)
    s1 = q.stats()
    control(tmp, "rect %s x=100 y=100 w=30 h=10 pattern=0x00ff00" % uuid)
    where2 = wl.shown(frame(640, 480, (100, 100, 30, 10, b"\0\xff\0")))
    ok(where2 and where2 == where, "%s: a change shows" % what, where2)
    s2 = q.stats()
    d = delta(s1, s2)
    if gl == "on" and uuid == GVT:
        # the dma-buf is GtkGLArea's texture: each refresh redraws it
        ok(d["gl-updates"] >= 1 and not d["updates"] and
           s2["imports"] >= 1 and not s2["readbacks"],
           "%s: imported into GtkGLArea, never read back" % what, s2)
    else:
        ok(d["updates"] >= 1 and
           d["damage-pixels"] == 128 * 16 * d["updates"],
           "%s: only the change is updated" % what, d)
    alive = q.alive()
    err = q.stop()
    ok(alive and not messages(err), "%s: no message" % what, err)


def test_cursor(tmp, wl):
    """GtkGLArea draws the gvt cursor plane over the frame: its image's top
    left where the guest put it, moved when it moves, the hotspot not
    moving it (a host pointer's business)."""
    q = Qemu(QEMU, SIMLIB, tmp, GVT, display="gtk,gl=on", env=wl.env)
    present_xy(tmp)
    control(tmp, "cursor %s size=64 pattern=xy x=100 y=50 hot_x=5 hot_y=7"
            % GVT)
    q.qmp.cmd("cont")
    what = "%s: gtk gl=on: gvt cursor plane" % wl.name

    def at(x, y):
        return frame(640, 480, (x, y, 64, 64, xy_rgb))

    where = wl.shown(at(100, 50))
    ok(where, "%s: drawn over the frame at 100,50, pixel for pixel" % what,
       where)
    control(tmp, "cursor %s x=300 y=200" % GVT)
    where2 = wl.shown(at(300, 200))
    ok(where2 and where2 == where, "%s: a move shows at 300,200" % what,
       where2)
    control(tmp, "cursor %s hot_x=20 hot_y=30" % GVT)
    time.sleep(1)
    where3 = wl.shown(at(300, 200), timeout=3)
    ok(where3 == where, "%s: a new hotspot leaves the image where it is"
       % what, where3)
    control(tmp, "cursor %s x=600 y=440" % GVT)
    where4 = wl.shown(at(600, 440))
    ok(where4 == where, "%s: at the frame's corner, clipped to it" % what,
       where4)
    control(tmp, "cursor %s size=off" % GVT)
    where5 = wl.shown(frame(640, 480))
    ok(where5 == where, "%s: gone when the guest disables it" % what, where5)
    alive = q.alive()
    err = q.stop()
    ok(alive and not messages(err), "%s: no message" % what, err)


def test_input(tmp, gl):
    """Keys typed on a Wayland seat reach the guest's PS/2 keyboard; the
    pointer reaches QEMU's window, over the guest's picture.  weston's X11
    backend under Xvfb: its seat is the X server's, driven with XTEST."""
    xvfb, display = start_xvfb()
    wl = Weston(tmp, "pixman", x11=display)
    what = "weston x11 seat: gtk gl=%s: input" % gl
    try:
        q = Qemu(QEMU, SIMLIB, tmp, GVT, display="gtk,gl=%s" % gl,
                 env=wl.env, extra=["-trace", "ps2_put_keycode",
                                    "-trace", "gd_motion_event"])
        present_xy(tmp)
        if gl == "off":
            control(tmp, "cursor %s size=64 pattern=xy x=100 y=50 hot_x=5 "
                    "hot_y=7" % GVT)
        q.qmp.cmd("cont")
        where = wl.shown(frame(640, 480))
        ok(where, "%s: the frame is on weston's output" % what, where)
        if where:
            wl.pointer((where[0] + 300, where[1] + 200),
                       (where[0] + 320, where[1] + 240))
            if gl == "off":
                # the cursor plane is GTK's host cursor: weston draws it
                # with its hotspot at the pointer, over the picture
                at = wl.shown(frame(640, 480, (315, 233, 64, 64, xy_rgb)))
                ok(at == where, "%s: the host cursor is the guest's at the "
                   "pointer, hotspot 5,7, pixel for pixel" % what, at)
            xdotool(display, "key", "a")
            time.sleep(1)
        alive = q.alive()
        err = q.stop()
        # scan code set 2: make 0x1c, break 0xf0 0x1c
        codes = ps2_codes(err)
        ok(alive and codes[-3:] == ["0x1c", "0xf0", "0x1c"],
           "%s: a key typed is the guest keyboard's scan codes" % what,
           codes)
        ok("gd_motion_event ww=640, wh=480, ws=1, x=320, y=240" in err,
           "%s: the pointer over the picture is at the guest's 320,240"
           % what, [line for line in err.splitlines() if "motion" in line])
    finally:
        wl.stop()
        xvfb.terminate()
        xvfb.wait()


def main():
    if not shutil.which("weston") or not shutil.which("weston-screenshooter"):
        print("1..0 # SKIP weston is not installed")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG)
        for renderer in ("gl", "pixman"):
            wl = Weston(tmp, renderer)
            wl.name = "weston " + renderer
            try:
                for gl in ("off", "on"):
                    test_frame(tmp, wl, gl, GVT, "dma-buf (gvt)")
                    test_frame(tmp, wl, gl, MDPY, "region (mdpy)")
                test_cursor(tmp, wl)
            finally:
                wl.stop()
        if shutil.which("xdotool"):
            for gl in ("off", "on"):
                test_input(tmp, gl)
        else:
            ok(False, "xdotool is installed (scripts/deps.list)")
    return tap.done()


sys.exit(main())
