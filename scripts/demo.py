#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The demo: a real Linux guest on a simulated vGPU, shown by our QEMU.
#
# Our QEMU (TCG) runs the test guest (tests/guest: Debian's kernel and
# busybox-static) with the simulator (tests/vfio-sim) preloaded, playing
# the kernel's mbochs sample as an mdev:
#   -device vfio-pci-nohotplug,sysfsdev=/sys/bus/mdev/devices/<uuid>,
#           display=on,ramfb=on
# SeaBIOS's text shows through ramfb; then the guest's own bochs-drm
# driver sets a mode on the vGPU, the kernel's console text appears, and a
# tiny program (fbdraw) moves a square and counts frames.  QEMU shows
# mbochs's plane through its dma-buf path (read back with llvmpipe for a
# display without GL).  With --mdpy the device is the mdpy sample and the
# guest driver the kernel's mdpy-fb: the region path.
#
# scripts/demo.sh builds everything, then runs this.  Ctrl-C stops it.

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "vfio-sim"))
from simtap import Qmp, sim_env  # noqa: E402

VGABIOS_RAMFB = "/usr/share/seabios/vgabios-ramfb.bin"
MODELS = {
    # model: (uuid, simulator line, guest directory, guest driver, path)
    "mbochs": ("8a7fd6c2-0000-4000-8000-00000000b0c5",
               "mbochs type=medium", "guest", "bochs-drm", "dma-buf"),
    "mdpy": ("8a7fd6c2-0000-4000-8000-00000000d0d0",
             "mdpy type=xga", "guest-mdpy", "mdpy-fb", "region"),
}


def say(msg, end="\n"):
    sys.stdout.write("demo: " + msg + end)
    sys.stdout.flush()


def parse():
    ap = argparse.ArgumentParser(
        prog="demo.sh", description="A Linux guest on a simulated vGPU, "
        "shown by our QEMU's VFIO display (VNC unless told otherwise).")
    ui = ap.add_mutually_exclusive_group()
    ui.add_argument("--vnc", metavar="HOST:DISPLAY", default=None,
                    help="VNC server address (default 127.0.0.1:0, "
                    "port 5900)")
    ui.add_argument("--gtk", action="store_true",
                    help="a GTK window (needs $DISPLAY)")
    ui.add_argument("--spice", metavar="HOST:PORT", nargs="?",
                    const="127.0.0.1:5930",
                    help="SPICE server (default 127.0.0.1:5930)")
    ap.add_argument("--mdpy", action="store_true",
                    help="the mdpy model and its guest driver mdpy-fb "
                    "(region path) instead of mbochs (dma-buf path)")
    ap.add_argument("--run", choices=("demo", "pattern"), default="demo",
                    help="what the guest draws: console text and a moving "
                    "square (demo), or the xy test pattern")
    ap.add_argument("--build", default=os.path.join(TOP, "build"),
                    help="the build directory")
    ap.add_argument("--seconds", type=float, default=0,
                    help="quit after this long (0: run until Ctrl-C)")
    args = ap.parse_args()
    if not args.gtk and args.spice is None and args.vnc is None:
        args.vnc = "127.0.0.1:0"
    return args


def display_args(args):
    """QEMU's display options, and what to connect with."""
    if args.gtk:
        if not os.environ.get("DISPLAY"):
            sys.exit("demo: --gtk needs an X display ($DISPLAY is unset)")
        # GTK zooms a console that takes size hints to fit its window;
        # the guest's mode is fixed (video=), so show it 1:1 instead
        return (["-display", "gtk,zoom-to-fit=off"],
                ["the GTK window QEMU opens"])
    if args.spice is not None:
        host, _, port = args.spice.rpartition(":")
        host = host or "127.0.0.1"
        return (["-display", "none", "-spice",
                 "addr=%s,port=%s,disable-ticketing=on" % (host, port)],
                ["remote-viewer spice://%s:%s" % (host, port),
                 "spicy -h %s -p %s" % (host, port)])
    host, _, disp = args.vnc.rpartition(":")
    host = host or "127.0.0.1"
    return (["-display", "none", "-vnc", "%s:%s" % (host, disp)],
            ["gvncviewer %s:%s" % (host, disp),
             "any VNC client to %s port %d" % (host, 5900 + int(disp))])


def progress(serial):
    """Where the guest is, from its serial console."""
    try:
        log = open(serial, errors="replace").read()
    except OSError:
        log = ""
    said = re.findall(r"^guest: (.*)$", log, re.M)
    if said:
        return said[-1].strip()
    if "Linux version" in log:
        return "the kernel is booting"
    return "the firmware runs (its text shows through ramfb)"


def stats(qmp, tmp, timeout=15):
    """The display's counters once it has shown the guest's plane: a
    screendump makes QEMU refresh the display even when no client is
    connected (VNC refreshes only for its clients)."""
    end = time.time() + timeout
    while True:
        qmp.cmd("screendump", filename=os.path.join(tmp, "screen.ppm"))
        st = qmp.cmd("qom-get", path="/machine/peripheral/vgpu0",
                     property="display-stats").get("return", {})
        if st.get("imports") or st.get("bytes-copied") or \
                time.time() > end:
            return st
        time.sleep(0.5)


# vfio-pci's warnings for any mdev (the kernel's samples and vendor drivers
# give them too): not worth a user's attention in the demo
QUIET = ("Could not enable error recovery for the device",
         "no available reset mechanism")


def relay(stream):
    """QEMU's stderr to ours, but for QUIET lines."""
    for line in stream:
        if not any(q in line for q in QUIET):
            sys.stderr.write(line)
            sys.stderr.flush()


def main():
    args = parse()
    model = "mdpy" if args.mdpy else "mbochs"
    uuid, simline, guestdir, driver, path = MODELS[model]
    guest = os.path.join(args.build, guestdir)
    qemu = os.path.join(args.build, "qemu", "qemu-system-x86_64")
    simlib = os.path.join(args.build, "vfio-sim", "libvfio-sim.so")
    for f in (qemu, simlib, os.path.join(guest, "vmlinuz")):
        if not os.path.exists(f):
            sys.exit("demo: %s is missing: run scripts/demo.sh, which "
                     "builds it" % f)
    dpy, connect = display_args(args)

    tmp = tempfile.mkdtemp(prefix="vfio-display-demo.")
    with open(os.path.join(tmp, "config"), "w") as f:
        f.write("%s %s group=61\n" % (uuid, simline))
    serial = os.path.join(tmp, "serial.log")
    qmp_path = os.path.join(tmp, "qmp.sock")
    device = ("vfio-pci-nohotplug,id=vgpu0,sysfsdev=/sys/bus/mdev/devices/"
              "%s,display=on,ramfb=on,romfile=%s" % (uuid, VGABIOS_RAMFB))
    cmd = [qemu, "-M", "q35", "-m", "512", "-nodefaults", "-no-reboot",
           "-name", "vfio-display demo (%s)" % model,
           "-serial", "file:" + serial,
           "-qmp", "unix:%s,server=on,wait=off" % qmp_path,
           "-kernel", os.path.join(guest, "vmlinuz"),
           "-initrd", os.path.join(guest, "initrd.gz"),
           "-append", "console=tty0 console=ttyS0 panic=-1 "
           "video=1024x768 vt.global_cursor_default=0 guest.run=" + args.run,
           "-device", device] + dpy
    say("simulated vGPU: %s (%s), mdev %s" % (model, simline, uuid))
    say("QEMU: " + " ".join(cmd[:1] + ["..."] + cmd[-len(dpy) - 2:]))
    proc = subprocess.Popen(cmd, env=sim_env(simlib, tmp),
                            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    threading.Thread(target=relay, args=(proc.stderr,), daemon=True).start()
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    for line in connect:
        say("connect with: " + line)

    tty = sys.stdout.isatty()
    start = time.time()
    last = None
    ready = False
    qmp = None
    try:
        while proc.poll() is None and not stop:
            if args.seconds and time.time() - start > args.seconds:
                break
            if not ready:
                where = progress(serial)
                if where != last or tty:
                    line = "booting, %3.0f s: %s" % (time.time() - start,
                                                      where)
                    if tty:
                        say(line.ljust(70), end="\r")
                    else:
                        say(line)
                    last = where
                if where == "ready":
                    ready = True
                    if tty:
                        sys.stdout.write("\n")
                    if qmp is None:
                        qmp = Qmp(qmp_path)
                    st = stats(qmp, tmp)
                    if st.get("imports"):
                        shown = "dma-buf"
                    elif st.get("bytes-copied"):
                        shown = "region"
                    else:
                        shown = None
                    if shown:
                        say("the guest's %s drives the vGPU; QEMU shows its "
                            "plane through the %s path" % (driver, shown))
                    else:
                        say("QEMU has not shown a plane of the %s path yet"
                            % path)
                    say("display-stats: " + " ".join(
                        "%s=%s" % kv for kv in st.items()))
                    say("ready: the console text and a moving square; "
                        "Ctrl-C quits" if args.run == "demo" else
                        "ready: the xy test pattern; Ctrl-C quits")
            time.sleep(0.25)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if qmp is not None:
            qmp.sock.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if proc.returncode not in (0, -signal.SIGTERM) and not stop:
        say("QEMU exited with status %d" % proc.returncode)
        return 1
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
