#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Slow and hung vendor drivers: the display asks the vendor from a thread
# of its own, so QMP keeps answering while a VNC client asks for frames
# and the vendor takes a second, or never answers; the last frame stays,
# one warning says so and one line when the vendor answers again; a reset,
# quit and SIGTERM complete while a call is blocked.  TAP output.
#
# usage: test-stall.py SIMLIB QEMU [PROBE]

import os
import signal
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import Tap, control, until  # noqa: E402
from display import CONFIG, GVT, Qemu, present_xy, wrong  # noqa: E402
import rfb  # noqa: E402

SIMLIB, QEMU = sys.argv[1:3]
NVIDIA = "dddddddd-0000-4000-8000-0000000000d1"
# what QMP may take while the vendor stalls (a refresh waits 15 ms; the
# rest is this machine, the sanitizers and the VNC encoder)
QMP_DEADLINE = 0.25
DEVICE = "memfd:vfio-sim-device"     # the simulator's device files
# quit and SIGTERM with a call blocked: 1 s, more under the sanitizers
EXIT_DEADLINE = 3.0 if "ASAN_OPTIONS" in os.environ else 1.0
tap = Tap()
ok = tap.ok


class Viewer(threading.Thread):
    """A VNC client asking for frames all the time; counts updates."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.client = rfb.Rfb(port)
        self.lock = threading.Lock()
        self.updates = 0
        self.stopped = False

    def run(self):
        try:
            while not self.stopped:
                with self.lock:
                    self.client.request(1)
                self.client.read_update()
                self.updates += 1
        except OSError:
            pass

    def resize(self, width, height):
        """SetDesktopSize: the EDID's preferred mode."""
        with self.lock:
            self.client.set_desktop_size(width, height)

    def stop(self):
        self.stopped = True
        self.client.close()


def files(q):
    """QEMU's fds on files: sockets left out, since the simulator's control
    server closes a connection only when its thread sees the client go."""
    return q.fds() - q.fds("socket:")


def round_trips(q, seconds, period=0.02):
    """QMP query-status round trips over @seconds, in seconds."""
    rtt = []
    end = time.time() + seconds
    while time.time() < end:
        t = time.time()
        q.qmp.cmd("query-status")
        rtt.append(time.time() - t)
        time.sleep(period)
    return rtt


def rtt_text(rtt):
    s = sorted(rtt)
    return "p50 %.1f ms, max %.1f ms over %d" % (
        s[len(s) // 2] * 1000, s[-1] * 1000, len(s))


def start(tmp, uuid, extra=(), props="display=on", before=()):
    port = rfb.free_port()
    q = Qemu(QEMU, SIMLIB, tmp, uuid, props=props, before=before,
             extra=["-vnc", "127.0.0.1:%d" % (port - 5900)] + list(extra))
    return q, Viewer(port)


def shows(q, w=640, h=480):
    """The screendump is the xy pattern at @w x @h."""
    img, _ = q.dump()
    return img and img[:2] == (w, h) and wrong(img) == 0


def test_slow(tmp):
    """A vendor that takes a second for every plane query."""
    q, viewer = start(tmp, GVT)
    present_xy(tmp)
    viewer.start()
    first = until(lambda: shows(q), 10, 0.2)
    control(tmp, "stall %s query:1000" % GVT)
    rtt = round_trips(q, 4)
    present_xy(tmp, 800, 600)
    shown = until(lambda: shows(q, 800, 600), 10, 0.2)
    stats = q.stats()
    viewer.stop()
    err = q.stop()
    ok(first and max(rtt) < QMP_DEADLINE,
       "slow vendor (1 s a query, gvt, VNC): QMP answers within %d ms (%s)"
       % (QMP_DEADLINE * 1000, rtt_text(rtt)))
    ok(shown, "slow vendor: a new mode still shows, when the vendor says")
    ok(stats["slow-calls"] > 0 and stats["longest-wait-ms"] >= 1000,
       "slow vendor: display-stats count slow calls (%d) and the longest "
       "wait (%d ms)" % (stats["slow-calls"], stats["longest-wait-ms"]))
    ok(err.count("has not answered") == 1 and err.count("answered") == 2,
       "slow vendor: one warning and one line when it answers, not one a "
       "call", err)


def test_hang(tmp):
    """A vendor that never answers, until released; a reset meanwhile."""
    q, viewer = start(tmp, GVT)
    present_xy(tmp)
    viewer.start()
    until(lambda: shows(q), 10, 0.2)
    fds = files(q)
    control(tmp, "stall %s query/primary:hang" % GVT)
    rtt = round_trips(q, 2.5)
    still = shows(q)
    stats = q.stats()
    hung = control(tmp, "hung " + GVT)
    t = time.time()
    reset = "return" in q.qmp.cmd("system_reset")
    reset_s = time.time() - t
    rtt += round_trips(q, 1)
    control(tmp, "release " + GVT)
    present_xy(tmp)         # the reset turned gvt's planes off
    again = until(lambda: shows(q), 10, 0.2)
    time.sleep(0.5)
    fds_after = files(q)
    present_xy(tmp, 800, 600)
    shown = until(lambda: shows(q, 800, 600), 10, 0.2)
    viewer.stop()
    err = q.stop()
    ok(hung == "ok 1" and max(rtt) < QMP_DEADLINE,
       "hung vendor (gvt, VNC): QMP answers within %d ms (%s)"
       % (QMP_DEADLINE * 1000, rtt_text(rtt)), hung)
    ok(still and stats["longest-wait-ms"] >= 2000,
       "hung vendor: the last frame stays; display-stats see the wait "
       "(%d ms)" % stats["longest-wait-ms"])
    ok(reset and reset_s < QMP_DEADLINE,
       "hung vendor: system_reset completes (%.0f ms)" % (reset_s * 1000))
    ok(again and shown, "hung vendor: released, the frame and then a new "
       "mode show")
    ok(err.count("has not answered") == 1 and
       "answered QUERY_GFX_PLANE (primary) after" in err,
       "hung vendor: one warning, one line when it answers again", err)
    ok(fds_after <= fds, "hung vendor: no fd leaked over the hang and the "
       "reset (%d, then %d)" % (fds, fds_after))


def test_exit(tmp, how):
    """quit or SIGTERM while a call is blocked in the vendor."""
    q, viewer = start(tmp, GVT)
    present_xy(tmp)
    viewer.start()
    until(lambda: shows(q), 10, 0.2)
    control(tmp, "stall %s query:hang" % GVT)
    until(lambda: control(tmp, "hung " + GVT) == "ok 1", 5, 0.1)
    t = time.time()
    if how == "quit":
        q.qmp.file.write('{"execute": "quit"}\n')
        q.qmp.file.flush()
    else:
        q.proc.send_signal(signal.SIGTERM)
    try:
        q.proc.wait(10)
    except Exception:
        pass
    took = time.time() - t
    viewer.stop()
    err = q.stop()
    ok(q.proc.returncode == 0 and took < EXIT_DEADLINE,
       "%s with a call blocked: QEMU exits in %.2f s (status %s)"
       % (how, took, q.proc.returncode), err)


def test_get_hang(tmp):
    """GET_GFX_DMABUF hangs on a flip: QMP answers, the frame stays."""
    q, viewer = start(tmp, GVT)
    present_xy(tmp)
    viewer.start()
    until(lambda: shows(q), 10, 0.2)
    control(tmp, "stall %s get:hang" % GVT)
    control(tmp, "present %s format=XRGB8888 width=640 height=480 "
            "buffer=1 pattern=0xff00ff00" % GVT)
    rtt = round_trips(q, 2)
    still = shows(q)
    control(tmp, "release " + GVT)
    img = until(lambda: (lambda i: i and i[2][:3] == b"\x00\xff\x00" and
                         i)(q.dump()[0]), 10, 0.2)
    viewer.stop()
    err = q.stop()
    ok(max(rtt) < QMP_DEADLINE and still,
       "hung GET on a flip: QMP answers (%s), the last frame stays"
       % rtt_text(rtt))
    ok(img and q.proc.returncode == 0,
       "hung GET: released, the flipped buffer shows", err)


def test_nvidia(tmp):
    """nvidia-vgpu-mgr hung: the driver times the query out after 8 s."""
    q, viewer = start(tmp, NVIDIA)
    control(tmp, "mode %s width=640 height=480 depth=32 pattern=xy" % NVIDIA)
    viewer.start()
    first = until(lambda: shows(q), 10, 0.2)
    control(tmp, "manager %s answer=never" % NVIDIA)
    # two timeouts in a row (8 s each) make a fault: the first is patience
    rtt = round_trips(q, 18)
    still = shows(q)
    stats = q.stats()
    control(tmp, "manager %s answer=now" % NVIDIA)
    control(tmp, "mode %s width=800 height=600 depth=32 pattern=xy"
            % NVIDIA)
    shown = until(lambda: shows(q, 800, 600), 20, 0.2)
    viewer.stop()
    err = q.stop()
    ok(first and max(rtt) < QMP_DEADLINE and still,
       "nvidia, manager hung: QMP answers (%s), the last frame stays"
       % rtt_text(rtt))
    ok(stats["faults"] > 0 and "Connection timed out" in err,
       "nvidia: the driver's -ETIMEDOUT after 8 s is a fault, reported",
       err)
    ok(shown, "nvidia: the manager answers again, the new mode shows")


def edid(tmp, uuid):
    """The simulated device's EDID state: key=value dict."""
    return dict(kv.split("=", 1)
                for kv in control(tmp, "edid " + uuid).split()[1:])


def counter(tmp, uuid, name):
    for kv in control(tmp, "counters " + uuid).split():
        if kv.startswith(name + "="):
            return int(kv.split("=")[1])
    return 0


def test_edid_hang(tmp):
    """A VNC client resizes while the vendor sits on an EDID write: the
    UI and QMP go on, and once it answers the newest size is the one the
    guest is told of; a size asked meanwhile and overtaken is never
    written."""
    q, viewer = start(tmp, GVT)
    present_xy(tmp)
    viewer.start()
    first = until(lambda: shows(q) and edid(tmp, GVT).get("link") == "up",
                  10, 0.2)
    down = counter(tmp, GVT, "gvt-hotplug-down")
    up = counter(tmp, GVT, "gvt-hotplug-up")
    control(tmp, "stall %s rw/10:hang:1" % GVT)      # gvt's EDID region
    viewer.resize(800, 600)
    hung = until(lambda: control(tmp, "hung " + GVT) == "ok 1", 5, 0.05)
    rtt = round_trips(q, 0.5)
    viewer.resize(1024, 768)
    rtt += round_trips(q, 0.5)
    viewer.resize(1280, 1024)
    rtt += round_trips(q, 1.5)
    still = shows(q)
    stats = q.stats()
    control(tmp, "release " + GVT)
    told = until(lambda: edid(tmp, GVT).get("mode") == "1280x1024" and
                 edid(tmp, GVT).get("link") == "up", 10, 0.1)
    e = edid(tmp, GVT)
    downs = counter(tmp, GVT, "gvt-hotplug-down") - down
    ups = counter(tmp, GVT, "gvt-hotplug-up") - up
    present_xy(tmp, 1280, 1024)
    shown = until(lambda: shows(q, 1280, 1024), 10, 0.2)
    viewer.stop()
    err = q.stop()
    ok(first and hung and max(rtt) < QMP_DEADLINE and still,
       "EDID write hung (gvt, VNC resizes): QMP answers (%s), the last "
       "frame stays" % rtt_text(rtt), err)
    ok(stats["longest-wait-ms"] >= 2000,
       "EDID write hung: display-stats see the wait (%d ms)"
       % stats["longest-wait-ms"])
    ok(told and e.get("valid") == "1" and downs == 2 and ups == 1,
       "EDID write hung: released, the newest size is the guest's EDID; "
       "the one it overtook never went out (link down %d, up %d)"
       % (downs, ups), e)
    ok(shown, "EDID write hung: the guest's new mode shows")
    ok(err.count("has not answered the EDID region's writes") == 1 and
       err.count("answered the EDID region's writes after") == 1,
       "EDID write hung: one warning, one line when it answers", err)


def test_unplug(tmp, guest):
    """device_del of vfio-pci on a PCIe root port while a call hangs: the
    busybox guest's pciehp takes it out; the thread keeps its duplicate
    of the device fd until the call returns, then nothing is left."""
    serial = os.path.join(tmp, "serial.log")
    q, viewer = start(tmp, GVT, [
        "-m", "512", "-serial", "file:" + serial,
        "-kernel", os.path.join(guest, "vmlinuz"),
        "-initrd", os.path.join(guest, "initrd.gz"),
        "-append", "console=ttyS0 panic=-1"],
        props="display=on,bus=rp1",
        before=["-device", "pcie-root-port,id=rp1,chassis=1,slot=1"])
    present_xy(tmp)
    q.qmp.cmd("cont")
    booted = until(lambda: "guest: booted" in open(serial).read(), 300, 0.5)
    viewer.start()
    until(lambda: shows(q), 10, 0.2)
    fds = q.fds(DEVICE)
    control(tmp, "stall %s query:hang" % GVT)
    until(lambda: control(tmp, "hung " + GVT) == "ok 1", 5, 0.1)
    q.qmp.cmd("device_del", id="vgpu")
    rtt = []
    end = time.time() + 60
    gone = False
    while time.time() < end and not gone:
        rtt += round_trips(q, 0.5)
        gone = "error" in q.qmp.cmd("qom-get",
                                    path="/machine/peripheral/vgpu",
                                    property="type")
    # the mdev's removal waits for its last fd: the blocked call's
    held = control(tmp, "unplug " + GVT)
    fds_hung = q.fds(DEVICE)
    control(tmp, "release " + GVT)
    removed = until(lambda: (GVT + ":gvt:removed") in
                    control(tmp, "devices"), 10, 0.2)
    fds_after = q.fds(DEVICE)
    viewer.stop()
    err = q.stop()
    ok(booted and gone and max(rtt) < QMP_DEADLINE,
       "unplug with a call blocked: device_del completes, QMP answers "
       "(%s)" % rtt_text(rtt), err)
    ok(held == "ok pending" and removed and fds == 2 and fds_hung == 1 and
       fds_after == 0,
       "unplug: the blocked call holds the device until it returns; then "
       "its fd goes (device fds: %d before, %d unplugged, %d released)"
       % (fds, fds_hung, fds_after), held)
    ok(q.proc.returncode == 0, "unplug: QEMU quits cleanly", err)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG + "%s nvidia group=75\n" % NVIDIA)
        test_slow(tmp)
        test_hang(tmp)
        test_get_hang(tmp)
        test_exit(tmp, "quit")
        test_exit(tmp, "sigterm")
        test_nvidia(tmp)
        test_edid_hang(tmp)
        # the busybox guest of tests/guest, beside the probe's build dir
        guest = os.path.join(os.path.dirname(os.path.dirname(
            os.path.abspath(sys.argv[3]))), "guest") if len(sys.argv) > 3 \
            else ""
        if ok(os.path.exists(os.path.join(guest, "vmlinuz")),
              "unplug: the busybox guest is built (%s)" % guest):
            test_unplug(tmp, guest)
    return tap.done()


sys.exit(main())
