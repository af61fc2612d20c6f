#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the kernel's own VFIO mdev samples (samples/vfio-mdev/ of Debian's
# linux-source for the kernel of linux-image-amd64) as out-of-tree modules
# against that kernel's linux-headers: mdpy-fb (the guest driver of the
# mdpy sample device), and the host-side mbochs and mdpy.
#
# usage: mksamples.py OUTDIR [MODULE...]     (default: mdpy-fb)
# Installs linux-headers-<kver> when missing (the only thing installed on
# the host), fetches linux-source-<major.minor> with `apt-get download`
# into the package cache, and leaves OUTDIR/<module>.ko; does nothing when
# the modules are there for the same kernel and sources.

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mkguest import fetch, kernel_package  # noqa: E402

SOURCES = {
    "mdpy-fb": ["mdpy-fb.c", "mdpy-defs.h"],
    "mdpy": ["mdpy.c", "mdpy-defs.h"],
    "mbochs": ["mbochs.c"],
}


def log(msg):
    print("mksamples: " + msg, file=sys.stderr, flush=True)


def headers(kver):
    """The kbuild tree of @kver, installing linux-headers-@kver once."""
    kdir = "/usr/src/linux-headers-" + kver
    if not os.path.exists(os.path.join(kdir, "Makefile")):
        log("installing linux-headers-" + kver)
        subprocess.run(["apt-get", "install", "-y", "-q",
                        "--no-install-recommends", "linux-headers-" + kver],
                       check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ,
                                DEBIAN_FRONTEND="noninteractive"))
    return kdir


def extract(srcpkg, cache, dest, files):
    """samples/vfio-mdev/@files of the kernel tarball in @srcpkg."""
    deb = fetch(srcpkg, cache)
    tarball = "./usr/src/%s.tar.xz" % srcpkg
    top = srcpkg
    members = ["%s/samples/vfio-mdev/%s" % (top, f) for f in files]
    log("extracting %s from %s" % (" ".join(files), os.path.basename(deb)))
    os.makedirs(dest, exist_ok=True)
    # --occurrence stops reading at the last member: the writers before
    # it in the pipe then die of SIGPIPE, which is expected
    deb_tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    xz = subprocess.Popen(["tar", "-xO", "-f", "-", tarball],
                          stdin=deb_tar.stdout, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
    deb_tar.stdout.close()
    subprocess.run(["tar", "-xJ", "-f", "-", "-C", dest,
                    "--strip-components=3", "--occurrence"] + members,
                   stdin=xz.stdout, check=True)
    xz.stdout.close()
    xz.wait()
    deb_tar.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("modules", nargs="*", default=["mdpy-fb"])
    ap.add_argument("--cache", default="/var/cache/vfio-display/debs")
    args = ap.parse_args()
    for m in args.modules:
        if m not in SOURCES:
            sys.exit("mksamples: no sample module %s (%s)" %
                     (m, ", ".join(SOURCES)))

    kpkg = kernel_package()
    kver = kpkg[len("linux-image-"):]
    major = ".".join(kver.split(".")[:2])
    srcpkg = "linux-source-" + major
    out = os.path.abspath(args.outdir)
    stamp = "%s %s\n" % (kver, " ".join(sorted(args.modules)))
    manifest = os.path.join(out, "manifest")
    if (os.path.exists(manifest) and open(manifest).read() == stamp and
            all(os.path.exists(os.path.join(out, m + ".ko"))
                for m in args.modules)):
        log("%s is up to date (%s)" % (out, kver))
        return

    kdir = headers(kver)
    files = sorted({f for m in args.modules for f in SOURCES[m]})
    src = os.path.join(out, "src")
    if not all(os.path.exists(os.path.join(src, f)) for f in files):
        extract(srcpkg, args.cache, src, files)
    with open(os.path.join(src, "Kbuild"), "w") as f:
        f.write("obj-m := %s\n" % " ".join(m + ".o" for m in args.modules))
    subprocess.run(["make", "-s", "-C", kdir, "M=" + src, "modules"],
                   check=True)
    for m in args.modules:
        os.replace(os.path.join(src, m + ".ko"), os.path.join(out, m + ".ko"))
    with open(manifest, "w") as f:
        f.write(stamp)
    log("built %s for %s" % (" ".join(m + ".ko" for m in args.modules),
                             kver))


if __name__ == "__main__":
    main()
