#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the vfio-display test guest from Debian's packages only: the kernel
# of linux-image-amd64 (its vmlinuz and the display driver's modules),
# busybox-static, and fbdraw.c built static here; /init is tests/guest/init.
# Nothing is installed on the host: the packages are fetched with
# `apt-get download` into a cache and unpacked with dpkg-deb.
#
# usage: mkguest.py OUTDIR [--cache DIR] [--module NAME]... [--ko FILE]...
#                   [--init FILE]
#   --module NAME   a module of the Debian kernel to load, with its
#                   dependencies (default: bochs, the bochs-drm driver)
#   --ko FILE       an out-of-tree module built for that kernel (mdpy-fb)
#   --init FILE     the guest's /init (default: tests/guest/init)
# Writes OUTDIR/vmlinuz, OUTDIR/initrd.gz and OUTDIR/manifest; does nothing
# when the manifest says the same inputs built them.

import argparse
import glob
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    print("mkguest: " + msg, file=sys.stderr, flush=True)


def kernel_package():
    out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"Depends: (linux-image-\S+-amd64)\b", out)
    if not m:
        sys.exit("mkguest: cannot resolve linux-image-amd64")
    return m.group(1)


def fetch(pkg, cache):
    """The .deb of @pkg's candidate version, downloaded once into @cache."""
    ver = subprocess.run(["apt-cache", "policy", pkg], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r"Candidate: (\S+)", ver)
    if not m or m.group(1) == "(none)":
        sys.exit("mkguest: no candidate for %s (apt-get update?)" % pkg)
    version = m.group(1).split(":")[-1]
    found = glob.glob(os.path.join(cache, "%s_*%s_*.deb" %
                                   (pkg, version)))
    if found:
        return found[0]
    log("downloading %s %s" % (pkg, version))
    os.makedirs(cache, exist_ok=True)
    subprocess.run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", pkg + "=" + m.group(1)],
                   cwd=cache, check=True, stdout=subprocess.DEVNULL)
    return glob.glob(os.path.join(cache, "%s_*%s_*.deb" %
                                  (pkg, version)))[0]


def unpack(deb, dest):
    if not os.path.isdir(dest):
        subprocess.run(["dpkg-deb", "-x", deb, dest + ".tmp"], check=True)
        os.rename(dest + ".tmp", dest)
    return dest


def module_index(moddir):
    index = {}
    for d, _, files in os.walk(moddir):
        for f in files:
            if f.endswith(".ko"):
                index[f[:-3].replace("-", "_")] = os.path.join(d, f)
    return index


def depends(path):
    """The depends= field of a module's .modinfo section."""
    m = re.search(rb"\0depends=([^\0]*)\0", open(path, "rb").read())
    return [d.decode() for d in m.group(1).split(b",") if d] if m else []


def load_order(index, names, extra):
    order = []

    def visit(name):
        name = name.replace("-", "_")
        if name in order:
            return
        if name not in index:
            sys.exit("mkguest: the kernel has no module %s" % name)
        for dep in depends(index[name]):
            visit(dep)
        order.append(name)

    for name in names:
        visit(name)
    for ko in extra:
        for dep in depends(ko):
            visit(dep)
        name = os.path.basename(ko)[:-3].replace("-", "_")
        index[name] = ko
        order.append(name)
    return order


class Cpio:
    """A newc archive, as the kernel unpacks an initramfs."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1

    def add(self, name, mode, data=b"", rdev=(0, 0)):
        name = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
            len(name), 0))
        self.ino += 1
        self.buf.write(hdr.encode() + name)
        self.buf.write(b"\0" * (-(110 + len(name)) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-len(data) % 4))

    def dir(self, name):
        self.add(name, 0o40755)

    def file(self, name, data, mode=0o100644):
        self.add(name, mode, data)

    def close(self):
        self.add("TRAILER!!!", 0)
        return self.buf.getvalue()


def digest(paths, words):
    h = hashlib.sha256()
    for p in paths:
        h.update(open(p, "rb").read())
    h.update(" ".join(words).encode())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--cache", default="/var/cache/vfio-display/debs")
    ap.add_argument("--module", action="append")
    ap.add_argument("--ko", action="append", default=[])
    ap.add_argument("--init", default=os.path.join(HERE, "init"))
    args = ap.parse_args()
    modules = args.module or ["bochs"]
    out = args.outdir
    os.makedirs(out, exist_ok=True)

    kpkg = kernel_package()
    sources = [os.path.join(HERE, f) for f in ("mkguest.py", "fbdraw.c")] + \
        [args.init] + args.ko
    stamp = digest(sources, [kpkg] + modules)
    manifest = os.path.join(out, "manifest")
    if os.path.exists(manifest) and stamp in open(manifest).read():
        log("%s is up to date (%s)" % (out, kpkg))
        return

    kroot = unpack(fetch(kpkg, args.cache), os.path.join(out, kpkg))
    bbroot = unpack(fetch("busybox-static", args.cache),
                    os.path.join(out, "busybox-static"))
    kver = kpkg[len("linux-image-"):]
    index = module_index(os.path.join(kroot, "lib/modules", kver))
    order = load_order(index, modules, args.ko)

    fbdraw = os.path.join(out, "fbdraw")
    subprocess.run(["cc", "-static", "-O2", "-Wall", "-Wextra", "-Werror",
                    "-o", fbdraw, os.path.join(HERE, "fbdraw.c")], check=True)

    cpio = Cpio()
    for d in ("bin", "dev", "etc", "lib", "lib/modules", "proc", "sys",
              "tmp"):
        cpio.dir(d)
    cpio.add("dev/console", 0o20600, rdev=(5, 1))
    cpio.file("init", open(args.init, "rb").read(), 0o100755)
    cpio.file("bin/busybox",
              open(os.path.join(bbroot, "bin/busybox"), "rb").read(),
              0o100755)
    cpio.file("bin/fbdraw", open(fbdraw, "rb").read(), 0o100755)
    for name in order:
        cpio.file("lib/modules/%s.ko" % name, open(index[name], "rb").read())
    cpio.file("etc/modules", "".join(n + "\n" for n in order).encode())
    with gzip.open(os.path.join(out, "initrd.gz.tmp"), "wb", 6) as f:
        f.write(cpio.close())
    os.rename(os.path.join(out, "initrd.gz.tmp"),
              os.path.join(out, "initrd.gz"))
    shutil.copyfile(os.path.join(kroot, "boot", "vmlinuz-" + kver),
                    os.path.join(out, "vmlinuz"))
    with open(manifest, "w") as f:
        f.write("kernel %s\nmodules %s\nstamp %s\n" %
                (kpkg, " ".join(order), stamp))
    log("built %s: %s, modules %s" % (out, kpkg, " ".join(order)))


if __name__ == "__main__":
    main()
