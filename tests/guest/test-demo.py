#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The demo end to end (scripts/demo.sh --no-build), seen by real clients
# from Debian's packages: the Debian guest's own bochs-drm drives the
# simulated mbochs, our QEMU shows its dma-bufs (read back with llvmpipe)
# on VNC (gvnccapture), SPICE (spicy-screenshot) and a GTK window under
# Xvfb (xwd); with --mdpy the kernel's mdpy-fb drives the mdpy model and
# the region path shows it.  Every screenshot is compared with what the
# guest drew: the xy pattern pixel for pixel, or the moving square (a
# 48x48 block of 0xff8000, found whole and at a new place a moment later)
# under the console's text.  TAP output.
#
# usage: test-demo.py BUILDDIR [vnc|spice|gtk|mdpy...]

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "vfio-sim"))
from simtap import (Tap, find_frame, gvnccapture, read_xwd,  # noqa: E402
                    spicy_screenshot, start_xvfb, until, xy_frame, xy_wrong)
sys.path.insert(0, HERE)
from demorun import Demo as DemoRun  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
W, H = 1024, 768                # video=1024x768; mdpy type xga
SQUARE, ORANGE = 48, b"\xff\x80\x00"
KEEP = os.environ.get("KEEP", "")
tap = Tap()
ok = tap.ok


def Demo(args, env=None):
    """The busybox guest's demo: it boots in seconds."""
    return DemoRun(["--guest", "busybox"] + args, env)


def stats(line):
    return dict(re.findall(r"([a-z-]+)=(\d+)", line or ""))


def square(img):
    """The moving square in @img: (x, y) of a whole 48x48 orange block on
    the band along the bottom, or None."""
    w, h, pix = img
    y = h - SQUARE - 8
    row = pix[y * w * 3:(y + 1) * w * 3]
    run = ORANGE * SQUARE
    pos = row.find(run)
    while pos >= 0 and pos % 3:
        pos = row.find(run, pos + 1)
    if pos < 0:
        return None
    x = pos // 3
    for j in range(SQUARE):
        line = pix[((y + j) * w + x) * 3:((y + j) * w + x + SQUARE) * 3]
        if line != run:
            return None
    return x, y


def text_pixels(img, rows=48):
    """Pixels of the console's text colour (fbcon's light gray) in the
    top @rows rows: the demo's banner lines."""
    w, h, pix = img
    top = pix[:rows * w * 3]
    return sum(1 for i in range(0, len(top), 3)
               if top[i:i + 3] == b"\xaa\xaa\xaa")


def check_boot(demo, what, driver, path):
    ready = demo.wait("demo: ready")
    ok(ready is not None, "%s: the guest boots to 'ready'" % what,
       demo.text())
    ok(re.search(r"^demo: booting, +\d+ s: ", demo.text(), re.M),
       "%s: a progress line while the guest boots" % what, demo.text())
    ok(("demo: the guest's %s drives the vGPU; QEMU shows its plane "
        "through the %s path" % (driver, path)) in demo.text(),
       "%s: the guest's %s drives the vGPU" % (what, driver), demo.text())
    return stats(demo.wait("demo: display-stats:", 1))


def test_vnc(tmp, mdpy):
    what = "demo --vnc" + (" --mdpy" if mdpy else "")
    disp = 41 + mdpy
    demo = Demo(["--vnc", "127.0.0.1:%d" % disp] + (["--mdpy"] if mdpy
                                                     else []))
    con = demo.wait("demo: connect with: gvncviewer", 30)
    ok(con == "demo: connect with: gvncviewer 127.0.0.1:%d" % disp,
       "%s: it prints what to connect with" % what, demo.text())
    st = check_boot(demo, what, "mdpy-fb" if mdpy else "bochs-drm",
                    "region" if mdpy else "dma-buf")
    if mdpy:
        ok(st.get("imports") == "0" and st.get("readbacks") == "0" and
           int(st.get("bytes-copied", 0)) > 0,
           "%s: the region is copied, no dma-buf imported" % what, st)
    else:
        ok(int(st.get("imports", 0)) > 0 and
           int(st.get("readbacks", 0)) > 0,
           "%s: mbochs's dma-bufs imported and read back" % what, st)
    n = [0]

    def capture():
        n[0] += 1
        img = gvnccapture(5900 + disp, os.path.join(tmp,
                                                    "vnc%d.png" % n[0]))[0]
        return img if img and img[:2] == (W, H) and square(img) else None

    first = until(capture, 30)
    a = first and square(first)
    ok(a is not None,
       "%s: gvnccapture shows the guest's square, 48x48 of 0xff8000 "
       "on the bottom band" % what,
       "no square" if first is None else str(first[:2]))
    second = until(lambda: (lambda i: i if i and square(i) != a else None)(
        capture()), timeout=10)
    b = second and square(second)
    ok(b is not None and b != a,
       "%s: a moment later the square is elsewhere" % what,
       "%s then %s" % (a, b))
    ok(first is not None and text_pixels(first) > 200,
       "%s: the console's text is on the screen above it" % what,
       first and text_pixels(first))
    status = demo.stop()
    ok(status == 0 and "demo: stopped" in demo.text(),
       "%s: SIGTERM stops the demo and QEMU cleanly" % what, demo.text())


def test_spice(tmp):
    what = "demo --spice"
    port = 5943
    demo = Demo(["--spice", "127.0.0.1:%d" % port, "--run", "pattern"])
    con = demo.wait("demo: connect with: remote-viewer", 30)
    ok(con == "demo: connect with: remote-viewer spice://127.0.0.1:%d"
       % port, "%s: it prints what to connect with" % what, demo.text())
    st = check_boot(demo, what, "bochs-drm", "dma-buf")
    ok(int(st.get("readbacks", 0)) > 0, "%s: dma-bufs read back" % what, st)
    n = [0]

    def capture():
        n[0] += 1
        img = spicy_screenshot(port, os.path.join(tmp,
                                                  "spice%d.ppm" % n[0]))[0]
        return img if img and img[:2] == (W, H) and not xy_wrong(img) \
            else None

    img = until(capture, 30)
    ok(img is not None,
       "%s: spicy-screenshot shows the guest's xy pattern, 1024x768, "
       "pixel for pixel" % what)
    ok(demo.stop() == 0, "%s: stops cleanly" % what, demo.text())


def test_gtk(tmp):
    what = "demo --gtk"
    xvfb, display = start_xvfb()
    try:
        demo = Demo(["--gtk", "--run", "pattern"], env={"DISPLAY": display})
        check_boot(demo, what, "bochs-drm", "dma-buf")
        want = (W, H, xy_frame(W, H))
        n = [0]

        def capture():
            n[0] += 1
            path = os.path.join(tmp, "gtk%d.xwd" % n[0])
            r = subprocess.run(["xwd", "-root", "-silent", "-display",
                                display, "-out", path], capture_output=True,
                               timeout=30)
            return r.returncode == 0 and find_frame(read_xwd(path), want)

        where = until(capture, 30)
        if not where and os.environ.get("KEEP"):
            shutil.copy(os.path.join(tmp, "gtk%d.xwd" % n[0]), KEEP)
        ok(where, "%s: xwd finds the guest's xy pattern, 1024x768, pixel "
           "for pixel in QEMU's window" % what)
        ok(demo.stop() == 0, "%s: stops cleanly" % what, demo.text())
    finally:
        xvfb.terminate()
        xvfb.wait()


def main():
    for f in ("guest/vmlinuz", "guest-mdpy/vmlinuz",
              "qemu/qemu-system-x86_64", "vfio-sim/libvfio-sim.so"):
        if not os.path.exists(os.path.join(BUILD, f)):
            print("1..0 # SKIP %s is not built" % f)
            return 0
    start = time.time()
    cases = {"vnc": lambda t: test_vnc(t, mdpy=0), "spice": test_spice,
             "gtk": test_gtk, "mdpy": lambda t: test_vnc(t, mdpy=1)}
    with tempfile.TemporaryDirectory() as tmp:
        for name in sys.argv[2:] or cases:
            cases[name](tmp)
    print("# demo tests took %.0f s" % (time.time() - start))
    return tap.done()


sys.exit(main())
