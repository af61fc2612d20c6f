#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make deb: the package builds, installs with dpkg beside Debian's
# qemu-system-x86 (its files under /opt/vfio-display only), its binary runs
# the vfio display on the simulator, and it is removed with nothing left.
# TAP output.
#
# usage: test-deb.py TOP SIMLIB

import glob
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
NAME = "qemu-system-x86-vfio-display"
PREFIX = "/opt/vfio-display"


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True,
                          timeout=kw.pop("timeout", 600), **kw)


def main():
    out = os.environ.get("VFIO_DISPLAY_BUILD", os.path.join(TOP, "build"))
    for old in glob.glob(os.path.join(out, NAME + "_*.deb")):
        os.unlink(old)
    r = run("make", "-C", TOP, "-s", "deb", timeout=1800)
    debs = glob.glob(os.path.join(out, NAME + "_*.deb"))
    ok(r.returncode == 0 and len(debs) == 1, "make deb builds one package",
       r.stdout + r.stderr)
    if not debs:
        return tap.done()
    info = run("dpkg-deb", "-f", debs[0], "Package", "Depends", "Conflicts",
               "Provides").stdout
    ok("qemu-system-data" in info and "libc6" in info and
       "Conflicts" not in info and "Provides" not in info,
       "its control: Debian's data and firmware and the shared libraries "
       "as dependencies, no Conflicts, no Provides", info)
    stock = run("dpkg-query", "-W", "-f", "${Status}", "qemu-system-x86")
    r = run("dpkg", "-i", debs[0])
    files = run("dpkg", "-L", NAME).stdout.split()
    outside = [f for f in files if not f.startswith(PREFIX) and
               not f.startswith("/usr/share/doc/" + NAME) and
               f not in ("/.", "/opt", "/usr", "/usr/share", "/usr/share/doc")]
    stock_after = run("dpkg-query", "-W", "-f", "${Status}",
                      "qemu-system-x86").stdout
    ok(r.returncode == 0 and files and not outside and
       stock_after == stock.stdout,
       "dpkg -i: installed beside Debian's qemu-system-x86, every file "
       "under %s" % PREFIX, r.stdout + r.stderr + " ".join(outside))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "config"), "w") as f:
                f.write(CONFIG)
            q = Qemu(PREFIX + "/bin/qemu-system-x86_64", SIMLIB, tmp, GVT,
                     display="egl-headless")
            present_xy(tmp)
            img, err = q.dump()
            err2 = q.stop()
            ok(img and wrong(img) == 0, "the packaged binary shows the "
               "simulated vGPU on egl-headless, pixel for pixel", err + err2)
    finally:
        r = run("dpkg", "-r", NAME)
    left = os.path.exists(PREFIX)
    ok(r.returncode == 0 and not left and
       "install ok installed" not in run("dpkg-query", "-W", "-f",
                                         "${Status}", NAME).stdout,
       "dpkg -r: removed cleanly, %s gone" % PREFIX, r.stdout + r.stderr)
    return tap.done()


sys.exit(main())
