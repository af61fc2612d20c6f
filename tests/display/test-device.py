#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The vfio-pci device's display features on the simulator: display=
# on|auto on a device without display support, the EDID our QEMU writes
# (xres/yres, a UI's resize request over VNC, the link toggled), the
# display-stats property, a device reset dropping scanout and buffers,
# and ramfb (SeaBIOS's vgabios-ramfb) shown until the guest's plane is
# up.  TAP output.
#
# usage: test-device.py SIMLIB QEMU

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import Tap, control, sim_env  # noqa: E402
from display import CONFIG, GVT, MBOCHS, Qemu, present_xy, wrong  # noqa: E402
import rfb  # noqa: E402

SIMLIB, QEMU = sys.argv[1:3]
tap = Tap()
ok = tap.ok

VGABIOS_RAMFB = "/usr/share/seabios/vgabios-ramfb.bin"
NODISPLAY = "dddddddd-0000-4000-8000-0000000000d1"
EXTRA = "%s gvt group=79 fault=probe:EINVAL\n" % NODISPLAY


def edid(tmp, uuid, want_link="up", timeout=5):
    """The device's EDID once its link is @want_link: key=value dict."""
    deadline = time.time() + timeout
    while True:
        rsp = control(tmp, "edid " + uuid)
        d = dict(kv.split("=", 1) for kv in rsp.split()[1:])
        if d.get("link") == want_link or time.time() > deadline:
            return d
        time.sleep(0.05)


def realize(tmp, uuid, props):
    """Start our QEMU with only the device: (exit code or None, stderr)."""
    args = [QEMU, "-M", "q35", "-nodefaults", "-display", "none", "-S",
            "-device", "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,%s"
            % (uuid, props), "-qmp", "stdio"]
    p = subprocess.run(args, env=sim_env(SIMLIB, tmp), input='{"execute": '
                       '"qmp_capabilities"}\n{"execute": "quit"}\n',
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stderr


def test_display_prop(tmp):
    rc, err = realize(tmp, NODISPLAY, "display=on")
    ok(rc == 1 and "display=on, but the device offers neither a dma-buf "
       "nor a region display" in err,
       "display=on on a device without display support: a clear realize "
       "error", err)
    rc, err = realize(tmp, NODISPLAY, "display=auto")
    ok(rc == 0 and "display" not in err,
       "display=auto on a device without display support: realizes, "
       "silently", err)
    rc, err = realize(tmp, GVT, "display=off,xres=1024,yres=768")
    ok(rc == 1 and "xres and yres properties require display=on" in err,
       "xres/yres with display=off: refused", err)
    for dev, props in (("vfio-pci", ("display", "xres", "yres")),
                       ("vfio-pci-nohotplug", ("display", "xres", "yres",
                                               "ramfb", "x-ramfb-migrate"))):
        r = subprocess.run([QEMU, "-device", dev + ",help"],
                           capture_output=True, text=True, timeout=60)
        lines = {line.split()[0].split("=")[0]: line
                 for line in r.stdout.splitlines()[1:] if line.strip()}
        missing = [p for p in props if " - " not in lines.get(p, "")]
        ok(r.returncode == 0 and not missing,
           "-device %s,help describes %s" % (dev, ", ".join(props)),
           "undescribed: %s" % missing)


def test_edid(tmp):
    q = Qemu(QEMU, SIMLIB, tmp, MBOCHS, props="display=on")
    e = edid(tmp, MBOCHS)
    q.stop()
    ok(e.get("valid") == "1" and e.get("link") == "up" and
       e.get("mode") == e.get("max"),
       "edid: without xres/yres the preferred mode is the device's "
       "largest, link up", e)
    q = Qemu(QEMU, SIMLIB, tmp, MBOCHS,
             props="display=on,xres=640,yres=480")
    e = edid(tmp, MBOCHS)
    q.stop()
    ok(e.get("valid") == "1" and e.get("mode") == "640x480",
       "edid: xres=640,yres=480 is the preferred mode", e)
    q = Qemu(QEMU, SIMLIB, tmp, GVT, props="display=on,xres=4000,yres=3000")
    e = edid(tmp, GVT)
    q.stop()
    ok(e.get("valid") == "1" and e.get("mode") == e.get("max"),
       "edid: xres/yres past the device's maximum are clamped to it", e)


def test_edid_resize(tmp):
    """A VNC client asks for another size: new EDID, link down then up."""
    port = rfb.free_port()
    q = Qemu(QEMU, SIMLIB, tmp, GVT,
             extra=["-vnc", "127.0.0.1:%d" % (port - 5900)])
    present_xy(tmp)
    edid(tmp, GVT)
    before = control(tmp, "counters " + GVT)
    c = rfb.Rfb(port)
    c.update()
    c.set_desktop_size(800, 600)
    deadline = time.time() + 5
    e = edid(tmp, GVT)
    while e.get("mode") != "800x600" and time.time() < deadline:
        time.sleep(0.05)
        e = edid(tmp, GVT)
    after = control(tmp, "counters " + GVT)
    c.close()
    q.stop()

    def count(line, name):
        for kv in line.split():
            if kv.startswith(name + "="):
                return int(kv.split("=")[1])
        return 0
    ok(e.get("mode") == "800x600" and e.get("link") == "up" and
       e.get("valid") == "1", "edid: a VNC client's SetDesktopSize "
       "800x600 becomes the preferred mode", e)
    ok(count(after, "gvt-hotplug-down") > count(before, "gvt-hotplug-down")
       and count(after, "gvt-hotplug-up") > count(before, "gvt-hotplug-up"),
       "edid: the link went down and up again for the guest to re-read "
       "it", "%s\n%s" % (before, after))


def test_reset(tmp):
    """system_reset: the scanout goes, the vendor's buffers stay cached
    (it keeps its dma-buf objects), and the guest's planes shown again
    under their ids are not fetched again."""
    q = Qemu(QEMU, SIMLIB, tmp, GVT)
    present_xy(tmp)
    control(tmp, "flip %s pattern=xy" % GVT)
    q.dump()
    control(tmp, "flip " + GVT)
    img, err = q.dump()
    fds = q.fds("memfd:vfio-sim")
    s0 = q.stats()
    q.qmp.cmd("system_reset")
    s1 = q.stats()
    fds_reset = q.fds("memfd:vfio-sim")
    present_xy(tmp)
    img2, err2 = q.dump()
    s2 = q.stats()
    alive = q.alive()
    q.stop()
    ok(img and wrong(img) == 0 and s0["imports"] == 2,
       "reset: two buffers imported before", s0)
    ok(s1["drops"] == s0["drops"] and fds_reset <= fds and alive,
       "reset: system_reset keeps both dma-bufs, no fd more (%d -> %d)"
       % (fds, fds_reset), s1)
    ok(img2 and wrong(img2) == 0 and s2["imports"] == s0["imports"],
       "reset: the guest's plane shown again under its id, not fetched "
       "again", "%s %s" % (s2, err2))


def test_reset_mbochs(tmp, display):
    """mbochs after system_reset: a GET of an id whose fd was closed, or
    is still held by a GL driver, is a kernel bug (the simulator counts
    both): none may happen when the guest sets its mode again."""
    q = Qemu(QEMU, SIMLIB, tmp, MBOCHS, display=display)
    control(tmp, "mode %s width=640 height=480" % MBOCHS)
    control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % MBOCHS)
    q.dump()
    img, err = q.dump()
    q.qmp.cmd("system_reset")
    control(tmp, "mode %s width=640 height=480" % MBOCHS)
    control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % MBOCHS)
    for _ in range(3):
        img2, err2 = q.dump()
    bugs = [control(tmp, "counter %s mbochs-bug-%s" % (MBOCHS, bug))
            for bug in ("second-fd", "reexport")]
    alive = q.alive()
    q.stop()
    ok(alive and img2 and wrong(img2) == 0 and bugs == ["ok 0", "ok 0"],
       "reset (%s): mbochs shown again after system_reset, no kernel "
       "bug triggered" % display, "%s %s" % (bugs, err2))


def test_ramfb(tmp, display):
    """vfio-pci-nohotplug,ramfb=on with SeaBIOS's ramfb VGA BIOS: the
    firmware's text shows in ramfb while the guest has no plane; the
    plane replaces it once up."""
    q = Qemu(QEMU, SIMLIB, tmp, GVT, display=display,
             device="vfio-pci-nohotplug",
             props="display=on,ramfb=on,romfile=%s" % VGABIOS_RAMFB)
    q.qmp.cmd("cont")
    img, colours = None, 0
    deadline = time.time() + 30
    while time.time() < deadline:
        img, err = q.dump()
        colours = len(set(img[2][i:i + 3]
                          for i in range(0, len(img[2]), 3))) if img else 0
        if img and img[:2] == (1024, 768) and colours > 1:
            break
        time.sleep(0.5)
    ok(img and img[:2] == (1024, 768) and colours > 1,
       "ramfb (%s): the firmware draws text into ramfb, 1024x768, shown "
       "while the guest has no plane" % display,
       "%s, %d colours" % (img and img[:2], colours))
    present_xy(tmp)
    time.sleep(0.3)
    img, err = q.dump()
    alive = q.alive()
    err = q.stop()
    ok(img and img[:2] == (640, 480) and wrong(img) == 0 and alive,
       "ramfb (%s): the guest's plane replaces it" % display, err)


# A mount namespace whose /dev has a render node only root may open, and
# QEMU started in it as nobody: what libvirt's qemu user meets on a host
# whose /dev/dri/renderD128 it may not use.  QEMU's build directory ($1)
# is bound at /mnt/qemu: a checkout in root's home (mode 0700) is out of
# nobody's reach, and QEMU loads its GL module from there.
RENDERNODE_NS = """set -e
mount -t tmpfs tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/urandom c 1 9
mkdir /dev/dri
mknod -m 600 /dev/dri/renderD128 c 226 128
mount -t tmpfs -o mode=755 tmpfs /mnt
mkdir /mnt/qemu
mount --bind "$1" /mnt/qemu
shift
export QEMU_MODULE_DIR=/mnt/qemu
exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
"""


def test_rendernode_denied():
    """A render node that exists but cannot be opened: no silent fallback
    to the CPU's renderer, a warning naming it and why."""
    # nobody cannot write the sanitizers' log files: reports to stderr;
    # nor read a suppressions file in root's home: a copy nobody can
    env = dict(os.environ)
    supp = tempfile.NamedTemporaryFile("w", prefix="vfio-supp.")
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        opts = []
        for o in env.get(var, "").split(":"):
            if o.startswith("suppressions="):
                supp.write(open(o.split("=", 1)[1]).read())
                supp.flush()
                os.chmod(supp.name, 0o644)
                o = "suppressions=" + supp.name
            if o and not o.startswith("log_path="):
                opts.append(o)
        if var in env:
            env[var] = ":".join(opts)
    qemu = os.path.abspath(QEMU)
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh",
                        "-c", RENDERNODE_NS, "sh", os.path.dirname(qemu),
                        "/mnt/qemu/" + os.path.basename(qemu), "-M", "none",
                        "-nodefaults", "-display", "egl-headless"],
                       capture_output=True, text=True, timeout=60, env=env)
    supp.close()
    ok(p.returncode != 0 and "warning: egl: render node /dev/dri/renderD128 "
       "cannot be opened: Permission denied" in p.stderr and
       "surfaceless" not in p.stderr and
       "AddressSanitizer" not in p.stderr.replace(
           "ASan doesn't fully support makecontext", "") and
       "runtime error:" not in p.stderr,
       "egl-headless: a render node nobody may open is named with its "
       "errno, no surfaceless fallback", p.stderr)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG + EXTRA)
        test_display_prop(tmp)
        test_edid(tmp)
        test_edid_resize(tmp)
        test_reset(tmp)
        test_reset_mbochs(tmp, "none")
        test_reset_mbochs(tmp, "egl-headless")
        test_ramfb(tmp, "none")
        test_ramfb(tmp, "egl-headless")
    test_rendernode_denied()
    return tap.done()


sys.exit(main())
