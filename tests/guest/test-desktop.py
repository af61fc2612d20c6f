#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The desktop demo driven as a person would (scripts/demo.sh --no-build,
# the default guest): weston on the guest's bochs-drm, on the simulated
# mbochs, shown by our QEMU through its dma-buf path on VNC, SPICE and a
# GTK window under Xvfb at once.  Through the VNC protocol (our RFB
# client, tests/display/rfb.py) the test clicks into the terminal, types
# a command and moves the pointer; tesseract-ocr reads the typed text
# back off the VNC frame, spicy-screenshot's and xwd's of QEMU's window,
# and the pointer is found where it was moved on all three.  On mbochs
# QEMU's GTK window is a Wayland client of weston (its X11 backend on
# Xvfb), and the seat's pointer moved over it moves the guest's.
# display-stats show weston's page flips (dma-buf ids cycling between
# its two buffers), the simulated mbochs counts no refcounting bug of
# the kernel's sample, and QEMU's fds do not grow.  With mdpy the guest's
# mdpy-fb drives the mdpy model and Xorg (fbdev) runs the desktop: the
# region path.  TAP output.
#
# usage: test-desktop.py BUILDDIR [mbochs|mdpy...]

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
sys.path.insert(0, os.path.join(TOP, "tests", "display"))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "scripts"))
import rfb  # noqa: E402
from demo import MODELS  # noqa: E402
from demorun import Demo  # noqa: E402
from simtap import (Qmp, Tap, control, find_frame,  # noqa
                    spicy_screenshot, start_xvfb, until)
from display import Weston, xwd  # noqa: E402

BUILD = os.path.abspath(sys.argv[1])
W, H = 1024, 768
BOOT_TIMEOUT = 300
TYPED = "echo vfio desktop 4711"
tap = Tap()
ok = tap.ok


def ocr(img, tmp, name):
    """The text tesseract reads in @img, (w, h, rgb)."""
    w, h, pix = img
    path = os.path.join(tmp, name + ".ppm")
    with open(path, "wb") as f:
        f.write(b"P6 %d %d 255\n" % (w, h) + pix)
    r = subprocess.run(["tesseract", path, "stdout"], capture_output=True,
                       text=True, timeout=120)
    return r.stdout


def typed_found(text):
    """The command and its output both read back: TYPED's words twice."""
    return len(re.findall(r"vfio\s+desktop\s+4711", text)) >= 2


def px(img, x, y):
    w, h, pix = img
    return pix[(y * w + x) * 3:(y * w + x) * 3 + 3]


def box(img, x0, y0, bw, bh):
    """(@bw, @bh, rgb) of the @bw x @bh box at (@x0, @y0) of @img."""
    w, h, pix = img
    return bw, bh, b"".join(pix[((y0 + j) * w + x0) * 3:
                                ((y0 + j) * w + x0 + bw) * 3]
                            for j in range(bh))


def changed_bbox(a, b, x0, y0, size):
    """Bounding box of the pixels that differ between @a and @b in the
    @size square at (@x0, @y0), or None."""
    xs, ys = [], []
    for j in range(size):
        for i in range(size):
            if px(a, x0 + i, y0 + j) != px(b, x0 + i, y0 + j):
                xs.append(x0 + i)
                ys.append(y0 + j)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def window_bbox(img, rgb, run=300):
    """Bounding box of the rows of @img that hold a run of at least @run
    pixels of colour @rgb: a terminal's background."""
    w, h, pix = img
    want = rgb * run
    xs, ys = [], []
    for y in range(0, h, 2):
        row = pix[y * w * 3:(y + 1) * w * 3]
        pos = row.find(want)
        while pos >= 0 and pos % 3:
            pos = row.find(want, pos + 1)
        if pos >= 0:
            end = pos + len(want)
            while row[end:end + 3] == rgb:
                end += 3
            xs += [pos // 3, end // 3 - 1]
            ys.append(y)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def background_spot(img, avoid, size=64):
    """A point with a @size square of one colour around it, not @avoid
    (the desktop's background, not the terminal's), away from the panel:
    (x, y, colour) or None."""
    w, h, pix = img
    for y in range(h - size, 60, -size // 2):
        for x in range(w - size, size, -size // 2):
            rgb = px(img, x, y)
            if rgb != avoid and all(box(img, x - size // 2, y - size // 2 + j, size, 1)[2] ==
                   rgb * size for j in range(0, size, 4)):
                return x, y, rgb
    return None


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def stats(qmp):
    return qmp.cmd("qom-get", path="/machine/peripheral/vgpu0",
                   property="display-stats")["return"]


def seat_pointer(client, what, screen, near, spot, img, bg, wl):
    """The Wayland seat's pointer moved over QEMU's GTK window: the guest's
    pointer follows (GTK's absolute motion to the usb-tablet), seen on VNC
    where it was moved, in guest pixels."""
    at = find_frame(screen, near)
    # the guest's top left in the X screen, from where the pointer's
    # rows (@near, at spot - (16, -2)) are found
    origin = (at[0] - spot[0] + 16, at[1] - spot[1] - 2) if at else None
    # the nearest point left of or below the pointer with a 40x40 square
    # of background around it
    dest = None
    for dy in (0, 48, 96, 640, 680):
        for dx in (-128, -256, -384, 0):
            x, y = spot[0] + dx, spot[1] + dy
            if (x, y) != spot and 40 <= x < W - 40 and 40 <= y < H - 40 \
                    and all(box(img, x - 20, y - 20 + j, 40, 1)[2] ==
                            bg * 40 for j in range(0, 40, 4)):
                dest = x, y
                break
        if dest:
            break
    ok(origin and dest, "%s: GTK on Wayland: the guest's picture and a "
       "background spot to move to are found (%s, %s)" % (what, origin,
                                                           dest))
    if not (origin and dest):
        return
    before = rfb.frame(client)
    wl.pointer((origin[0] + dest[0] - 40, origin[1] + dest[1] - 30),
               (origin[0] + dest[0], origin[1] + dest[1]))

    def followed():
        bb = changed_bbox(before, rfb.frame(client), dest[0] - 16,
                          dest[1] - 16, 64)
        return bb if bb and dest[0] - 12 <= bb[0] <= dest[0] + 4 and \
            dest[1] - 12 <= bb[1] <= dest[1] + 4 else None

    bb = until(followed, 30, step=1)
    ok(bb, "%s: GTK on Wayland: the seat's pointer over QEMU's window "
       "moves the guest's to %s (seen on VNC: %s)" % (what, dest, bb))


def test_desktop(tmp, model):
    mdpy = model == "mdpy"
    what = "desktop on %s" % model
    work = os.path.join(tmp, model)
    vnc, spice = 44 + mdpy, 5950 + mdpy
    xvfb, display = start_xvfb()
    env = {"DISPLAY": display, "VFIO_SIM_KERNEL_BUGS": "count"}
    # on mbochs QEMU's GTK window is a Wayland client: of weston's X11
    # backend, whose window on Xvfb (at its top left, unscaled) shows it
    # and whose seat is Xvfb's pointer; on mdpy GTK runs on X11
    wl = None
    if not mdpy and shutil.which("weston"):
        # a strip of the X screen below it, where Weston.pointer() enters
        # from
        wl = Weston(tmp, "pixman", x11=display, size=(1280, 1000))
        env.update(wl.client_env)
    t0 = time.time()
    demo = Demo(
        ["--workdir", work, "--vnc", "127.0.0.1:%d" % vnc,
         "--spice", "127.0.0.1:%d" % spice, "--gtk"] +
        (["--mdpy"] if mdpy else []), env=env)
    try:
        run_desktop(demo, what, work, model, vnc, spice, display, t0, wl)
    finally:
        status = demo.stop()
        ok(status == 0 and "demo: stopped" in demo.text(),
           "%s: SIGTERM stops the demo and QEMU cleanly" % what,
           demo.text()[-3000:])
        if wl:
            wl.stop()
        xvfb.terminate()
        xvfb.wait()


def run_desktop(demo, what, work, model, vnc, spice, display, t0, wl):
    mdpy = model == "mdpy"
    driver, path = ("mdpy-fb", "region") if mdpy else ("bochs-drm",
                                                       "dma-buf")
    ready = demo.wait("demo: ready", BOOT_TIMEOUT)
    ok(ready and ("weston" if not mdpy else "X desktop") in ready,
       "%s: the desktop boots to 'ready' (%.0f s)" % (what, time.time() - t0),
       demo.text()[-3000:])
    if not ready:
        return
    ok(re.search(r"^demo: booting, +\d+ s: ", demo.text(), re.M),
       "%s: a progress line while the guest boots" % what)
    ok(("demo: the guest's %s drives the vGPU; QEMU shows its plane "
        "through the %s path" % (driver, path)) in demo.text(),
       "%s: the demo says the %s path shows it" % (what, path),
       demo.text()[-2000:])
    for line in ("gvncviewer 127.0.0.1:%d" % vnc,
                 "remote-viewer spice://127.0.0.1:%d" % spice,
                 "the GTK window QEMU opens"):
        ok("demo: connect with: " + line in demo.text(),
           "%s: it prints 'connect with: %s'" % (what, line))
    qmp = Qmp(os.path.join(work, "qmp.sock"))
    pid = int(open(os.path.join(work, "qemu.pid")).read())
    client = rfb.Rfb(5900 + vnc, timeout=30)

    # the terminal: the largest area of its background, once it is drawn
    term_bg = b"\x00\x00\x00"
    img = [None]

    def terminal():
        img[0] = rfb.frame(client)
        bb = window_bbox(img[0], term_bg)
        # a window, not a screen still black before the first frame
        return bb if bb and 200 < bb[2] - bb[0] < W - 16 and \
            100 < bb[3] - bb[1] < H - 40 else None

    term = until(terminal, 60, step=1)
    ok(term, "%s: the terminal window shows (black, %s)" % (what, term))
    if not term:
        return
    fds0 = fd_count(pid)
    st0, s0 = stats(qmp), time.time()

    # click into it, type a command
    cx, cy = (term[0] + term[2]) // 2, (term[1] + term[3]) // 2
    rfb.click(client, cx, cy)
    time.sleep(3)               # under TCG the click takes its time
    rfb.type_text(client, TYPED + "\n", delay=0.1)
    tmpd = os.path.dirname(work)
    found = [None]

    def typed():
        found[0] = ocr(rfb.frame(client), tmpd, "vnc-" + what[-4:])
        return typed_found(found[0])

    ok(until(typed, 60, step=3), "%s: VNC: the typed '%s' and its output "
       "are read back by OCR" % (what, TYPED), found[0])

    # the pointer, moved onto the desktop's background
    where = background_spot(rfb.frame(client), avoid=term_bg)
    ok(where, "%s: the desktop's background shows beside the terminal"
       % what)
    if not where:
        return
    spot, bg = where[:2], where[2]
    before = rfb.frame(client)
    rfb.pointer(client, *spot)
    moved = [None]

    def pointer_seen():
        moved[0] = rfb.frame(client)
        bb = changed_bbox(before, moved[0], spot[0] - 16, spot[1] - 16, 64)
        return bb if bb and bb[0] >= spot[0] - 12 and \
            bb[1] >= spot[1] - 12 and bb[0] <= spot[0] + 4 and \
            bb[1] <= spot[1] + 4 else None

    bb = until(pointer_seen, 30, step=1)
    ok(bb, "%s: VNC: the pointer is drawn where it was moved, %s (its "
       "pixels %s on the background %s)" % (what, spot, bb, bg.hex()))
    # the pointer's rows: from just below its tip, each crossing it
    near = box(moved[0], spot[0] - 16, spot[1] + 2, 48, 16)

    # SPICE 2D and the GTK window show the same
    spice_img = [None]

    def spice_shot():
        spice_img[0] = spicy_screenshot(spice, os.path.join(
            tmpd, "spice.ppm"))[0]
        return spice_img[0] and spice_img[0][:2] == (W, H) and \
            box(spice_img[0], spot[0] - 16, spot[1] + 2, 48, 16) == near

    ok(until(spice_shot, 30, step=2), "%s: SPICE: spicy-screenshot shows "
       "the pointer where it was moved" % what)
    text = ocr(spice_img[0], tmpd, "spice") if spice_img[0] else ""
    ok(typed_found(text), "%s: SPICE: the typed text is read back by OCR"
       % what, text)
    gtk = [None]

    def gtk_shot():
        img = xwd(display, os.path.join(tmpd, "gtk.xwd"))
        if img is None:
            return None
        gtk[0] = img
        return find_frame(gtk[0], near) is not None

    gtk_on = "GTK on Wayland (weston)" if wl else "GTK on X11"
    ok(until(gtk_shot, 30, step=2), "%s: %s: QEMU's window shows the "
       "pointer as VNC does" % (what, gtk_on))
    text = ocr(gtk[0], tmpd, "gtk") if gtk[0] else ""
    ok(typed_found(text), "%s: %s: the typed text is read back by OCR"
       % (what, gtk_on), text)
    if wl and gtk[0]:
        seat_pointer(client, what, gtk[0], near, spot, moved[0], bg, wl)

    # weston's page flips, no kernel bug, no fd growth
    time.sleep(3)
    st = stats(qmp)
    counters = control(work, "counters " + MODELS[model][0])
    bugs = dict(re.findall(r"(mbochs-bug-[a-z-]+)=(\d+)", counters))
    if mdpy:
        ok(st["imports"] == 0 and st["bytes-copied"] > 0,
           "%s: the region path shows it, no dma-buf (%s)" % (what, st))
    else:
        ok(st["flips"] - st0["flips"] >= 3 and st["imports"] <= 8,
           "%s: display-stats count weston's page flips, %d in %.0f s, "
           "between %d dma-bufs fetched once each" %
           (what, st["flips"] - st0["flips"], time.time() - s0,
            st["imports"]), st)
        ok(not any(int(v) for v in bugs.values()),
           "%s: the simulated mbochs counts no refcounting bug of the "
           "kernel's sample (%s)" % (what, bugs or "none"), counters)
    # the fds: dma-bufs fetched once, GL imports of the buffers kept
    fds = [fd_count(pid)]
    flips = st["flips"]
    for _ in range(10):
        time.sleep(1)
        fds.append(fd_count(pid))
    flips = stats(qmp)["flips"] - flips
    ok(max(fds) <= fds[0] and (mdpy or flips >= 5),
       "%s: QEMU's open fds do not grow over 10 s, %d flips (%d at "
       "first, %d after the clicks and keys, at most %d)" %
       (what, flips, fds0, fds[0], max(fds)))
    client.close()
    qmp.sock.close()


def main():
    for f in ("desktop/rootfs.img", "qemu/qemu-system-x86_64",
              "vfio-sim/libvfio-sim.so"):
        if not os.path.exists(os.path.join(BUILD, f)):
            print("1..0 # SKIP %s is not built" % f)
            return 0
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for name in sys.argv[2:] or ("mbochs", "mdpy"):
            test_desktop(tmp, name)
    print("# desktop tests took %.0f s" % (time.time() - start))
    return tap.done()


sys.exit(main())
