#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our QEMU's vfio display in spice-gtk, the SPICE client of remote-viewer
# and virt-manager, with -spice unix=on,gl=on: QEMU hands the guest's
# dma-buf to the client over the socket, and the client imports it with
# its own EGL and draws it.
#
# On Wayland (weston's headless backend, GL renderer) spice-gtk draws in a
# GtkGLArea with the Wayland EGL platform, which imports dma-bufs on
# llvmpipe: for remote-viewer and spicy, the gvt frame, a change and a new
# mode are found pixel for pixel in weston's screenshot, and QEMU reads
# nothing back.  spicy runs with scaling off (its Options menu, kept in
# its settings file): with scaling on, spice-gtk 0.42 leaves its GL
# projection unset when the scanout comes before the GL area is realized,
# and its window stays black until it is resized (see vfio-display.rst).
#
# On a Wayland seat (weston's X11 backend under Xvfb, XTEST): a click
# grabs the pointer (SPICE server mouse mode: the guest has a PS/2 mouse),
# and spice-gtk then draws the guest's cursor itself where the guest moves
# it, less its hotspot, pixel for pixel; a key typed reaches the guest's
# PS/2 keyboard.
#
# On X11 spice-gtk uses EGL on the X display: where that EGL cannot
# import dma-bufs (llvmpipe: no EGL_EXT_image_dma_buf_import there) the
# window stays black, and the test says so; where it can, the frame must
# show.  TAP output.
#
# usage: test-spicegtk.py SIMLIB QEMU

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import (Tap, control, find_frame, start_xvfb,  # noqa: E402
                    until, xy_rgb)
from display import (CONFIG, GVT, Qemu, Weston, delta, frame,  # noqa: E402
                     present_xy, ps2_codes, xdotool, xwd)

SIMLIB, QEMU = sys.argv[1:3]
tap = Tap()
ok = tap.ok

# said once at start-up on a host whose EGL cannot export textures (no
# render node): true, and not about the dma-bufs tested here; and
# spice-server's word for a client the test has just stopped
NOT_OURS = ("EGL cannot export textures", "Connection reset by peer")


def messages(err):
    return [line for line in err.splitlines()
            if ("warning" in line or "error" in line) and
            not any(n in line for n in NOT_OURS)]


class Client:
    """@name ("remote-viewer" or "spicy") connected to QEMU's SPICE socket
    @sock, its settings and debug log in @tmp, in environment @env."""

    def __init__(self, name, tmp, sock, env):
        cfg = os.path.join(tmp, "config-" + name)
        os.makedirs(os.path.join(cfg, "spicy"), exist_ok=True)
        with open(os.path.join(cfg, "spicy", "settings"), "w") as f:
            f.write("[general]\nscaling=false\n"
                    "[ui]\ntoolbar=false\nstatusbar=false\n")
        self.log = os.path.join(tmp, name + ".log")
        uri = "spice+unix://" + sock
        cmd = ["spicy", "--uri=" + uri] if name == "spicy" else \
            ["remote-viewer", uri]
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT,
                env=dict(env, XDG_CONFIG_HOME=cfg, SPICE_DEBUG="1",
                         G_MESSAGES_DEBUG="all"))

    def said(self, pattern):
        """The first match of @pattern in the client's debug log."""
        with open(self.log, errors="replace") as f:
            return re.search(pattern, f.read())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def spice_qemu(tmp, env, extra=()):
    """Our QEMU on gvt with SPICE gl=on on a unix socket; (qemu, socket)."""
    sock = os.path.join(tmp, "spice.sock")
    q = Qemu(QEMU, SIMLIB, tmp, GVT, env=env, extra=[
        "-spice", "unix=on,addr=%s,gl=on,disable-ticketing=on" % sock] +
        list(extra))
    return q, sock


# spice-gtk's debug line for a GL scanout it makes an EGL image of
def scanout(w, h):
    return r"fd:\d+ stride:%d y0:\d %dx%d format:0x34325258 \(XR24\)" % (
        w * 4, w, h)


def test_wayland(tmp, wl, name):
    what = "weston headless: %s: SPICE gl=on: dma-buf (gvt)" % name
    q, sock = spice_qemu(tmp, wl.env)
    present_xy(tmp)
    q.qmp.cmd("cont")
    c = Client(name, tmp, sock, wl.env)
    try:
        where = wl.shown(frame(640, 480), timeout=30)
        ok(where, "%s: the window shows the frame pixel for pixel" % what,
           where)
        ok(c.said(scanout(640, 480)),
           "%s: the client made an EGL image of the dma-buf QEMU passed"
           % what, c.log)
        s1 = q.stats()
        control(tmp, "rect %s x=100 y=100 w=30 h=10 pattern=0x00ff00" % GVT)
        where2 = wl.shown(frame(640, 480, (100, 100, 30, 10, b"\0\xff\0")))
        ok(where2 and where2 == where, "%s: a change shows" % what, where2)
        s2 = q.stats()
        d = delta(s1, s2)
        ok(d["gl-updates"] >= 1 and not s2["readbacks"],
           "%s: the client draws it, QEMU reads nothing back" % what, s2)
        present_xy(tmp, 720, 400)
        where3 = wl.shown(frame(720, 400))
        ok(where3 and c.said(scanout(720, 400)),
           "%s: a new mode, 720x400, shows pixel for pixel" % what, where3)
    finally:
        c.stop()
    alive = q.alive()
    err = q.stop()
    ok(alive and not messages(err), "%s: no message" % what, err)


def test_seat(tmp, name):
    """A click grabs the pointer; spice-gtk then draws the guest's cursor
    where the guest moves it; a key reaches the guest."""
    xvfb, display = start_xvfb()
    wl = Weston(tmp, "pixman", x11=display)
    what = "weston x11 seat: %s: SPICE gl=on" % name
    try:
        q, sock = spice_qemu(tmp, wl.env, ["-trace", "ps2_put_keycode"])
        present_xy(tmp)
        control(tmp, "cursor %s size=64 pattern=xy x=100 y=50 hot_x=5 "
                "hot_y=7" % GVT)
        q.qmp.cmd("cont")
        c = Client(name, tmp, sock, wl.env)
        try:
            where = wl.shown(frame(640, 480), timeout=30)
            ok(where, "%s: the frame is on weston's output" % what, where)
            if where:
                wl.pointer((where[0] + 320, where[1] + 240))
                xdotool(display, "click", 1)
                time.sleep(1)
                # server mouse mode: the guest moves its cursor; spice-gtk
                # draws it, grabbed, at the position less the hotspot, with
                # the next frame
                control(tmp, "cursor %s x=300 y=200" % GVT)
                time.sleep(0.5)
                control(tmp, "rect %s x=400 y=300 w=30 h=10 "
                        "pattern=0x00ff00" % GVT)
                at = wl.shown(frame(640, 480, (300, 200, 64, 64, xy_rgb),
                                    (400, 300, 30, 10, b"\0\xff\0")))
                ok(at == where, "%s: grabbed, the guest's cursor is drawn "
                   "where the guest moved it, hotspot 5,7, pixel for pixel"
                   % what, at)
                xdotool(display, "key", "a")
                time.sleep(1)
        finally:
            c.stop()
        alive = q.alive()
        err = q.stop()
        # scan code set 2: make 0x1c, break 0xf0 0x1c
        codes = ps2_codes(err)
        ok(alive and codes[-3:] == ["0x1c", "0xf0", "0x1c"],
           "%s: a key typed is the guest keyboard's scan codes" % what,
           codes)
    finally:
        wl.stop()
        xvfb.terminate()
        xvfb.wait()


def test_x11(tmp, name):
    """spice-gtk's own EGL on the X display: the frame where it can import
    a dma-buf; else a black window, and the reason."""
    xvfb, display = start_xvfb()
    what = "X11: %s: SPICE gl=on: dma-buf (gvt)" % name
    try:
        q, sock = spice_qemu(tmp, {})
        present_xy(tmp)
        q.qmp.cmd("cont")
        env = dict(os.environ, DISPLAY=display, GDK_BACKEND="x11")
        env.pop("WAYLAND_DISPLAY", None)
        c = Client(name, tmp, sock, env)
        try:
            until(lambda: c.said(scanout(640, 480)), 30)
            ext = c.said(r"EGL extensions: (.*)")
            imports = ext and \
                "EGL_EXT_image_dma_buf_import" in ext.group(1).split()
            path = os.path.join(tmp, "x11.xwd")
            if imports:
                where = until(lambda: find_frame(xwd(display, path),
                                                 frame(640, 480)), 20)
                ok(where, "%s: the window shows the frame pixel for pixel"
                   % what, where)
            else:
                time.sleep(3)
                screen = xwd(display, path)
                ok(ext and screen and not find_frame(screen, frame(640, 480)),
                   "%s: not shown: the client's EGL on X11 has no "
                   "EGL_EXT_image_dma_buf_import (llvmpipe; a GPU's has)"
                   % what, ext.group(0) if ext else c.log)
        finally:
            c.stop()
        alive = q.alive()
        err = q.stop()
        ok(alive and not messages(err), "%s: no message" % what, err)
    finally:
        xvfb.terminate()
        xvfb.wait()


def main():
    clients = [c for c in ("remote-viewer", "spicy") if shutil.which(c)]
    if not clients:
        print("1..0 # SKIP neither remote-viewer nor spicy is installed")
        return 0
    if not shutil.which("weston") or not shutil.which("weston-screenshooter"):
        print("1..0 # SKIP weston is not installed")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG)
        wl = Weston(tmp, "gl")
        try:
            for name in clients:
                test_wayland(tmp, wl, name)
        finally:
            wl.stop()
        if shutil.which("xdotool"):
            test_seat(tmp, clients[0])
        else:
            ok(False, "xdotool is installed (scripts/deps.list)")
        test_x11(tmp, clients[0])
    return tap.done()


sys.exit(main())
