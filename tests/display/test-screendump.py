#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our QEMU's vfio display on the simulator, seen through QMP screendump on
# a console without GL (-display none): dma-buf planes read back through
# llvmpipe (gvt, mbochs: the exporters refuse a CPU mmap, as on the real
# kernel) or a CPU mmap where the exporter allows one, every format and
# tiling pixel-exact; the region path (mdpy); vendor faults reported once
# while QEMU keeps answering.  TAP output.
#
# usage: test-screendump.py SIMLIB QEMU

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import Tap, control  # noqa: E402
from display import (CONFIG, Qemu, GVT, MBOCHS, MBOCHS_CPU, MDPY,  # noqa: E402
                     delta, present_xy, wrong)

SIMLIB, QEMU = sys.argv[1:3]
tap = Tap()
ok = tap.ok


def test_gvt(tmp):
    q = Qemu(QEMU, SIMLIB, tmp, GVT)
    cases = [("XRGB8888", "linear", 640, 480), ("XRGB8888", "x", 640, 480),
             ("XRGB8888", "y", 800, 600), ("ARGB8888", "linear", 320, 200),
             ("XBGR8888", "x", 1024, 768), ("RGB565", "y", 640, 480),
             ("XRGB2101010", "linear", 300, 300)]
    for fmt, mod, w, h in cases:
        rsp = control(tmp, "present %s format=%s width=%d height=%d "
                      "modifier=%s pattern=xy" % (GVT, fmt, w, h, mod))
        img, err = q.dump()
        ok(img and img[:2] == (w, h) and wrong(img, fmt) == 0,
           "readback: gvt %s %s %dx%d on -display none, pixel-exact"
           % (fmt, mod, w, h),
           "%s %s %s" % (rsp, err, img[:2] if img else ""))
    # a frame drawn into the buffer already shown: same id, new content
    control(tmp, "rect %s x=10 y=10 w=20 h=20 pattern=0xff0000" % GVT)
    img, err = q.dump()
    ok(img and img[2][(15 * 300 + 15) * 3:(15 * 300 + 15) * 3 + 3] ==
       b"\xff\x00\x00", "readback: new content in the same buffer shows",
       err)
    # hostile stride: not shown, one warning, QEMU answers
    control(tmp, "hostile %s primary:stride=16" % GVT)
    for _ in range(5):
        q.dump()
    st = q.qmp.cmd("query-status")
    control(tmp, "clear " + GVT)
    img, _ = q.dump()
    err = q.stop()
    # the last good frame: the pattern and the red 20x20 square
    ok("return" in st and img and wrong(img, "XRGB2101010") == 400,
       "faults: a hostile stride keeps the last frame, QEMU answers", err)
    ok(err.count("stride does not fit") == 1,
       "faults: one message for five refreshes of the same fault", err)


def test_mbochs(tmp, uuid, how):
    q = Qemu(QEMU, SIMLIB, tmp, uuid)
    good = True
    for w, h in ((640, 480), (800, 600), (640, 480)):
        control(tmp, "mode %s width=%d height=%d" % (uuid, w, h))
        control(tmp, "rect %s x=0 y=0 w=%d h=%d pattern=xy" % (uuid, w, h))
        img, err = q.dump()
        if not img or img[:2] != (w, h) or wrong(img):
            img2, err = q.dump()    # the first query of a mode is ENOMEM
            good = good and img2 and img2[:2] == (w, h) and not wrong(img2)
    counters = control(tmp, "counters " + uuid)
    err = q.stop()
    ok(good, "readback: mbochs modes 640x480, 800x600, back, %s" % how, err)
    ok("mbochs-bug" not in counters,
       "readback: no mbochs refcount bug triggered (%s)" % how, counters)
    ok("mbochs-dmabuf-fds=2 " in counters + " ",
       "readback: a mode shown again reuses its cached dma-buf, 2 GETs "
       "for 3 mode sets (%s)" % how, counters)


def test_mdpy(tmp):
    q = Qemu(QEMU, SIMLIB, tmp, MDPY)
    control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % MDPY)
    img, err = q.dump()
    q.stop()
    ok(img and img[:2] == (640, 480) and wrong(img) == 0,
       "region: mdpy through its mmapped region, pixel-exact", err)


def test_gl(tmp):
    """egl-headless on llvmpipe: the GL scanout path, dumped by read-back."""
    q = Qemu(QEMU, SIMLIB, tmp, GVT, display="egl-headless")
    for fmt in ("XRGB8888", "ARGB8888", "XBGR8888", "ABGR8888", "RGB565",
                "XRGB2101010"):
        rsp = control(tmp, "present %s format=%s width=640 height=480 "
                      "pattern=xy" % (GVT, fmt))
        img, err = q.dump()
        ok(img and img[:2] == (640, 480) and wrong(img, fmt) == 0,
           "gl: egl-headless scans out gvt %s, screendump pixel-exact" % fmt,
           "%s %s" % (rsp, err))
    control(tmp, "rect %s x=10 y=10 w=20 h=20 pattern=0xff0000" % GVT)
    img, err = q.dump()
    ok(img and wrong(img, "XRGB2101010") == 400,
       "gl: new content in the scanout buffer shows in the next dump", err)
    st = q.stats()
    ok(st["imports"] == 6 and st["readbacks"] == 0 and st["updates"] == 0,
       "gl: one import per buffer layout, no read-back or 2D update on a "
       "GL console", st)
    # llvmpipe lists no Intel tiling for import (eglQueryDmaBufModifiersEXT):
    # the buffer is read back, detiled, and shown as a surface instead
    control(tmp, "present %s format=XRGB8888 width=640 height=480 "
            "modifier=x pattern=xy" % GVT)
    img, err = q.dump()
    st2 = q.stats()
    q.stop()
    ok(img and wrong(img) == 0 and st2["readbacks"] > 0,
       "gl: a tiled buffer llvmpipe does not take is read back on the GL "
       "console, pixel-exact", "%s %s" % (err, st2))


def test_damage(tmp, uuid, what):
    """Damage on a static screen and on one changed rectangle."""
    q = Qemu(QEMU, SIMLIB, tmp, uuid)
    if uuid == GVT:
        present_xy(tmp)
    else:
        control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % uuid)
    q.dump()
    s0 = q.stats()
    for _ in range(4):
        img, err = q.dump()
    s1 = q.stats()
    d = delta(s0, s1)
    ok(d["refreshes"] == 4 and d["updates"] == 0 and
       d["damage-pixels"] == 0 and d["bytes-copied"] == 0,
       "damage: %s static screen, 4 refreshes report and copy nothing"
       % what, d)
    ok(img and wrong(img) == 0, "damage: %s static screen still shown "
       "pixel-exact" % what, err)
    # a 20x20 square inside one 64x16 tile column, across two tile rows
    control(tmp, "rect %s x=70 y=100 w=20 h=20 pattern=0xff0000" % uuid)
    img, err = q.dump()
    d = delta(s1, q.stats())
    ok(d["updates"] == 1 and d["damage-pixels"] == 64 * 32 and
       20 * 20 * 4 <= d["bytes-copied"] <= 28 * 64 * 4,
       "damage: %s one 20x20 change: one 64x32 rectangle reported, "
       "only its tiles' rows from the first change copied" % what, d)
    ok(img and wrong(img) == 400 and
       img[2][(110 * 640 + 80) * 3:(110 * 640 + 80) * 3 + 3] == b"\xff\0\0",
       "damage: %s the changed square shows, the rest untouched" % what,
       err)
    # two squares far apart: two rectangles, not their bounding box
    control(tmp, "rect %s x=0 y=0 w=8 h=8 pattern=0x00ff00" % uuid)
    control(tmp, "rect %s x=600 y=450 w=8 h=8 pattern=0x0000ff" % uuid)
    img, err = q.dump()
    d = delta(s1, q.stats())
    ok(d["updates"] == 3 and d["damage-pixels"] == 64 * 32 + 2 * 64 * 16,
       "damage: %s two distant changes: two rectangles, not their "
       "bounding box" % what, d)
    if uuid == GVT:
        test_damage_flip(q)
    q.stop()


def test_damage_flip(q):
    """A flip to another buffer with the same content damages nothing."""
    s0 = q.stats()
    control(q.tmp, "flip %s pattern=xy" % GVT)
    img1, _ = q.dump()
    control(q.tmp, "flip " + GVT)     # back to the first buffer, changed
    img2, err = q.dump()
    d = delta(s0, q.stats())
    # each flip damages only the three squares one buffer has, not the other
    ok(d["imports"] == 1 and d["readbacks"] == 2 and
       d["damage-pixels"] == 2 * (64 * 32 + 2 * 64 * 16) and
       d["updates"] == 6,
       "damage: gvt page flips compare content, not buffer ids", d)
    ok(img1 and wrong(img1) == 0 and img2 and wrong(img2) == 400 + 2 * 64,
       "damage: gvt page flips show each buffer pixel-exact", err)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG)
        test_gvt(tmp)
        test_mbochs(tmp, MBOCHS, "GL read-back")
        test_mbochs(tmp, MBOCHS_CPU, "CPU mmap allowed")
        test_mdpy(tmp)
        test_damage(tmp, GVT, "readback (gvt)")
        test_damage(tmp, MDPY, "region (mdpy)")
        test_gl(tmp)
    return tap.done()


sys.exit(main())
