#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the desktop guest from Debian's packages only (tests/guest/README.md):
# a root file system made by debootstrap (bookworm, minbase) with weston
# (DRM backend, pixman renderer, weston-terminal) for bochs-drm, and Xorg
# with its fbdev driver, twm and xterm for a plain framebuffer (mdpy-fb);
# udev for libinput.  It becomes an ext4 image (mke2fs -d) that the guest
# mounts from a virtio disk; Debian's kernel and the modules it needs come
# in an initramfs (mkguest.py, /init = desktop/init).  desktop/anim.c,
# the benchmark's animation, is built here against the same libraries.
#
# usage: mkdesktop.py OUTDIR [--cache DIR] [--ko FILE]...
# Writes OUTDIR/rootfs.img, OUTDIR/vmlinuz, OUTDIR/initrd.gz and
# OUTDIR/desktop-manifest; does nothing when the manifest says the same inputs
# built them.  The first build takes a minute or two (debootstrap), and
# says so.

import argparse
import glob
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mkguest import digest  # noqa: E402
DESKTOP = os.path.join(HERE, "desktop")
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"

# what the guest runs; minbase brings dash, coreutils and apt
PACKAGES = [
    "udev", "kmod",
    # weston on DRM (bochs-drm), its terminal, a font
    "weston", "fonts-dejavu-core",
    # Xorg on a plain framebuffer (mdpy-fb), a window manager, a terminal
    "xserver-xorg-core", "xserver-xorg-video-fbdev",
    "xserver-xorg-input-libinput", "xinit", "twm", "xterm", "x11-xserver-utils",
]
# the modules the initramfs loads, besides --ko ones: the display driver,
# the virtio disk and ext4, the USB tablet and keyboard, evdev for libinput
# (ext4 asks for crc32c by name, which only modprobe would find)
MODULES = ["bochs", "virtio_pci", "virtio_blk", "crc32c_generic", "ext4",
           "xhci_pci", "usbhid", "hid_generic", "evdev"]
# our files in the root file system: source in desktop/, mode
OURS = {
    "session": ("usr/local/sbin/vfio-desktop", 0o755),
    "weston.ini": ("etc/xdg/weston/weston.ini", 0o644),
    "xorg.conf": ("etc/X11/xorg.conf", 0o644),
    "xsession": ("usr/local/bin/vfio-xsession", 0o755),
}
# what the guest does not need: documentation, translations
# and the Mesa drivers, which neither weston's pixman renderer nor Xorg's
# fbdev driver loads
STRIP = ["usr/share/doc", "usr/share/man", "usr/share/info",
         "usr/share/locale", "var/cache/apt", "var/lib/apt/lists",
         "usr/lib/x86_64-linux-gnu/dri"]
IMAGE_MB = 1024


def log(msg):
    print("mkdesktop: " + msg, file=sys.stderr, flush=True)


def debootstrap(root, cache):
    """A bookworm minbase with PACKAGES, in @root (kept between builds)."""
    stamp = os.path.join(root, ".vfio-desktop-packages")
    want = " ".join(PACKAGES)
    if os.path.exists(stamp) and open(stamp).read() == want:
        return
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(cache, exist_ok=True)
    log("debootstrap %s with %d packages (first build: a minute or two; "
        "each step shown)" % (SUITE, len(PACKAGES)))
    t0 = time.time()
    cmd = ["debootstrap", "--variant=minbase", "--cache-dir=" + cache,
           "--include=" + ",".join(PACKAGES), SUITE, root, MIRROR]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    last, stage = 0, None
    for line in proc.stdout:
        # a line when debootstrap starts another stage, else one in 15 s
        if not line.startswith("I: "):
            continue
        words = line[3:].split()
        if words[:1] != stage or time.time() - last > 15:
            log("  %3.0f s: %s" % (time.time() - t0, line[3:].strip()))
            stage, last = words[:1], time.time()
    if proc.wait():
        sys.exit("mkdesktop: debootstrap failed (see %s/debootstrap/"
                 "debootstrap.log)" % root)
    with open(stamp, "w") as f:
        f.write(want)
    log("debootstrap done in %.0f s" % (time.time() - t0))


def build_anim(root):
    """desktop/anim.c, the benchmark's animation, built on this (bookworm)
    host against the libraries the guest has (libwayland-client0 from
    weston, libx11-6 from xterm), into @root's /usr/local/bin."""
    gen = os.path.join(root, "tmp", "anim-build")
    os.makedirs(gen, exist_ok=True)
    xml = "/usr/share/wayland-protocols/stable/xdg-shell/xdg-shell.xml"
    for kind, name in (("client-header", "xdg-shell-client-protocol.h"),
                       ("private-code", "xdg-shell-protocol.c")):
        subprocess.run(["wayland-scanner", kind, xml,
                        os.path.join(gen, name)], check=True)
    dst = os.path.join(root, "usr/local/bin/vfio-anim")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    subprocess.run(["gcc", "-O2", "-Wall", "-I", gen, "-o", dst,
                    os.path.join(DESKTOP, "anim.c"),
                    os.path.join(gen, "xdg-shell-protocol.c"),
                    "-lwayland-client", "-lX11"], check=True)
    shutil.rmtree(gen)


def image(root, out):
    """@root with our files, as an ext4 image @out (no mount needed)."""
    build_anim(root)
    for src, (dst, mode) in OURS.items():
        path = os.path.join(root, dst)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(os.path.join(DESKTOP, src), path)
        os.chmod(path, mode)
    for d in STRIP:
        shutil.rmtree(os.path.join(root, d), ignore_errors=True)
    for f in glob.glob(os.path.join(root, "usr/lib/x86_64-linux-gnu",
                                    "libLLVM-*.so*")):
        os.unlink(f)
    tmp = out + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-L", "vfio-desktop",
                    "-E", "root_owner=0:0", "-d", root, tmp,
                    "%dM" % IMAGE_MB], check=True)
    os.rename(tmp, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--cache", default="/var/cache/vfio-display")
    ap.add_argument("--ko", action="append", default=[])
    args = ap.parse_args()
    out = args.outdir
    os.makedirs(out, exist_ok=True)
    sources = [os.path.join(HERE, "mkdesktop.py")] + \
        [os.path.join(DESKTOP, f) for f in sorted(OURS) + ["init", "anim.c"]]
    stamp = digest(sources, PACKAGES + MODULES + args.ko)
    manifest = os.path.join(out, "desktop-manifest")
    if os.path.exists(manifest) and stamp in open(manifest).read():
        log("%s is up to date" % out)
        return
    t0 = time.time()
    root = os.path.join(args.cache, "desktop-root")
    debootstrap(root, os.path.join(args.cache, "debootstrap"))
    # mke2fs -d copies what STRIP leaves out of a scratch copy
    scratch = os.path.join(out, "root")
    shutil.rmtree(scratch, ignore_errors=True)
    subprocess.run(["cp", "-a", root, scratch], check=True)
    log("writing the root file system image")
    image(scratch, os.path.join(out, "rootfs.img"))
    shutil.rmtree(scratch)
    cmd = [sys.executable, os.path.join(HERE, "mkguest.py"), out,
           "--cache", os.path.join(args.cache, "debs"),
           "--init", os.path.join(DESKTOP, "init")]
    for m in MODULES:
        cmd += ["--module", m]
    for ko in args.ko:
        cmd += ["--ko", ko]
    subprocess.run(cmd, check=True)
    with open(manifest, "w") as f:
        f.write("packages %s\nmodules %s\nstamp %s\n" %
                (" ".join(PACKAGES), " ".join(MODULES), stamp))
    log("built %s in %.0f s" % (out, time.time() - t0))


if __name__ == "__main__":
    main()
