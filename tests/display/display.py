# SPDX-License-Identifier: GPL-2.0-or-later
#
# What the display tests share: the simulated devices they use, our QEMU
# started on one of them, and pixel checks against the simulator's xy
# pattern.

import os
import subprocess

from simtap import Qmp, control, qemu_stop, read_ppm, sim_env, xy_wrong

GVT = "cccccccc-0000-4000-8000-0000000000c1"
MBOCHS = "bbbbbbbb-0000-4000-8000-0000000000b1"
MBOCHS_CPU = "bbbbbbbb-0000-4000-8000-0000000000b2"
MDPY = "aaaaaaaa-0000-4000-8000-0000000000a1"
CONFIG = """%s gvt group=71
%s mbochs type=small group=72
%s mbochs type=small group=73 dmabuf-cpu-mmap=allow
%s mdpy type=vga group=74
""" % (GVT, MBOCHS, MBOCHS_CPU, MDPY)

# bits of each channel a format keeps (8-bit compare masks)
MASKS = {"RGB565": (0xf8, 0xfc, 0xf8)}


class Qemu:
    """Our QEMU on simulated device @uuid (id "vgpu"), stopped (-S)."""

    def __init__(self, qemu, simlib, tmp, uuid, display="none",
                 device="vfio-pci", props="display=on", extra=(), env=None,
                 before=()):
        """@before: arguments before the device's (a bus it plugs into)."""
        self.tmp = tmp
        args = [qemu, "-M", "q35", "-nodefaults", "-display", display, "-S",
                "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % tmp] + \
            list(before) + [
                "-device", "%s,sysfsdev=/sys/bus/mdev/devices/%s,%s,id=vgpu"
                % (device, uuid, props)] + list(extra)
        e = sim_env(simlib, tmp)
        e["VFIO_SIM_KERNEL_BUGS"] = "count"
        e.update(env or {})
        self.proc = subprocess.Popen(args, env=e, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.qmp = Qmp(os.path.join(tmp, "qmp.sock"))
        self.n = 0

    def dump(self):
        """(width, height, pixels) of a screendump, or None with the error."""
        self.n += 1
        path = os.path.join(self.tmp, "dump%d.ppm" % self.n)
        rsp = self.qmp.cmd("screendump", filename=path)
        if "error" in rsp:
            return None, rsp["error"]["desc"]
        return read_ppm(path), ""

    def stats(self):
        """The device's display-stats counters."""
        return self.qmp.cmd("qom-get", path="/machine/peripheral/vgpu",
                            property="display-stats")["return"]

    def fds(self, target=""):
        """How many fds the QEMU process holds (on a file whose name has
        @target: "memfd:vfio-sim" for the simulator's memory and the
        dma-bufs it exports)."""
        d = "/proc/%d/fd" % self.proc.pid
        n = 0
        for f in os.listdir(d):
            try:
                n += target in os.readlink(os.path.join(d, f))
            except OSError:
                pass
        return n

    def alive(self):
        """QEMU still answers QMP."""
        return "return" in self.qmp.cmd("query-status")

    def stop(self):
        """Quit; QEMU's stderr."""
        return qemu_stop(self.proc, self.qmp)


def present_xy(tmp, width=640, height=480):
    """gvt's guest scans out the xy pattern, XRGB8888, @width x @height."""
    control(tmp, "present %s format=XRGB8888 width=%d height=%d pattern=xy"
            % (GVT, width, height))


def wrong(img, fmt="XRGB8888"):
    """How many pixels of @img differ from the xy pattern."""
    return xy_wrong(img, MASKS.get(fmt, (0xff, 0xff, 0xff)))


def delta(a, b):
    """The change of each counter from stats @a to stats @b."""
    return {k: b[k] - a[k] for k in a}
