#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every fault the simulator can inject into what a vendor driver reports,
# on each of our display paths (dma-bufs read back on -display none,
# dma-bufs on a GL console, mdpy's region), and the hostile plane fields
# on VNC, SPICE 2D, SPICE gl=on and GTK gl=off and gl=on: the last good
# frame stays, each fault is one message at most, QEMU keeps answering,
# the display recovers when the fault goes, and no fd leaks over many
# page flips, mode sets or an unplug.  TAP output.
#
# usage: test-faults.py SIMLIB QEMU

import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import Tap, control, start_xvfb  # noqa: E402
from display import CONFIG, GVT, MBOCHS, MDPY, Qemu, wrong  # noqa: E402
import rfb  # noqa: E402

SIMLIB, QEMU = sys.argv[1:3]
tap = Tap()
ok = tap.ok

# (spec, what it means, a new buffer is needed to hit it, messages); a
# case with no message is one QEMU rides out without the user noticing
QUERY_FAULTS = [
    ("fault query/primary:ENODEV", "not initialised (ENODEV)", False, 0),
    ("fault query/primary:EIO", "query EIO", False, 1),
    ("fault query/primary:EFAULT", "query EFAULT", False, 1),
    ("fault query/primary:EINTR", "query EINTR every time", False, 1),
    ("fault query/primary:EINTR:2", "query EINTR twice (retried)", False, 0),
    ("fault query/primary:ENOMEM:1", "query ENOMEM once (mbochs' new mode)",
     False, 0),
    ("fault query/cursor:EIO", "cursor query EIO", False, 1),
    ("hostile primary:drm_format=0x20203838", "unknown fourcc", False, 1),
    ("hostile primary:drm_format_mod=0x77", "unknown modifier", False, 1),
    ("hostile primary:width=0", "width 0", False, 1),
    ("hostile primary:width=100000", "width 100000", False, 1),
    ("hostile primary:height=4000000000", "height 4e9", False, 1),
    ("hostile primary:stride=16", "stride < width * bpp", False, 1),
    ("hostile primary:stride=4294967295", "stride 4 GiB", False, 1),
    ("hostile primary:size=4096", "size < stride * height", False, 1),
]
DMABUF_FAULTS = [
    ("fault get:EINVAL", "GET of a stale id (EINVAL)", True, 1),
    ("fault get:EIO", "GET EIO", True, 1),
    ("fault get:EINTR:2", "GET EINTR twice (retried)", True, 0),
    ("hostile primary:size=4294967295", "size past the dma-buf", True, 1),
    ("hostile primary:stride=16384", "a dma-buf too small for the plane",
     True, 1),
    ("hostile primary:stride=16384", "a cached id changing its layout",
     False, 1),
]
REGION_FAULTS = [
    ("hostile primary:region_index=99", "a region the device has not",
     False, 1),
    ("hostile primary:size=4294967295", "size past the region", False, 1),
]


def show(tmp, uuid, w, h, buf=0):
    """A frame of the xy pattern at @w x @h (gvt: in buffer @buf)."""
    if uuid == GVT:
        control(tmp, "present %s format=XRGB8888 width=%d height=%d "
                "buffer=%d pattern=xy" % (uuid, w, h, buf))
    else:
        control(tmp, "rect %s x=0 y=0 w=%d h=%d pattern=xy" % (uuid, w, h))


def warnings(err):
    return [line for line in err.splitlines() if "display:" in line]


def run_faults(tmp, path, uuid, display, faults, extra=(), env=None):
    q = Qemu(QEMU, SIMLIB, tmp, uuid, display=display, extra=extra, env=env)
    size = (640, 480)
    show(tmp, uuid, *size)
    img, err = q.dump()
    ok(img and img[:2] == size and wrong(img) == 0,
       "%s: the first frame, pixel-exact" % path, err)
    expect = 0
    buf = 0
    for spec, what, new_buffer, messages in faults:
        kind, rest = spec.split(" ", 1)
        control(tmp, "%s %s %s" % (kind, uuid, rest))
        if new_buffer:
            # a layout not seen before (a new dma-buf id), drawn into the
            # buffer not shown, so the one shown keeps its pixels
            new = (size[0] - 16, size[1])
            buf ^= 1
            show(tmp, uuid, new[0], new[1], buf)
        # a fault retried away within the refresh shows the new frame at once
        want = new if new_buffer and not messages else size
        kept = True
        for _ in range(5):
            img, err = q.dump()
            kept = kept and img is not None and img[:2] == want and \
                wrong(img) == 0
        alive = q.alive()
        control(tmp, "clear " + uuid)
        if new_buffer:
            size = new
        # the device recovered: new content shows
        control(tmp, "rect %s x=0 y=0 w=8 h=8 pattern=0xff0000" % uuid)
        img, err = q.dump()
        fixed = img is not None and img[:2] == size and wrong(img) == 64
        show(tmp, uuid, size[0], size[1], buf)
        q.dump()
        expect += messages
        ok(kept and alive and fixed, "%s: %s: last good frame kept, QEMU "
           "answers, recovered after" % (path, what),
           "kept %s alive %s fixed %s %s" % (kept, alive, fixed, err))
    st = q.stats()
    err = q.stop()
    ok(len(warnings(err)) == expect and st["faults"] >= expect,
       "%s: %d messages for %d faults of 5 refreshes each, none repeated"
       % (path, expect, len(faults)), err)


def test_flips(tmp, path, display, flips=200):
    """Page flips and new layouts: the fd count stays flat."""
    q = Qemu(QEMU, SIMLIB, tmp, GVT, display=display)
    show(tmp, GVT, 640, 480)
    control(tmp, "flip %s pattern=xy" % GVT)
    base = q.fds()
    q.dump()
    control(tmp, "flip " + GVT)
    q.dump()
    before = q.fds()
    good = True
    for i in range(flips):
        control(tmp, "flip " + GVT)
        if i % 20 == 0:
            control(tmp, "rect %s x=%d y=0 w=8 h=8 pattern=0xff0000"
                    % (GVT, i))
        img, err = q.dump()
        good = good and img is not None and img[:2] == (640, 480)
    after = q.fds()
    st = q.stats()
    q.stop()
    # a GL display without a GPU: the two buffers' GL imports for the
    # samples of a still screen, one per row set (display-readback.c)
    imports = 2 * (1 + 16) if display != "none" else 0
    ok(good and (after == before or after - base <= 2 + imports) and
       st["imports"] == 2,
       "%s: %d page flips between two buffers: 2 imports, fds %d -> %d "
       "(%d before the first; at most %d GL imports)"
       % (path, flips, before, after, base, imports), st)


def test_modes(tmp):
    """mbochs through 24 modes: the id cache stays bounded, no fd leaks."""
    q = Qemu(QEMU, SIMLIB, tmp, MBOCHS)
    control(tmp, "mode %s width=640 height=480" % MBOCHS)
    q.dump()
    q.dump()
    before = q.fds()
    for i in range(24):
        w, h = 320 + 16 * i, 240 + 8 * i
        control(tmp, "mode %s width=%d height=%d" % (MBOCHS, w, h))
        control(tmp, "rect %s x=0 y=0 w=%d h=%d pattern=xy" % (MBOCHS, w, h))
        q.dump()                    # the first query of a mode is ENOMEM
        img, err = q.dump()
    after = q.fds()
    st = q.stats()
    counters = control(tmp, "counters " + MBOCHS)
    q.stop()
    ok(img and img[:2] == (w, h) and wrong(img) == 0,
       "mbochs: the 24th mode shows pixel-exact", err)
    ok(after - before <= 16 and st["imports"] == 25 and
       st["drops"] == 25 - 16, "mbochs: 25 dma-bufs imported, 9 dropped: "
       "at most 16 held (fds %d -> %d)" % (before, after), st)
    ok("mbochs-bug" not in counters, "mbochs: no re-export of an id "
       "whose fd is open", counters)


def test_unplug(tmp):
    """The mdev removed under QEMU: it waits for the fd, as the kernel."""
    q = Qemu(QEMU, SIMLIB, tmp, GVT)
    show(tmp, GVT, 640, 480)
    q.dump()
    rsp = control(tmp, "unplug " + GVT)
    img, err = q.dump()
    alive = q.alive()
    err = q.stop()
    ok(rsp.startswith("ok pending") and alive and img and wrong(img) == 0,
       "unplug: pending while QEMU holds the device, which still shows",
       "%s %s" % (rsp, err))
    ok(q.proc.returncode == 0 and not warnings(err),
       "unplug: QEMU quits cleanly, closing the removed device's fds",
       "exit %s %s" % (q.proc.returncode, err))


def test_rejected_id(tmp):
    """GVT-g gives a freed id to the next new buffer: an id whose dma-buf
    was refused (smaller than its plane) is fetched again once its buffer
    is a new one, even where the plane looks the same."""
    q = Qemu(QEMU, SIMLIB, tmp, GVT, extra=["-trace",
                                             "vfio_display_dmabuf_get"])
    show(tmp, GVT, 640, 480)
    q.dump()
    # buffer 1 reported taller than it is: its dma-buf is refused
    control(tmp, "hostile %s primary:height=960" % GVT)
    control(tmp, "hostile %s primary:size=2457600" % GVT)
    show(tmp, GVT, 640, 480, buf=1)
    img, err = q.dump()
    refused = img and wrong(img) == 0
    # the guest makes buffer 1 really 640x960: the freed id comes back
    control(tmp, "clear %s" % GVT)
    show(tmp, GVT, 640, 960, buf=1)
    shown = None
    for _ in range(20):
        img, err2 = q.dump()
        if img and img[:2] == (640, 960) and wrong(img) == 0:
            shown = img
            break
        time.sleep(0.1)
    alive = q.alive()
    err = q.stop()
    gets = [line for line in err.splitlines()
            if line.startswith("vfio_display_dmabuf_get")]
    ok(refused and shown and alive and len(gets) == 3 and
       "needs 2457600 bytes, but the dma-buf has 1228800" in err,
       "a refused dma-buf id is fetched again for the new buffer that "
       "reuses it, and shown (3 GETs)", err)


def test_egl_retry(tmp):
    """No EGL at all: its set-up is tried once per plane layout, not at
    every refresh nor at every flip, and the one message says why."""
    q = Qemu(QEMU, SIMLIB, tmp, GVT,
             extra=["-trace", "vfio_display_readback_egl_failed"],
             env={"__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent.json"})
    show(tmp, GVT, 320, 96)
    for _ in range(5):
        q.dump()
    show(tmp, GVT, 320, 96, buf=1)      # a flip: the same layout
    for _ in range(5):
        q.dump()
    show(tmp, GVT, 256, 96)             # a new layout
    for _ in range(5):
        q.dump()
    alive = q.alive()
    err = q.stop()
    tries = [line for line in err.splitlines()
             if line.startswith("vfio_display_readback_egl_failed")]
    ok(alive and len(tries) == 2 and len(warnings(err)) == 1 and
       "EGL has no surfaceless platform" in err,
       "no EGL: set up once per plane layout over 15 refreshes and a "
       "flip, one message",
       err)


# the hostile plane fields on every other console: (name, -display, extra)
CONSOLES = [
    ("vnc", "none", lambda tmp: ["-vnc", "127.0.0.1:%d" %
                                 (rfb.free_port() - 5900)]),
    ("spice", "none", lambda tmp: ["-spice", "port=%d,disable-ticketing=on"
                                   % rfb.free_port()]),
    ("spice-gl", "none", lambda tmp: [
        "-spice", "unix=on,addr=%s,disable-ticketing=on,gl=on" %
        os.path.join(tmp, "spice.sock")]),
    ("gtk", "gtk,gl=off", lambda tmp: []),
    ("gtk-gl", "gtk,gl=on", lambda tmp: []),
]


def hostile_per_console(tmp):
    xvfb, xdisplay = start_xvfb()
    hostile = [f for f in QUERY_FAULTS if f[0].startswith("hostile")]
    try:
        for name, display, extra in CONSOLES:
            env = {"DISPLAY": xdisplay}
            run_faults(tmp, name + " (gvt)", GVT, display, hostile,
                       extra(tmp), env)
            run_faults(tmp, name + " (mdpy)", MDPY, display,
                       hostile + REGION_FAULTS, extra(tmp), env)
    finally:
        xvfb.terminate()
        xvfb.wait()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG)
        run_faults(tmp, "readback", GVT, "none",
                   QUERY_FAULTS + DMABUF_FAULTS)
        run_faults(tmp, "gl", GVT, "egl-headless",
                   QUERY_FAULTS + DMABUF_FAULTS)
        # mdpy has no cursor plane, and its plane never moves
        run_faults(tmp, "region", MDPY, "none",
                   QUERY_FAULTS[:6] + QUERY_FAULTS[7:] + REGION_FAULTS)
        test_flips(tmp, "readback", "none")
        test_flips(tmp, "gl", "egl-headless")
        test_modes(tmp)
        test_unplug(tmp)
        test_rejected_id(tmp)
        test_egl_retry(tmp)
        hostile_per_console(tmp)
    return tap.done()


sys.exit(main())
