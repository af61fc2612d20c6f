#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The cases of the kernel test (tests/kernel/README.md), run where the
# vGPUs are: inside the test's guest, on the kernel's own mbochs and mdpy
# (MODE kernel), or on this machine with the simulator preloaded (MODE
# sim).  Our QEMU realizes vfio-pci,display=on on each mdev under the
# qtest accelerator: no guest OS, the test itself programs the device
# through qtest (PCI config, BAR writes) and looks at QMP screendumps,
# the display-stats counters and QEMU's messages.  Prints what it
# observed, one "obs CASE KEY VALUE" line each, for test-kernel.py to
# check and to compare between the kernel and the simulator.  The sysfs
# case reads the mdevs' sysfs: the kernel's /sys, or the simulator's tree
# that our preloaded QEMU made.
#
# usage: cases.py kernel|sim QEMU SIMLIB|- [CASE...]

import base64
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "vfio-sim"))
from simtap import Qmp, connect_unix, read_ppm, xy_frame  # noqa: E402

MODE, QEMU, SIMLIB = (sys.argv[1:4] + ["-"])[:3]
CASES = sys.argv[4:]
# one mdev a case: the kernel keeps a device's state (mbochs's mode)
# from one QEMU to the next, the simulator's devices live in the process
MBOCHS = "6b0c5000-0000-4000-8000-000000000001"
MBOCHS2 = "6b0c5000-0000-4000-8000-000000000003"
MDPY = "6d0d0000-0000-4000-8000-000000000002"
SLOT = 4                        # the device's slot on pcie.0
BAR0, BAR2 = 0xc0000000, 0xd0000000


def obs(case, key, value):
    print("obs %s %s %s" % (case, key, value), flush=True)


def note(msg):
    print("# " + msg, flush=True)


def create_mdevs():
    """The kernel's mdevs, as a user creates them (sysfs)."""
    for parent, kind, uuid in (("mbochs", "mbochs-medium", MBOCHS),
                               ("mbochs", "mbochs-medium", MBOCHS2),
                               ("mdpy", "mdpy-xga", MDPY)):
        types = "/sys/class/mdev_bus/%s/mdev_supported_types" % parent
        try:
            names = sorted(os.listdir(types))
        except OSError as e:
            note("no %s: %s" % (types, e))
            continue
        if kind not in names:
            note("%s has types %s, not %s" % (parent, names, kind))
            continue
        if not os.path.exists("/sys/bus/mdev/devices/" + uuid):
            with open(os.path.join(types, kind, "create"), "w") as f:
                f.write(uuid)
        note("created %s mdev %s" % (kind, uuid))


class QTest:
    """The qtest protocol (docs/devel/testing/qtest.rst), as text lines."""

    def __init__(self, path, timeout=30):
        self.sock = connect_unix(path, timeout)
        self.file = self.sock.makefile("rw")

    def cmd(self, line):
        self.file.write(line + "\n")
        self.file.flush()
        while True:
            rsp = self.file.readline()
            if not rsp:
                raise EOFError("qtest: QEMU went away")
            if rsp.startswith("OK") or rsp.startswith("FAIL"):
                return rsp.strip()

    def value(self, line):
        return int(self.cmd(line).split()[1], 16)

    def cfg_addr(self, reg):
        return 0x80000000 | SLOT << 11 | (reg & 0xfc)

    def cfg_read(self, reg):
        self.cmd("outl 0xcf8 0x%x" % self.cfg_addr(reg))
        return self.value("inl 0xcfc")

    def cfg_write(self, reg, val):
        self.cmd("outl 0xcf8 0x%x" % self.cfg_addr(reg))
        self.cmd("outl 0xcfc 0x%x" % val)

    def write(self, addr, data):
        for i in range(0, len(data), 1 << 20):
            chunk = data[i:i + (1 << 20)]
            self.cmd("b64write 0x%x 0x%x %s" % (
                addr + i, len(chunk), base64.b64encode(chunk).decode()))


class Vm:
    """Our QEMU under the qtest accelerator with one display device."""

    def __init__(self, tmp, uuid, display="none"):
        self.tmp = tmp
        self.errpath = os.path.join(tmp, "qemu.err")
        env = dict(os.environ)
        if MODE == "sim":
            with open(os.path.join(tmp, "config"), "w") as f:
                f.write("%s mbochs type=medium group=71\n"
                        "%s mbochs type=medium group=73\n"
                        "%s mdpy type=xga group=72\n" % (MBOCHS, MBOCHS2,
                                                         MDPY))
            env.update(LD_PRELOAD=SIMLIB,
                       VFIO_SIM_CONFIG=os.path.join(tmp, "config"),
                       VFIO_SIM_DIR=os.path.join(tmp, "root"),
                       VFIO_SIM_CONTROL=os.path.join(tmp, "control"),
                       # no GPU: llvmpipe needs a CPU mapping, as here
                       VFIO_SIM_GPU="none")
        qtest = os.path.join(tmp, "qtest.sock")
        qmp = os.path.join(tmp, "qmp.sock")
        for p in (qtest, qmp):
            if os.path.exists(p):
                os.unlink(p)
        self.proc = subprocess.Popen(
            [QEMU, "-M", "q35", "-accel", "qtest", "-m", "256",
             "-nodefaults", "-display", display,
             "-qtest", "unix:%s,server=on,wait=off" % qtest,
             "-qtest-log", "/dev/null",
             "-qmp", "unix:%s,server=on,wait=off" % qmp,
             "-device", "vfio-pci,id=vgpu,bus=pcie.0,addr=%d.0,"
             "sysfsdev=/sys/bus/mdev/devices/%s,display=on" % (SLOT, uuid)],
            env=env, stdout=subprocess.DEVNULL,
            stderr=open(self.errpath, "w"))
        try:
            self.qmp = Qmp(qmp, timeout=180)
            self.qt = QTest(qtest, timeout=60)
        except (OSError, ValueError, EOFError):
            self.qmp = self.qt = None
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def err(self):
        try:
            return open(self.errpath, errors="replace").read()
        except OSError:
            return ""

    def bars(self, bar2=False):
        """BAR0 (and BAR2) placed, memory decoding on."""
        self.qt.cfg_write(0x10, BAR0)
        if bar2:
            self.qt.cfg_write(0x18, BAR2)
        self.qt.cfg_write(0x04, self.qt.cfg_read(0x04) | 0x2)

    def stats(self):
        return self.qmp.cmd("qom-get", path="/machine/peripheral/vgpu",
                            property="display-stats").get("return", {})

    def dump(self, name):
        """A QMP screendump: (width, height, rgb) or None, and the error."""
        path = os.path.join(self.tmp, name + ".ppm")
        try:
            rsp = self.qmp.cmd("screendump", filename=path)
        except (EOFError, OSError):
            self.proc.wait()
            return None, "QEMU died (status %d): %s" % (
                self.proc.returncode, self.err()[-3000:])
        if "error" in rsp:
            return None, rsp["error"].get("desc", "")
        return read_ppm(path), ""

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def stop(self):
        if self.proc.poll() is None and self.qmp:
            self.qmp.cmd("quit")
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode


def messages(err):
    """QEMU's messages, without the timestamps and the device prefix."""
    return [re.sub(r"^qemu-system-x86_64: ", "", line)
            for line in err.splitlines() if line.strip()]


def case_mdpy(tmp):
    case = "mdpy"
    vm = Vm(tmp, MDPY)
    obs(case, "realized", int(vm.qt is not None))
    if not vm.qt:
        note(vm.err())
        return
    vm.bars()
    img, err = vm.dump("reset")
    obs(case, "reset-size", "%dx%d" % img[:2] if img else err)
    # mdpy_reset: row i of the framebuffer is gray i * 255 / height
    if img:
        w, h, pix = img
        bad = sum(1 for y in range(h)
                  if pix[y * w * 3:(y + 1) * w * 3] !=
                  bytes([y * 255 // h]) * (w * 3))
        obs(case, "reset-gradient-rows-wrong", bad)
    # the xy pattern into the top 64 rows of BAR0 (XRGB8888, stride w*4)
    w, rows = 1024, 64
    want = xy_frame(w, rows)
    fb = bytearray(w * rows * 4)        # B G R x
    for c in range(3):
        fb[2 - c::4] = want[c::3]
    vm.qt.write(BAR0, bytes(fb))
    img, err = vm.dump("xy")
    if img:
        iw, ih, pix = img
        got = pix[:rows * iw * 3]
        obs(case, "xy-rows-shown", int(got == want))
        y = rows
        obs(case, "below-kept-gradient",
            int(pix[y * iw * 3:(y + 1) * iw * 3] ==
                bytes([y * 255 // ih]) * (iw * 3)))
    st = vm.stats()
    obs(case, "imports", st.get("imports"))
    obs(case, "faults", st.get("faults"))
    obs(case, "bytes-copied-positive", int(st.get("bytes-copied", 0) > 0))
    obs(case, "messages", len(messages(vm.err())))
    note("mdpy stats %s" % st)
    obs(case, "exit", vm.stop())
    for m in messages(vm.err()):
        note("qemu: " + m)


def dispi(vm, index, value):
    vm.qt.cmd("writew 0x%x 0x%x" % (BAR2 + 0x500 + index * 2, value))


def set_mode(vm, w, h):
    dispi(vm, 4, 0)                     # ENABLE off
    dispi(vm, 1, w)                     # XRES
    dispi(vm, 2, h)                     # YRES
    dispi(vm, 3, 32)                    # BPP
    dispi(vm, 6, w)                     # VIRT_WIDTH
    dispi(vm, 8, 0)                     # X_OFFSET
    dispi(vm, 9, 0)                     # Y_OFFSET
    dispi(vm, 4, 0x41)                  # ENABLE | LFB


def case_mbochs(tmp, display, uuid):
    case = "mbochs-" + display
    vm = Vm(tmp, uuid, display)
    obs(case, "realized", int(vm.qt is not None))
    if not vm.qt:
        note(vm.err())
        return
    vm.bars(bar2=True)
    obs(case, "dispi-id", "0x%x" % int(vm.qt.cmd(
        "readw 0x%x" % (BAR2 + 0x500)).split()[1], 16))
    img, err = vm.dump("nomode")
    st = vm.stats()
    obs(case, "nomode-imports", st.get("imports"))
    modes = ((640, 480), (800, 600), (1024, 768))
    for i, (w, h) in enumerate(modes):
        set_mode(vm, w, h)
        vm.qt.write(BAR0, bytes((0x40, 0x80, 0xc0, 0)) * (w * 4))
        for n in range(5):
            img, err = vm.dump("mode%d-%d" % (i, n))
        st = vm.stats()
        obs(case, "mode%d-imports" % i, st.get("imports"))
        obs(case, "mode%d-shown" % i,
            "%dx%d" % img[:2] if img else "error")
        note("%s %dx%d: stats %s, screendump %s" %
             (case, w, h, st, "%dx%d" % img[:2] if img else err))
    # the same mode, many refreshes: nothing more held, nothing leaked
    fds0 = vm.fds()
    for n in range(20):
        vm.dump("again%d" % n)
    obs(case, "fds-grew", int(vm.fds() > fds0))
    msgs = messages(vm.err())
    obs(case, "messages", len(msgs))
    why = [m for m in msgs if "cannot be shown without a GPU" in m]
    obs(case, "says-why", len(why))
    obs(case, "exit", vm.stop())
    for m in messages(vm.err()):
        note("qemu: " + m)


class Sysfs:
    """The real /sys (kernel), or the simulator's tree under its root that
    our preloaded QEMU made (sim): the same paths, rebased."""

    def __init__(self, root):
        self.root = os.path.realpath(root) if root else ""

    def path(self, p):
        return self.root + p

    def readlink(self, p):
        try:
            return os.readlink(self.path(p))
        except OSError as e:
            return "error %s" % e.strerror

    def realpath(self, p):
        r = os.path.realpath(self.path(p))
        return r[len(self.root):] if r.startswith(self.root + "/") else r

    def read(self, p):
        try:
            with open(self.path(p), "rb") as f:
                return repr(f.read().decode(errors="replace"))
        except OSError as e:
            return "error %s" % e.strerror

    def ls(self, p):
        try:
            return ",".join(sorted(os.listdir(self.path(p)))) or "-"
        except OSError as e:
            return "error %s" % e.strerror

    def mode(self, p):
        try:
            return "%o" % (os.lstat(self.path(p)).st_mode & 0o7777)
        except OSError as e:
            return "error %s" % e.strerror


def case_sysfs(tmp):
    """The mdevs' sysfs: what libvirt reads (mdev_type/device_api, the
    iommu_group link) and the rest of the layout, link for link."""
    case = "sysfs"
    root = None
    if MODE == "sim":
        # the tree the earlier cases' QEMU made; alone, one QEMU makes it
        root = os.path.join(tmp, "root")
        if not os.path.isdir(os.path.join(root, "sys/bus/mdev/devices",
                                          MDPY)):
            vm = Vm(tmp, MDPY)
            note("sysfs: the tree made by a QEMU (exit %s)" % vm.stop())
    fs = Sysfs(root)
    obs(case, "mdev-bus", fs.ls("/sys/class/mdev_bus"))
    for kind, parent, uuid in (("mbochs-medium", "mbochs", MBOCHS),
                               ("mdpy-xga", "mdpy", MDPY)):
        bus = "/sys/bus/mdev/devices/" + uuid
        pdir = "/sys/class/mdev_bus/" + parent
        dev = fs.realpath(bus)
        group = fs.realpath(bus + "/iommu_group")
        gnum = re.sub(r"^/sys/kernel/iommu_groups/[0-9]+$", "N", group)
        key = parent + "-"
        obs(case, key + "bus-link", fs.readlink(bus))
        obs(case, key + "device", dev)
        obs(case, key + "device-files", fs.ls(bus))
        obs(case, key + "uevent", fs.read(bus + "/uevent"))
        obs(case, key + "remove-mode", fs.mode(bus + "/remove"))
        obs(case, key + "subsystem", fs.readlink(bus + "/subsystem"))
        obs(case, key + "subsystem-is", fs.realpath(bus + "/subsystem"))
        obs(case, key + "driver", fs.readlink(bus + "/driver"))
        obs(case, key + "driver-links-back", int(
            fs.realpath("%s/driver/%s" % (bus, uuid)) == dev))
        obs(case, key + "vendor", fs.ls(bus + "/vendor"))
        for f in fs.ls(bus + "/vendor").split(","):
            obs(case, key + "vendor-" + f, fs.read(bus + "/vendor/" + f))
        obs(case, key + "vfio-dev", fs.ls(bus + "/vfio-dev"))
        # group numbers differ: the link up to it, and that it is one
        obs(case, key + "iommu-group-link", re.sub(
            r"/[0-9]+$", "/N", fs.readlink(bus + "/iommu_group")))
        obs(case, key + "iommu-group-is", gnum)
        obs(case, key + "iommu-group-files", fs.ls(group))
        obs(case, key + "iommu-group-name", fs.read(group + "/name"))
        obs(case, key + "iommu-group-device", fs.readlink(
            "%s/devices/%s" % (group, uuid)))
        obs(case, key + "mdev-type", fs.readlink(bus + "/mdev_type"))
        obs(case, key + "mdev-type-is", fs.realpath(bus + "/mdev_type"))
        obs(case, key + "device-api", fs.read(bus + "/mdev_type/device_api"))
        obs(case, key + "class-link", fs.readlink(pdir))
        obs(case, key + "class-is", fs.realpath(pdir))
        types = pdir + "/mdev_supported_types"
        obs(case, key + "types", fs.ls(types))
        for t in fs.ls(types).split(","):
            tdir = "%s/%s" % (types, t)
            for f in ("name", "device_api", "available_instances",
                      "description"):
                obs(case, "%s-%s" % (t, f), fs.read(tdir + "/" + f))
            obs(case, t + "-create-mode", fs.mode(tdir + "/create"))
        tdir = "%s/%s" % (types, kind)
        obs(case, kind + "-files", fs.ls(tdir))
        obs(case, kind + "-device-link", fs.readlink(
            "%s/devices/%s" % (tdir, uuid)))
        obs(case, kind + "-device-is-the-mdev", int(
            fs.realpath("%s/devices/%s" % (tdir, uuid)) == dev))


def main():
    if MODE == "kernel":
        create_mdevs()
    cases = {"mdpy": case_mdpy,
             "mbochs-none": lambda t: case_mbochs(t, "none", MBOCHS),
             "mbochs-egl-headless": lambda t: case_mbochs(t, "egl-headless",
                                                          MBOCHS2),
             "sysfs": case_sysfs}
    with tempfile.TemporaryDirectory() as tmp:
        for name in CASES or cases:
            cases[name](tmp)
    print("done", flush=True)


main()
