#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A real Linux guest on the simulated vGPU (tests/guest/README.md): the
# Debian kernel's own bochs-drm driver drives the simulator's mbochs model
# through Debian's stock, unmodified QEMU 10.0 (display=off: stock QEMU
# cannot show an mbochs dma-buf without OpenGL).  The guest's fbdraw fills
# the screen with the xy pattern; the simulator's control socket shows the
# mode the driver set and the pixels it wrote.  TAP output.
#
# usage: test-guest.py SIMLIB QEMU GUESTDIR

import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
from simtap import (Qmp, Tap, control, qemu_stop, read_ppm,  # noqa: E402
                    sim_env, xy_wrong)

SIMLIB, QEMU, GUEST = sys.argv[1:4]
MBOCHS = "bbbbbbbb-0000-4000-8000-0000000000b0"
BOOT_TIMEOUT = 150              # seconds; about 10 under TCG here
tap = Tap()


class Vm:
    """QEMU (TCG) booting the test guest with a simulated device."""

    def __init__(self, tmp, device, cmdline, extra=()):
        self.tmp = tmp
        self.serial = os.path.join(tmp, "serial.log")
        args = [QEMU, "-M", "q35", "-m", "512", "-nodefaults",
                "-display", "none", "-no-reboot",
                "-serial", "file:" + self.serial,
                "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % tmp,
                "-kernel", os.path.join(GUEST, "vmlinuz"),
                "-initrd", os.path.join(GUEST, "initrd.gz"),
                "-append", "console=ttyS0 panic=-1 "
                "vt.global_cursor_default=0 " + cmdline,
                "-device", device] + list(extra)
        self.proc = subprocess.Popen(args, env=sim_env(SIMLIB, tmp),
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.qmp = Qmp(os.path.join(tmp, "qmp.sock"))

    def log(self):
        try:
            return open(self.serial, errors="replace").read()
        except OSError:
            return ""

    def wait(self, what, timeout=BOOT_TIMEOUT):
        """True once the serial console shows @what (a regex)."""
        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            if re.search(what, self.log()):
                return True
            time.sleep(0.2)
        return bool(re.search(what, self.log()))

    def stop(self):
        return qemu_stop(self.proc, self.qmp)


def test_bochs_drm(tmp):
    ok = tap.ok
    with open(os.path.join(tmp, "config"), "w") as f:
        f.write("%s mbochs type=medium group=61\n" % MBOCHS)
    vm = Vm(tmp, "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,display=off"
            % MBOCHS, "video=800x600 guest.run=pattern")
    booted = vm.wait(r"guest: (ready|no framebuffer)|Kernel panic")
    log = vm.log()
    ok(booted and "guest: booted" in log,
       "guest: the Debian kernel boots under TCG with mbochs on vfio-pci",
       log)
    ok("guest: fb0 driver=bochs-drm " in log,
       "guest: bochs-drm binds to the simulated mbochs", log)
    m = re.search(r"Found bochs VGA, ID (0x[0-9a-f]+)", log)
    ok(m and m.group(1) == "0xb0c5",
       "guest: bochs-drm reads the DISPI ID through QEMU's BAR2 trap",
       m.group(0) if m else log)
    ok("Framebuffer size 16384 kB" in log,
       "guest: bochs-drm sizes VRAM from VIDEO_MEMORY_64K (medium: 16 MiB)",
       log)
    sc = control(tmp, "scanout " + MBOCHS)
    ok(sc.startswith("ok format=0x34325258 modifier=0x0 width=800 "
                     "height=600 stride=3200 "),
       "guest: the mode bochs-drm set (video=800x600) is mbochs's plane", sc)
    ok(re.search(r"fbdraw: pattern 800x600 stride 3200 bpp 32", log),
       "guest: fbdraw drew on bochs-drm's 800x600 fbdev", log)
    # fbdev's shadow buffer reaches VRAM through a worker: poll
    ppm = os.path.join(tmp, "screen.ppm")
    deadline = time.time() + 20
    while True:
        rsp = control(tmp, "snapshot %s path=%s" % (MBOCHS, ppm))
        img = read_ppm(ppm) if rsp.startswith("ok") else (0, 0, b"")
        w, h, bad = img[0], img[1], xy_wrong(img) if img[0] else -1
        if bad == 0 or time.time() > deadline:
            break
        time.sleep(0.5)
    ok(rsp == "ok 800x600" and (w, h, bad) == (800, 600, 0),
       "guest: every pixel fbdraw wrote is in mbochs's VRAM",
       "%s: %dx%d, %d pixels wrong" % (rsp, w, h, bad))
    ok(control(tmp, "counter %s mbochs-vram-access-shifted" % MBOCHS) ==
       "ok 0", "guest: VRAM reached through QEMU's mmap of BAR0, no traps")
    ok(not re.search(r"\[drm\].*(ERROR|error)|WARNING:|BUG:", log),
       "guest: no DRM error, warning or BUG in the guest's log", log)
    err = vm.stop()
    ok(vm.proc.returncode == 0, "guest: QEMU quits cleanly", err)


def main():
    for f in ("vmlinuz", "initrd.gz"):
        if not os.path.exists(os.path.join(GUEST, f)):
            print("1..0 # SKIP no guest in %s (tests/guest/mkguest.py)"
                  % GUEST)
            return 0
    with tempfile.TemporaryDirectory() as tmp:
        test_bochs_drm(tmp)
    return tap.done()


sys.exit(main())
