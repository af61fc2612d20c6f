#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our QEMU against the real kernel (tests/kernel/README.md): Debian's
# stock QEMU boots a Debian kernel (TCG) with vfio, mdev and the kernel's
# own mbochs and mdpy samples, the host's root shared read-only over 9p;
# inside it, cases.py creates an mbochs and an mdpy mdev and runs our
# QEMU on them under the qtest accelerator.  The same cases run here on
# the simulator, without a GPU as on that kernel (VFIO_SIM_GPU=none).
# Each side must show what the kernel's drivers do, and the two sides
# must agree: a difference is a failure of the simulator.  TAP output.
#
# usage: test-kernel.py QEMU SIMLIB KERNELGUEST [STOCK-QEMU]

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
from simtap import Tap  # noqa: E402

QEMU, SIMLIB, GUEST = (os.path.abspath(a) for a in sys.argv[1:4])
STOCK = sys.argv[4] if len(sys.argv) > 4 else "/usr/bin/qemu-system-x86_64"
CASES = os.path.join(HERE, "cases.py")
TIMEOUT = 900
tap = Tap()
ok = tap.ok

# what each case must show, on the kernel and on the simulator
MODES = ("mode0", "mode1", "mode2")
EXPECT = {
    "mdpy": {
        "realized": "1", "reset-size": "1024x768",
        "reset-gradient-rows-wrong": "0", "xy-rows-shown": "1",
        "below-kept-gradient": "1", "imports": "0", "faults": "0",
        "bytes-copied-positive": "1", "exit": "0",
    },
}
for _dpy in ("none", "egl-headless"):
    EXPECT["mbochs-" + _dpy] = dict(
        {"realized": "1", "dispi-id": "0xb0c5", "nomode-imports": "0",
         "says-why": "1", "fds-grew": "0", "exit": "0"},
        **{"%s-imports" % m: str(i + 1) for i, m in enumerate(MODES)})
# sysfs, from the 6.1 code: mdev_core.c (the device under its parent, the
# class_compat link), mdev_sysfs.c (mdev_type_add's attributes, the
# mdev_type and devices/ links), vfio_main.c (vfio_noiommu_group_alloc's
# group, vfio-dev/vfioN in creation order), the samples' types, their
# show_description, counts (mbochs: 256 MB less two 16 MB mediums over
# the type's; mdpy: 4 less one) and the drivers' attributes
MBOCHS, MDPY = ("6b0c5000-0000-4000-8000-000000000001",
                "6d0d0000-0000-4000-8000-000000000002")
EXPECT["sysfs"] = {"mdev-bus": "mbochs,mdpy"}
for _p, _u, _t, _attr, _val, _vfio in (
        ("mbochs", MBOCHS, "mbochs-medium", "memory", "16 MB", "vfio0"),
        ("mdpy", MDPY, "mdpy-xga", "resolution", "1024x768", "vfio2")):
    _dev = "devices/virtual/%s/%s" % (_p, _p)
    EXPECT["sysfs"].update({
        _p + "-bus-link": "../../../%s/%s" % (_dev, _u),
        _p + "-device": "/sys/%s/%s" % (_dev, _u),
        _p + "-device-files": "driver,iommu_group,mdev_type,power,remove,"
                              "subsystem,uevent,vendor,vfio-dev",
        _p + "-uevent": repr("DRIVER=%s\n" % _p),
        _p + "-subsystem-is": "/sys/bus/mdev",
        _p + "-driver": "../../../../../bus/mdev/drivers/" + _p,
        _p + "-driver-links-back": "1",
        _p + "-vendor-" + _attr: repr(_val + "\n"),
        _p + "-vfio-dev": _vfio,
        _p + "-iommu-group-link": "../../../../../kernel/iommu_groups/N",
        _p + "-iommu-group-is": "N",
        _p + "-iommu-group-name": repr("vfio-noiommu\n"),
        _p + "-mdev-type": "../mdev_supported_types/" + _t,
        _p + "-device-api": repr("vfio-pci\n"),
        _p + "-class-link": "../../" + _dev,
        _t + "-device-link": "../../../" + _u,
        _t + "-device-is-the-mdev": "1",
        _t + "-files": "available_instances,create,description,device_api,"
                       "devices,name",
        _t + "-create-mode": "200",
        _p + "-remove-mode": "200",
    })
for _t, _avail, _desc in (
        ("mbochs-small", 56, "4 MB video memory"),
        ("mbochs-medium", 14, "16 MB video memory"),
        ("mbochs-large", 3, "64 MB video memory"),
        ("mdpy-vga", 3, "640x480 framebuffer"),
        ("mdpy-xga", 3, "1024x768 framebuffer"),
        ("mdpy-hd", 3, "1920x1080 framebuffer")):
    EXPECT["sysfs"].update({
        _t + "-name": repr(_t + "\n"),
        _t + "-device_api": repr("vfio-pci\n"),
        _t + "-available_instances": repr("%d\n" % _avail),
        _t + "-description": repr("virtual display, %s\n" % _desc)})
WHAT = {
    "mdpy": "mdpy: our QEMU shows the region, mdpy's reset gradient and "
            "what was written to BAR0",
    "mbochs-none": "mbochs, -display none: realizes, counts a dma-buf per "
                   "mode change, says once why no picture can be shown",
    "mbochs-egl-headless": "mbochs, egl-headless: the same, and no crash "
                           "of the software renderer",
    "sysfs": "sysfs: the mbochs-medium and mdpy-xga mdevs under their "
             "parents, linked from the bus, their types, groups, drivers "
             "and /sys/class/mdev_bus as 6.1 lays them out",
}
MAX_MESSAGES = 10       # QEMU's lines for a case: vfio's 3, ours, Mesa's


def parse(out):
    obs = {}
    for m in re.finditer(r"^obs (\S+) (\S+) (.*)$", out, re.M):
        obs.setdefault(m.group(1), {})[m.group(2)] = m.group(3).strip()
    return obs


def run_sim():
    r = subprocess.run([sys.executable, CASES, "sim", QEMU, SIMLIB],
                       capture_output=True, text=True, timeout=TIMEOUT)
    return r.stdout + r.stderr


def run_kernel():
    """Boot the kernel guest; its serial console."""
    cmd = ",".join([sys.executable, CASES, "kernel", QEMU, "-"])
    r = subprocess.run(
        [STOCK, "-M", "q35", "-m", "3G", "-smp", "2", "-nodefaults",
         "-display", "none", "-no-reboot", "-serial", "stdio",
         "-kernel", os.path.join(GUEST, "vmlinuz"),
         "-initrd", os.path.join(GUEST, "initrd.gz"),
         "-append", "console=ttyS0 quiet panic=-1 kernel.run=" + cmd,
         "-virtfs", "local,path=/,mount_tag=host,security_model=none,"
         "readonly=on"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=TIMEOUT)
    return r.stdout.replace("\r", "") + r.stderr


def check(side, obs, out):
    for case, want in EXPECT.items():
        got = obs.get(case, {})
        bad = {k: (got.get(k), v) for k, v in want.items()
               if got.get(k) != v}
        msgs = int(got.get("messages", 0) or 0)
        ok(not bad and msgs <= MAX_MESSAGES,
           "%s: %s" % (side, WHAT[case]),
           "wrong (got, want): %s; %d messages\n%s" %
           (bad, msgs, "\n".join(line for line in out.splitlines()
                                 if case in line or "qemu:" in line)[:4000]))


def main():
    for f in (QEMU, SIMLIB, STOCK, os.path.join(GUEST, "vmlinuz")):
        if not os.path.exists(f):
            print("1..0 # SKIP %s is missing" % f)
            return 0
    start = time.time()
    sim_out = run_sim()
    sim = parse(sim_out)
    ok("done" in sim_out.splitlines(), "simulator: every case ran",
       sim_out[-3000:])
    check("simulator", sim, sim_out)
    sim_time = time.time() - start

    kout = run_kernel()
    kernel = parse(kout)
    ok(re.search(r"^kernel: mdev parents: mbochs mdpy", kout, re.M),
       "kernel: Linux %s boots with the kernel's own mbochs and mdpy "
       "samples as mdev parents" % (re.search(r"booted (\S+)", kout) or
                                    re.search("", "")).group(0)[7:],
       kout[-3000:])
    ok(re.search(r"^# created mbochs-medium mdev", kout, re.M) and
       re.search(r"^# created mdpy-xga mdev", kout, re.M),
       "kernel: an mbochs-medium and an mdpy-xga mdev created in sysfs",
       kout[-3000:])
    ok(re.search(r"^done$", kout, re.M) and
       re.search(r"^kernel: exit status 0$", kout, re.M),
       "kernel: every case ran inside the guest, against /dev/vfio",
       kout[-3000:])
    check("kernel", kernel, kout)

    # the simulator must match the kernel, observation for observation
    for case in EXPECT:
        k, s = kernel.get(case, {}), sim.get(case, {})
        diff = {key: (k.get(key), s.get(key))
                for key in sorted(set(k) | set(s)) if k.get(key) != s.get(key)}
        ok(k and not diff,
           "kernel and simulator agree on %s (%d observations)" %
           (case, len(k)), "differ (kernel, simulator): %s" % diff)
    print("# simulator %.0f s, kernel guest %.0f s" %
          (sim_time, time.time() - start - sim_time))
    return tap.done()


sys.exit(main())
