#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our QEMU's vfio display in a GTK window and in an SDL window under Xvfb,
# captured with xwd (an X screenshot) and found pixel for pixel on the
# screen: gl=off and gl=on, a dma-buf device (gvt) and a region device
# (mdpy).  Mesa's EGL on X11 (llvmpipe) has no dma-buf import, and SDL
# none at all, so GTK gl=on and SDL gl=on get the dma-bufs read back,
# with one message, never a black window.  SDL keeps a GLX context
# current on the main loop (its renderer's, or its gl=on window's), which
# the read-back's EGL context must share the thread with.  TAP output.
#
# usage: test-gtk.py SIMLIB QEMU [PROBE] (xcursor is beside PROBE)

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import (Tap, control, find_frame, start_xvfb,  # noqa: E402
                    until, xy_rgb)
from display import (CONFIG, GVT, MDPY, Qemu, delta, frame,  # noqa: E402
                     present_xy, xdotool, xwd)

SIMLIB, QEMU = sys.argv[1:3]
# tests/display's X cursor reader, beside the SPICE probe in the build
XCURSOR = os.path.join(os.path.dirname(sys.argv[3]), "xcursor") \
    if len(sys.argv) > 3 else ""
tap = Tap()
ok = tap.ok


def shown(display, tmp, want, name, timeout=10):
    """Wait until @want is on the screen; where it is, or None."""
    end = time.time() + timeout
    n = 0
    while True:
        n += 1
        screen = xwd(display, os.path.join(tmp, "%s%d.xwd" % (name, n)))
        where = screen and find_frame(screen, want)
        if where or time.time() > end:
            return where
        time.sleep(0.5)


def test_gtk(tmp, display, gl, uuid, path, ui="gtk"):
    q = Qemu(QEMU, SIMLIB, tmp, uuid, display="%s,gl=%s" % (ui, gl),
             env={"DISPLAY": display})
    if uuid == GVT:
        present_xy(tmp)
    else:
        control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % uuid)
    q.qmp.cmd("cont")
    what = "%s gl=%s: %s" % (ui, gl, path)
    where = shown(display, tmp, frame(640, 480), "a")
    ok(where, "%s: the window shows the frame pixel for pixel" % what, where)
    s1 = q.stats()
    change = (100, 100, 30, 10, b"\0\xff\0")
    control(tmp, "rect %s x=100 y=100 w=30 h=10 pattern=0x00ff00" % uuid)
    where2 = shown(display, tmp, frame(640, 480, change), "b")
    ok(where2 and where2 == where, "%s: a change shows" % what, where2)
    d = delta(s1, q.stats())
    ok(d["updates"] >= 1 and d["damage-pixels"] == 128 * 16 * d["updates"],
       "%s: only the change is updated" % what, d)
    img, _ = q.dump()
    ok(img and img[:2] == (640, 480) and
       img[2] == frame(640, 480, change)[2],
       "%s: the screendump is the frame" % what)
    alive = q.alive()
    err = q.stop()
    # vfio-pci's own notices about mdpy (no AER, no reset) are not ours
    messages = [line for line in err.splitlines()
                if ("warning" in line or "error" in line) and
                "error recovery" not in line]
    if gl == "on" and uuid == GVT:
        ok(alive and len(messages) == 1 and
           "cannot import dma-bufs; showing them through read-back" in err,
           "%s: one message: the dma-bufs are read back" % what, err)
    else:
        ok(alive and not messages, "%s: no message" % what, err)


def host_cursor(display, x, y):
    """The X cursor with the pointer at @x,@y: (w, h, xhot, yhot, ARGB
    words), or None."""
    r = subprocess.run([XCURSOR, str(x), str(y)], capture_output=True,
                       text=True, timeout=30, env=dict(os.environ,
                                                       DISPLAY=display))
    lines = r.stdout.split("\n")
    if r.returncode != 0 or not lines[0].startswith("cursor "):
        return None
    w, h, xhot, yhot = (int(v) for v in lines[0].split()[1:])
    words = [int(v, 16) for line in lines[1:] for v in line.split()]
    return w, h, xhot, yhot, words


def host_cursor_becomes(display, x, y, dims, words=None, timeout=10):
    """Wait until the X cursor at @x,@y is @dims, (w, h, xhot, yhot), and
    its image @words if given; the cursor last read."""
    last = [None]

    def match():
        last[0] = host_cursor(display, x, y)
        return last[0] and last[0][:4] == dims and \
            (words is None or last[0][4] == words)
    until(match, timeout)
    return last[0]


def cursor_words(size):
    """The xy pattern as a size x size opaque cursor's ARGB words."""
    out = []
    for y in range(size):
        for x in range(size):
            r, g, b = xy_rgb(x, y)
            out.append(0xff000000 | r << 16 | g << 8 | b)
    return out


def test_cursor(tmp, display, gl, ui):
    """The gvt cursor plane as the host cursor over the window: read back
    into the window system's cursor, its image and hotspot as the guest
    set."""
    q = Qemu(QEMU, SIMLIB, tmp, GVT, display="%s,gl=%s" % (ui, gl),
             env={"DISPLAY": display})
    present_xy(tmp)
    control(tmp, "cursor %s size=64 pattern=xy x=100 y=50 hot_x=5 hot_y=7"
            % GVT)
    q.qmp.cmd("cont")
    what = "%s gl=%s: gvt cursor plane" % (ui, gl)
    where = shown(display, tmp, frame(640, 480), "c")
    want = cursor_words(64)
    cur = where and host_cursor_becomes(display, where[0] + 320,
                                        where[1] + 240, (64, 64, 5, 7), want)
    ok(cur and cur[:4] == (64, 64, 5, 7) and cur[4] == want,
       "%s: the host cursor over the window is the guest's, 64x64 hotspot "
       "5,7, pixel for pixel" % what, cur[:4] if cur else cur)
    control(tmp, "cursor %s hot_x=20 hot_y=30" % GVT)
    cur = where and host_cursor_becomes(display, where[0] + 330,
                                        where[1] + 250, (64, 64, 20, 30))
    ok(cur and cur[:4] == (64, 64, 20, 30),
       "%s: a new hotspot is the host cursor's" % what,
       cur[:4] if cur else cur)
    q.stop()


def test_sdl_cursor(tmp, display, gl):
    """SDL shows the guest's cursor as the host cursor while it holds the
    grab (the guest's PS/2 pointer is relative): not before, and after a
    click in the focused window the cursor plane, pixel for pixel with its
    hotspot, and a new hotspot."""
    q = Qemu(QEMU, SIMLIB, tmp, GVT, display="sdl,gl=%s" % gl,
             env={"DISPLAY": display})
    present_xy(tmp)
    control(tmp, "cursor %s size=64 pattern=xy x=100 y=50 hot_x=5 hot_y=7"
            % GVT)
    q.qmp.cmd("cont")
    what = "sdl gl=%s: gvt cursor plane" % gl
    where = shown(display, tmp, frame(640, 480), "sdlc")
    want = cursor_words(64)
    cur = None
    if where:
        x, y = where[0] + 320, where[1] + 240
        before = host_cursor(display, x, y)
        ok(before and before[4] != want, "%s: not the host cursor before "
           "SDL grabs the pointer" % what, before[:4] if before else before)
        for w in xdotool(display, "search", "--name", "QEMU").split():
            xdotool(display, "windowfocus", "--sync", w)
        xdotool(display, "click", "1")
        cur = host_cursor_becomes(display, x, y, (64, 64, 5, 7), want)
    ok(cur and cur[:4] == (64, 64, 5, 7) and cur[4] == want,
       "%s: grabbed, the host cursor is the guest's, 64x64 hotspot 5,7, "
       "pixel for pixel" % what, cur[:4] if cur else cur)
    control(tmp, "cursor %s hot_x=20 hot_y=30" % GVT)
    cur = where and host_cursor_becomes(display, x, y, (64, 64, 20, 30))
    ok(cur and cur[:4] == (64, 64, 20, 30),
       "%s: a new hotspot is the host cursor's" % what,
       cur[:4] if cur else cur)
    q.stop()


def main():
    xvfb, display = start_xvfb()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "config"), "w") as f:
                f.write(CONFIG)
            for gl in ("off", "on"):
                test_gtk(tmp, display, gl, GVT, "dma-buf (gvt)")
                test_gtk(tmp, display, gl, MDPY, "region (mdpy)")
            # the sanitizers' build has no SDL (scripts/build-asan.sh)
            displays = subprocess.run([QEMU, "-display", "help"],
                                      capture_output=True, text=True).stdout
            for gl in ("off", "on") if "\nsdl" in displays else ():
                test_gtk(tmp, display, gl, GVT, "dma-buf (gvt)", "sdl")
                test_gtk(tmp, display, gl, MDPY, "region (mdpy)", "sdl")
            if "\nsdl" not in displays:
                print("# %s has no SDL display: SDL not run" % QEMU)
            if ok(os.path.exists(XCURSOR), "the X cursor reader is built "
                  "(%s)" % XCURSOR):
                for gl in ("off", "on"):
                    test_cursor(tmp, display, gl, "gtk")
                # SDL sets the guest's cursor as the host's only while the
                # guest's pointer is absolute (a guest driving a tablet) or
                # grabbed: here, grabbed with a click
                for gl in ("off", "on") if "\nsdl" in displays else ():
                    test_sdl_cursor(tmp, display, gl)
    finally:
        xvfb.terminate()
        xvfb.wait()
    return tap.done()


sys.exit(main())
