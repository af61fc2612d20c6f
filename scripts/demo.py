#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The demo: a Debian desktop guest on a simulated vGPU, shown by our QEMU.
#
# Our QEMU (TCG, or KVM with --kvm) runs the desktop guest (tests/guest/mkdesktop.py: Debian's
# kernel and packages) with the simulator (tests/vfio-sim) preloaded,
# playing the kernel's mbochs sample as an mdev:
#   -device vfio-pci-nohotplug,sysfsdev=/sys/bus/mdev/devices/<uuid>,
#           display=on,ramfb=on
# SeaBIOS's text shows through ramfb; then the guest's own bochs-drm
# driver sets a mode on the vGPU, the kernel's console text appears, and
# weston (DRM backend, pixman renderer) starts with a terminal: type into
# it, move the pointer (a usb-tablet) and click.  Weston page-flips
# between two buffers, each a dma-buf of its own, and QEMU shows them
# through its dma-buf path (read back with llvmpipe for a display without
# GL).  With --mdpy the device is the mdpy sample, the guest driver the
# kernel's mdpy-fb and the desktop Xorg on that framebuffer: the region
# path.  --guest busybox boots the small test guest instead (seconds, not
# a minute): console text and a moving square, or the xy test pattern.
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
    # model: (uuid, simulator line, guest driver, path, desktop session)
    "mbochs": ("8a7fd6c2-0000-4000-8000-00000000b0c5",
               "mbochs type=medium", "bochs-drm", "dma-buf", "weston"),
    "mdpy": ("8a7fd6c2-0000-4000-8000-00000000d0d0",
             "mdpy type=xga", "mdpy-fb", "region", "xorg"),
}
# the busybox guest's directory for each model; the desktop has one
BUSYBOX = {"mbochs": "guest", "mdpy": "guest-mdpy"}


def say(msg, end="\n"):
    sys.stdout.write("demo: " + msg + end)
    sys.stdout.flush()


def parse():
    ap = argparse.ArgumentParser(
        prog="demo.sh", description="A Debian desktop guest on a simulated "
        "vGPU, shown by our QEMU's VFIO display (VNC unless told "
        "otherwise; --vnc, --spice and --gtk may be combined).")
    ap.add_argument("--vnc", metavar="HOST:DISPLAY", default=None,
                    help="VNC server address (default 127.0.0.1:0, "
                    "port 5900)")
    ap.add_argument("--gtk", action="store_true",
                    help="a GTK window (needs $DISPLAY)")
    ap.add_argument("--spice", metavar="HOST:PORT", nargs="?",
                    const="127.0.0.1:5930",
                    help="SPICE server (default 127.0.0.1:5930)")
    ap.add_argument("--mdpy", action="store_true",
                    help="the mdpy model and its guest driver mdpy-fb "
                    "(region path; Xorg on the framebuffer) instead of "
                    "mbochs (dma-buf path; weston)")
    ap.add_argument("--guest", choices=("desktop", "busybox"),
                    default="desktop",
                    help="the Debian desktop (default), or the busybox "
                    "test guest, which boots in seconds")
    ap.add_argument("--run", choices=("demo", "pattern"), default="demo",
                    help="what the busybox guest draws: console text and a "
                    "moving square (demo), or the xy test pattern")
    ap.add_argument("--anim", metavar="HZ", type=int, default=0,
                    help="the desktop runs the benchmark's animation at HZ "
                    "frames a second (tests/guest/desktop/anim.c) instead "
                    "of its terminal")
    ap.add_argument("--mode", metavar="WxH", default="1024x768",
                    choices=("1024x768", "1920x1080"),
                    help="the guest's display mode (default 1024x768)")
    ap.add_argument("--kvm", action="store_true",
                    help="KVM instead of TCG (needs /dev/kvm)")
    ap.add_argument("--qemu", metavar="BINARY",
                    help="the QEMU to run (default: the build's)")
    ap.add_argument("--build", default=os.path.join(TOP, "build"),
                    help="the build directory")
    ap.add_argument("--seconds", type=float, default=0,
                    help="quit after this long (0: run until Ctrl-C)")
    ap.add_argument("--workdir", metavar="DIR",
                    help="keep the guest's serial log, QEMU's QMP socket "
                    "and pid file and the simulator's control socket in "
                    "DIR (default: a temporary directory, removed at exit)")
    args = ap.parse_args()
    if args.anim and args.guest != "desktop":
        ap.error("--anim is the desktop guest's")
    if not 0 <= args.anim <= 240:
        ap.error("--anim: 1 to 240 frames a second")
    if args.kvm and not os.access("/dev/kvm", os.R_OK | os.W_OK):
        ap.error("--kvm: /dev/kvm is not there or not ours")
    if not args.gtk and args.spice is None and args.vnc is None:
        args.vnc = "127.0.0.1:0"
    return args


def display_args(args):
    """QEMU's display options, and what to connect with."""
    opts, connect = [], []
    if args.gtk:
        if not os.environ.get("DISPLAY"):
            sys.exit("demo: --gtk needs an X display ($DISPLAY is unset)")
        # GTK zooms a console that takes size hints to fit its window;
        # the guest's mode is fixed (video=), so show it 1:1 instead
        opts += ["-display", "gtk,zoom-to-fit=off"]
        connect += ["the GTK window QEMU opens"]
    else:
        opts += ["-display", "none"]
    if args.spice is not None:
        host, _, port = args.spice.rpartition(":")
        host = host or "127.0.0.1"
        opts += ["-spice", "addr=%s,port=%s,disable-ticketing=on" %
                 (host, port)]
        connect += ["remote-viewer spice://%s:%s" % (host, port),
                    "spicy -h %s -p %s" % (host, port)]
    if args.vnc is not None:
        host, _, disp = args.vnc.rpartition(":")
        host = host or "127.0.0.1"
        opts += ["-vnc", "%s:%s" % (host, disp)]
        connect += ["gvncviewer %s:%s" % (host, disp),
                    "any VNC client to %s port %d" % (host, 5900 + int(disp))]
    return opts, connect


def guest_args(args, model, guest):
    """The guest's kernel, initramfs, disk and input devices."""
    desktop = args.guest == "desktop"
    run = MODELS[model][4] if desktop else args.run
    if args.anim:
        run = {"weston": "anim", "xorg": "xorg-anim"}[run] + \
            " guest.anim=%d" % args.anim
    cmd = ["-kernel", os.path.join(guest, "vmlinuz"),
           "-initrd", os.path.join(guest, "initrd.gz"),
           "-append", "console=tty0 console=ttyS0 panic=-1 video=%s "
           "vt.global_cursor_default=0 guest.run=%s" % (args.mode, run)]
    if args.kvm:
        cmd += ["-accel", "kvm"]
    if desktop:
        # the root file system is never written: changes go to a
        # temporary overlay (snapshot=on)
        cmd += ["-m", "1024",
                "-drive", "file=%s,if=virtio,format=raw,snapshot=on" %
                os.path.join(guest, "rootfs.img"),
                "-device", "qemu-xhci,id=xhci",
                "-device", "usb-tablet,bus=xhci.0"]
    else:
        cmd += ["-m", "512"]
    return cmd


READY = {
    "weston": "ready: a weston desktop with a terminal: type into it, move "
              "the pointer, click; Ctrl-C quits",
    "xorg": "ready: an X desktop (twm) with an xterm: type into it, move "
            "the pointer, click; Ctrl-C quits",
    "anim": "ready: the benchmark's animation, the whole screen a frame; "
            "Ctrl-C quits",
    "demo": "ready: the console text and a moving square; Ctrl-C quits",
    "pattern": "ready: the xy test pattern; Ctrl-C quits",
}


def progress(serial):
    """Where the guest is, from its serial console."""
    try:
        log = open(serial, errors="replace").read()
    except OSError:
        log = ""
    said = re.findall(r"^guest: (.*)$", log, re.M)
    if said:
        return said[-1].strip()
    if "Run /init as init process" in log:
        return "the guest's init runs"
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
        rsp = qmp.cmd("qom-get", path="/machine/peripheral/vgpu0",
                      property="display-stats")
        if "error" in rsp:
            return None         # another QEMU (--qemu): it has no counters
        st = rsp.get("return", {})
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
    uuid, simline, driver, path, session = MODELS[model]
    guest = os.path.join(args.build, "desktop" if args.guest == "desktop"
                         else BUSYBOX[model])
    qemu = args.qemu or os.path.join(args.build, "qemu",
                                     "qemu-system-x86_64")
    simlib = os.path.join(args.build, "vfio-sim", "libvfio-sim.so")
    need = [qemu, simlib, os.path.join(guest, "vmlinuz")]
    if args.guest == "desktop":
        need.append(os.path.join(guest, "rootfs.img"))
    for f in need:
        if not os.path.exists(f):
            sys.exit("demo: %s is missing: run scripts/demo.sh, which "
                     "builds it" % f)
    dpy, connect = display_args(args)

    if args.workdir:
        tmp = os.path.abspath(args.workdir)
        os.makedirs(tmp, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="vfio-display-demo.")
    if args.mode == "1920x1080":
        # mdpy's 1080p type; mbochs's 64 MB one (weston's two buffers and
        # the kernel console's do not fit the medium type's 16 MB)
        simline = {"mdpy": "mdpy type=hd", "mbochs": "mbochs type=large"}[
            model]
    with open(os.path.join(tmp, "config"), "w") as f:
        f.write("%s %s group=61\n" % (uuid, simline))
    serial = os.path.join(tmp, "serial.log")
    qmp_path = os.path.join(tmp, "qmp.sock")
    device = ("vfio-pci-nohotplug,id=vgpu0,sysfsdev=/sys/bus/mdev/devices/"
              "%s,display=on,ramfb=on,romfile=%s" % (uuid, VGABIOS_RAMFB))
    cmd = [qemu, "-M", "q35", "-nodefaults", "-no-reboot",
           "-name", "vfio-display demo (%s)" % model,
           "-serial", "file:" + serial,
           "-qmp", "unix:%s,server=on,wait=off" % qmp_path,
           "-pidfile", os.path.join(tmp, "qemu.pid")] + \
        guest_args(args, model, guest) + ["-device", device] + dpy
    say("simulated vGPU: %s (%s), mdev %s" % (model, simline, uuid))
    say("guest: " + ("the Debian desktop (%s on %s)" % (
        "weston" if session == "weston" else "Xorg", driver)
        if args.guest == "desktop" else "busybox (%s)" % args.run))
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
                if where.startswith("ready"):
                    ready = True
                    if tty:
                        sys.stdout.write("\n")
                    # QMP takes one client at a time: let go of it
                    qmp = Qmp(qmp_path)
                    st = stats(qmp, tmp)
                    qmp.sock.close()
                    qmp = None
                    if st is None:
                        say("this QEMU has no display-stats: what it shows "
                            "is not counted")
                    else:
                        shown = "dma-buf" if st.get("imports") else \
                            "region" if st.get("bytes-copied") else None
                        if shown:
                            say("the guest's %s drives the vGPU; QEMU shows "
                                "its plane through the %s path"
                                % (driver, shown))
                        else:
                            say("QEMU has not shown a plane of the %s path "
                                "yet" % path)
                        say("display-stats: " + " ".join(
                            "%s=%s" % kv for kv in st.items()))
                    say(READY["anim" if args.anim else session
                              if args.guest == "desktop" else args.run])
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
        if not args.workdir:
            shutil.rmtree(tmp, ignore_errors=True)
    if proc.returncode not in (0, -signal.SIGTERM) and not stop:
        say("QEMU exited with status %d" % proc.returncode)
        return 1
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
