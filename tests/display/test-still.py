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
# And a GL display without a GPU (egl-headless on llvmpipe), which renders
# and reads back the whole frame for every update it is sent: on a still
# screen it is sent none (display-stats "gl-updates").
# SPICE without a client, and egl-headless, refresh 33 times a second.
# TAP output.
#
# usage: test-still.py SIMLIB QEMU [SPICE-PROBE]

import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import Tap, control, until  # noqa: E402
from display import (CONFIG, GVT, MBOCHS_CPU, MDPY, Qemu,  # noqa: E402
                     delta, wrong)
import rfb  # noqa: E402

SIMLIB, QEMU = sys.argv[1:3]
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


def shown(q, s0, key, timeout=3):
    """Wait for an update (counter @key) after stats @s0: (refreshes,
    seconds) it took, or None."""
    t0 = time.time()
    s = until(lambda: (lambda st: st[key] > s0[key] and st)(
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


def test_still(tmp, uuid, what, gl=False):
    port = rfb.free_port()
    key = "gl-updates" if gl else "updates"
    if gl:
        q = Qemu(QEMU, SIMLIB, tmp, uuid, display="egl-headless")
    else:
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
    control(tmp, "rect %s x=300 y=200 w=100 h=100 pattern=0xff0000" % uuid)
    took = shown(q, s1, key)
    ok(took and took[0] <= 3,
       "%s: a 100x100 change shows at the next refresh" % what, took)

    # one row: within the step's refreshes or a full compare's second
    s2 = sampling(q, key)
    control(tmp, "rect %s x=10 y=7 w=4 h=1 pattern=0x00ff00" % uuid)
    took = shown(q, s2 or q.stats(), key)
    ok(s2 and took and took[0] <= STEP + 2,
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
    # vfio-pci's own two warnings for any mdev (the simulator's too), and
    # egl-headless's note that it renders with llvmpipe (patch 0003)
    other = [line for line in err.splitlines() if line and
             "Could not enable error recovery" not in line and
             "no available reset mechanism" not in line and
             "no drm render node" not in line]
    ok(not other, "%s: QEMU printed nothing else" % what, err)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG)
        test_still(tmp, MDPY, "region (mdpy)")
        test_still(tmp, GVT, "gvt read back through GL")
        test_still(tmp, GVT, "gvt x-tiled read back through GL")
        test_still(tmp, MBOCHS_CPU, "mbochs read through a CPU mapping")
        test_still(tmp, GVT, "gvt on egl-headless", gl=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
