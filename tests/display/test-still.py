#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A still screen on the paths without GL: once the frame has not changed
# for half a second, a refresh compares only sampled rows (display-stats
# "samples"), and reads back only those of a dma-buf.  Checked on the
# region path (mdpy), on dma-bufs read back through GL (gvt, linear and
# X-tiled) and through a CPU mapping (mbochs with dmabuf-cpu-mmap=allow):
# - a still screen reads a fraction of what full compares would;
# - a change taller than the sampling step shows at the next refresh;
# - a one-row change shows within the step's refreshes or a second;
# - a screendump right after a one-row change shows it, exact;
# - a still screen reports no update.
# A GL display (egl-headless, SPICE gl=on) is not sampled: it is sent an
# update at every refresh, as upstream, and a client connecting to a
# still screen gets it drawn.
# And the region while the whole frame changes at every refresh: shown
# from the mapping itself, as stock does ("direct"), the shadow and its
# damage again when it calms down.
# SPICE without a client, and egl-headless, refresh 33 times a second.
# TAP output.
#
# usage: test-still.py SIMLIB QEMU SPICE-PROBE

import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import Tap, control, read_ppm, until  # noqa: E402
from display import (CONFIG, GVT, MBOCHS_CPU, MDPY, Qemu,  # noqa: E402
                     delta, wrong)
import rfb  # noqa: E402
from spiceprobe import SpiceProbe  # noqa: E402

SIMLIB, QEMU, PROBE = sys.argv[1:4]
tap = Tap()
ok = tap.ok

STEP = 16           # VFIO_DISPLAY_SAMPLE_STEP
FULL_S = 2.0        # VFIO_DISPLAY_FULL_MS
W, H = 640, 480


def sampling(q, key, timeout=5):
    """Wait until refreshes compare sampled rows and send no update (the
    counter @key); the stats then."""
    def still():
        s0 = q.stats()
        time.sleep(0.3)
        s1 = q.stats()
        return s1["samples"] > s0["samples"] + 2 and \
            s1[key] == s0[key] and s1
    return until(still, timeout, 0.05)


def shown(q, s0, key, need=1, timeout=3):
    """Wait for @need updates (counter @key) after stats @s0: (refreshes,
    seconds) it took, or None."""
    t0 = time.time()
    s = until(lambda: (lambda st: st[key] >= s0[key] + need and st)(
        q.stats()), timeout, 0.005)
    return (s["refreshes"] - s0["refreshes"], time.time() - t0) if s \
        else None


def show_xy(tmp, uuid, what):
    if uuid == GVT:
        control(tmp, "present %s format=XRGB8888 width=%d height=%d "
                "pattern=xy modifier=%s" %
                (GVT, W, H, "x" if "tiled" in what else "linear"))
        return
    if uuid != MDPY:
        control(tmp, "mode %s width=%d height=%d" % (uuid, W, H))
    control(tmp, "rect %s x=0 y=0 w=%d h=%d pattern=xy" % (uuid, W, H))


def test_still(tmp, uuid, what):
    port = rfb.free_port()
    key = "updates"
    q = Qemu(QEMU, SIMLIB, tmp, uuid,
             extra=["-spice", "port=%d,disable-ticketing=on" % port])
    show_xy(tmp, uuid, what)
    s0 = sampling(q, key)
    ok(s0, "%s: a still screen is sampled" % what, s0 or q.stats())
    if not s0:
        q.stop()
        return
    time.sleep(1.5)
    s1 = q.stats()
    d = delta(s0, s1)
    frame = W * H * 4
    ok(d["refreshes"] >= 20 and d["samples"] >= d["refreshes"] * 3 // 4 and
       d["bytes-read"] <= d["refreshes"] * frame // 4 and
       d[key] == 0 and d["faults"] == 0,
       "%s: still for 1.5 s: most refreshes sample, reading under a "
       "quarter of a full compare's bytes, no update" % what, d)

    # 100 rows: a sampled row differs at the next refresh
    need = 1
    control(tmp, "rect %s x=300 y=200 w=100 h=100 pattern=0xff0000" % uuid)
    took = shown(q, s1, key, need)
    ok(took and took[0] <= 2 + need,
       "%s: a 100x100 change shows at the next refresh" % what, took)

    # one row: within the step's refreshes or a full compare's second
    s2 = sampling(q, key)
    control(tmp, "rect %s x=10 y=7 w=4 h=1 pattern=0x00ff00" % uuid)
    took = shown(q, s2 or q.stats(), key, need)
    ok(s2 and took and took[0] <= STEP + 1 + need,
       "%s: a 4x1 change shows within %d refreshes (a rotation of "
       "samples), before the full compare of every %.0f s" %
       (what, STEP, FULL_S), took)

    # a screendump waits for the exact frame, whatever the sampling
    s3 = sampling(q, key)
    control(tmp, "rect %s x=20 y=9 w=4 h=1 pattern=0x0000ff" % uuid)
    img, err = q.dump()
    bad = wrong(img) if img else None
    ok(s3 and bad == 100 * 100 + 4 + 4,
       "%s: a screendump right after a 4x1 change shows it, exact" % what,
       (bad, err))
    err = q.stop()
    # vfio-pci's own two warnings for any mdev (the simulator's too)
    other = [line for line in err.splitlines() if line and
             "Could not enable error recovery" not in line and
             "no available reset mechanism" not in line]
    ok(not other, "%s: QEMU printed nothing else" % what, err)


def test_gl_every_refresh(tmp):
    """egl-headless: a still screen is not sampled, every refresh sends
    the GL display an update (as with a GPU), and a change shows."""
    what = "gvt on egl-headless"
    q = Qemu(QEMU, SIMLIB, tmp, GVT, display="egl-headless")
    show_xy(tmp, GVT, what)
    time.sleep(1)
    s0 = q.stats()
    time.sleep(1.5)
    d = delta(s0, q.stats())
    ok(d["refreshes"] >= 20 and d["samples"] == 0 and
       d["gl-updates"] == d["refreshes"] and d["readbacks"] == 0,
       "%s: a still screen is not sampled, every refresh sends an update"
       % what, d)
    control(tmp, "rect %s x=20 y=9 w=4 h=1 pattern=0x0000ff" % GVT)
    img, err = q.dump()
    ok(img and wrong(img) == 4,
       "%s: a 4x1 change shows in the next screendump, exact" % what, err)
    q.stop()


def test_spice_gl_late(tmp):
    """SPICE gl=on: a client that connects to a still screen is sent the
    scanout, and draws only on an update: it gets one within a second."""
    what = "gvt on SPICE gl=on"
    sock = os.path.join(tmp, "spice.sock")
    q = Qemu(QEMU, SIMLIB, tmp, GVT,
             extra=["-spice", "unix=on,addr=%s,disable-ticketing=on,gl=on"
                    % sock])
    control(tmp, "present %s format=XRGB8888 width=%d height=%d pattern=xy"
            % (GVT, W, H))
    q.qmp.cmd("cont")
    time.sleep(1)
    probe = SpiceProbe(PROBE, "spice+unix://" + sock)
    got = probe.wait("scanout")
    time.sleep(1.5)
    probe.send("draws")
    draws = probe.wait("draws")
    path = os.path.join(tmp, "late.ppm")
    probe.send("dump " + path)
    img = read_ppm(path) if probe.wait("dumped") else None
    probe.close()
    ok(got and draws and int(draws.split()[1]) >= 1 and img and
       wrong(img) == 0,
       "%s: a client connecting to a still screen gets the frame drawn "
       "within a second, pixel for pixel" % what, "%s %s" % (got, draws))
    q.stop()


def paint(tmp, uuid, n, seconds):
    """Fill the whole frame with a new colour every 30 ms for @seconds;
    the last colour."""
    end = time.time() + seconds
    while True:
        n += 1
        color = 0x010101 * (n % 200 + 20)
        control(tmp, "rect %s x=0 y=0 w=%d h=%d pattern=0x%06x" %
                (uuid, W, H, color))
        if time.time() > end:
            return n, color
        time.sleep(0.03)


def solid(img, color):
    return img is not None and img[2] == bytes(
        ((color >> 16) & 0xff, (color >> 8) & 0xff, color & 0xff)) * W * H


def test_direct(tmp):
    """Region: while the whole frame changes at every refresh, the console
    is shown the mapping itself; when it calms down, damage again."""
    what = "region (mdpy) changing whole"
    port = rfb.free_port()
    q = Qemu(QEMU, SIMLIB, tmp, MDPY,
             extra=["-spice", "port=%d,disable-ticketing=on" % port])
    show_xy(tmp, MDPY, what)
    s0 = sampling(q, "updates")
    n, color = paint(tmp, MDPY, 0, 1.5)
    s1 = q.stats()
    d = delta(s0, s1)
    ok(d["direct"] >= d["refreshes"] // 2 and d["faults"] == 0,
       "%s: most refreshes show the mapping itself" % what, d)
    img, err = q.dump()
    ok(solid(img, color), "%s: a screendump shows the last frame, exact"
       % what, err)
    # calm: a compare every 8 refreshes finds nothing, the shadow is back
    # (it may be back already: a measure between two paints finds none);
    # sampling() returns only once refreshes report no update at all
    s2 = sampling(q, "updates")
    d = delta(s1, s2) if s2 else None
    ok(s2 and d["direct"] <= 2 * 8 + 2,
       "%s: when it stops, the shadow is shown again within 2 x 8 "
       "refreshes, and sampled" % what, d)
    control(tmp, "rect %s x=70 y=100 w=20 h=20 pattern=0xff0000" % MDPY)
    took = shown(q, s2 or q.stats(), "updates")
    d = delta(s2 or q.stats(), q.stats())
    ok(took and d["damage-pixels"] == 64 * 32 and d["direct"] == 0,
       "%s: then a 20x20 change is one 64x32 damage rectangle again"
       % what, d)
    # a device reset while the mapping is shown
    n, color = paint(tmp, MDPY, n, 0.5)
    s3 = q.stats()
    q.qmp.cmd("system_reset")
    n, color = paint(tmp, MDPY, n, 0.5)
    img, err = q.dump()
    ok(s3["direct"] > s0["direct"] and solid(img, color) and q.alive(),
       "%s: a reset while the mapping is shown, then the frame again, "
       "exact" % what, err)
    err = q.stop()
    other = [line for line in err.splitlines() if line and
             "Could not enable error recovery" not in line and
             "no available reset mechanism" not in line]
    ok(not other, "%s: QEMU printed nothing else" % what, err)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG)
        test_still(tmp, MDPY, "region (mdpy)")
        test_still(tmp, GVT, "gvt read back through GL")
        test_still(tmp, GVT, "gvt x-tiled read back through GL")
        test_still(tmp, MBOCHS_CPU, "mbochs read through a CPU mapping")
        test_gl_every_refresh(tmp)
        test_spice_gl_late(tmp)
        test_direct(tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
