#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make install: our QEMU installed under a PREFIX through a DESTDIR runs
# from there, away from the build tree: its modules (egl-headless, qxl),
# Debian's firmware and ipxe ROMs, and the vfio display on the simulator
# shown pixel for pixel.  TAP output.
#
# usage: test-install.py TOP SIMLIB

import os
import subprocess
import sys
import tempfile

TOP, SIMLIB = sys.argv[1:3]
sys.path.insert(0, os.path.join(TOP, "tests", "vfio-sim"))
sys.path.insert(0, os.path.join(TOP, "tests", "display"))
from simtap import Tap  # noqa: E402
from display import CONFIG, GVT, Qemu, present_xy, wrong  # noqa: E402

tap = Tap()
ok = tap.ok
PREFIX = "/opt/vfio-display-test"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        dest = os.path.join(tmp, "dest")
        r = subprocess.run(["make", "-C", TOP, "-s", "install",
                            "PREFIX=" + PREFIX, "DESTDIR=" + dest],
                           capture_output=True, text=True, timeout=1200)
        qemu = dest + PREFIX + "/bin/qemu-system-x86_64"
        mods = os.listdir(dest + PREFIX + "/lib/x86_64-linux-gnu/qemu") \
            if os.path.isdir(dest + PREFIX + "/lib/x86_64-linux-gnu/qemu") \
            else []
        ok(r.returncode == 0 and os.access(qemu, os.X_OK) and
           "ui-egl-headless.so" in mods and
           not any(m.startswith("accel-qtest") for m in mods) and
           os.path.exists(dest + PREFIX + "/share/qemu/trace-events-all") and
           os.path.exists(dest + PREFIX + "/share/qemu/keymaps/en-us") and
           not os.path.exists(dest + "/usr/local"),
           "make install PREFIX=%s DESTDIR=...: binary, modules (no qtest "
           "accelerator), trace-events, keymaps, nothing outside PREFIX"
           % PREFIX, r.stdout + r.stderr)
        r = subprocess.run([qemu, "-M", "q35", "-nodefaults", "-display",
                            "none", "-S", "-device", "qemu-xhci",
                            "-device", "usb-tablet", "-device", "qxl-vga",
                            "-device", "e1000e", "-qmp", "stdio"],
                           input='{"execute":"qmp_capabilities"}\n'
                           '{"execute":"quit"}\n', capture_output=True,
                           text=True, timeout=60, cwd="/")
        ok(r.returncode == 0 and "error" not in r.stdout,
           "the installed binary, run from /: a module's device (qxl-vga), "
           "a network card with its ipxe ROM, USB", r.stdout + r.stderr)
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write(CONFIG)
        q = Qemu(qemu, SIMLIB, tmp, GVT, display="egl-headless")
        present_xy(tmp)
        img, err = q.dump()
        err2 = q.stop()
        ok(img and wrong(img) == 0, "the installed binary shows the "
           "simulated vGPU on egl-headless (a module), pixel for pixel",
           err + err2)
    return tap.done()


sys.exit(main())
