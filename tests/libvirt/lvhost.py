# SPDX-License-Identifier: GPL-2.0-or-later
#
# A libvirt host for the tests, made inside a mount namespace of their
# own: libvirtd and virtlogd over temporary /etc/libvirt, /run/libvirt,
# /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt, so that the
# machine's libvirt (if any) is neither seen nor changed; and, for a
# domain that libvirtd starts itself, the simulator's mdev sysfs tree and
# /dev/vfio nodes where libvirtd looks for them.  Everything mounted here
# goes away with the namespace, when the test exits.

import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

LIBVIRT_DIRS = ("/etc/libvirt", "/run/libvirt", "/var/lib/libvirt",
                "/var/cache/libvirt", "/var/log/libvirt")
ENV = "VFIO_DISPLAY_LIBVIRT_NS"


def in_namespace():
    """Re-run this test in a mount namespace of its own; TAP SKIP where
    that or libvirtd is not available."""
    if os.environ.get(ENV) == "1":
        return
    if os.geteuid() != 0 or not shutil.which("libvirtd"):
        print("1..0 # SKIP needs root and libvirtd (scripts/deps.sh)")
        sys.exit(0)
    r = subprocess.run(["unshare", "--mount", "--propagation", "private",
                        sys.executable] + sys.argv,
                       env=dict(os.environ, **{ENV: "1"}))
    sys.exit(r.returncode)


def mount(*args):
    subprocess.run(["mount"] + list(args), check=True)


def graft(path, extra, stashdir):
    """Make directory @path show its own entries and those of @extra
    (name: source path) too: a tmpfs over @path holding a bind mount of
    every original entry (kept through a new directory in @stashdir) and
    of every extra one.  For directories that cannot get new entries,
    such as sysfs's and devtmpfs's."""
    os.makedirs(stashdir, exist_ok=True)
    stash = tempfile.mkdtemp(dir=stashdir)
    mount("--rbind", path, stash)
    mount("-t", "tmpfs", "-o", "mode=755", "vfio-display-test", path)
    entries = [(n, os.path.join(stash, n)) for n in os.listdir(stash)]
    for name, src in entries + sorted(extra.items()):
        dst = os.path.join(path, name)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
            continue
        if os.path.isdir(src):
            os.mkdir(dst)
        else:
            open(dst, "w").close()
        mount("--rbind", src, dst)
    # the binds hold what they show: the stash goes, so that removing
    # @stashdir can never reach into the original @path
    subprocess.run(["umount", "--recursive", "--lazy", stash], check=True)
    os.rmdir(stash)


def merge_tree(src, dst, stashdir):
    """Show every entry of the tree @src that directory @dst lacks at the
    same place under @dst, grafting at the deepest directory that exists
    on both sides (deepest first); the grafted entries are @src's own,
    bind-mounted, so that changes to @src are seen."""
    missing = {}
    for name in sorted(os.listdir(src)):
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if not os.path.lexists(d):
            missing[name] = s
        elif (os.path.isdir(s) and not os.path.islink(s) and
              os.path.isdir(d) and not os.path.islink(d)):
            merge_tree(s, d, stashdir)
    if missing:
        graft(dst, missing, stashdir)


class Libvirtd:
    """libvirtd and virtlogd over private directories, the QEMU driver
    running domains as root with neither cgroups nor a private /dev (this
    kind of machine, a container, has no writable cgroup for them) and
    without a security driver."""

    def __init__(self, tmp):
        self.root = os.path.join(tmp, "libvirt")
        for d in LIBVIRT_DIRS:
            priv = self.root + d
            if d == "/etc/libvirt":
                shutil.copytree(d, priv)
            else:
                os.makedirs(priv)
            os.makedirs(d, exist_ok=True)
            mount("--bind", priv, d)
        with open("/etc/libvirt/qemu.conf", "w") as f:
            f.write('user = "root"\ngroup = "root"\n'
                    'security_driver = "none"\n'
                    'namespaces = [ ]\ncgroup_controllers = [ ]\n')
        self.pids = []
        for daemon in ("virtlogd", "libvirtd"):
            pidfile = "/run/libvirt/test-%s.pid" % daemon
            subprocess.run([daemon, "--daemon", "--pid-file", pidfile],
                           check=True)
            self.pids.append(pidfile)
        end = time.time() + 30
        while not (os.path.exists("/run/libvirt/libvirt-sock") and
                   os.path.exists("/run/libvirt/virtlogd-sock")):
            if time.time() > end:
                raise RuntimeError("libvirtd did not start: " + self.log())
            time.sleep(0.1)

    def log(self):
        try:
            return open("/var/log/libvirt/libvirtd.log").read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        for pidfile in reversed(self.pids):
            try:
                pid = int(open(pidfile).read())
                os.kill(pid, 15)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.1)
            except (OSError, ValueError):
                pass


def virsh(*args, timeout=120):
    """virsh on the test's libvirtd: (status, stdout, stderr)."""
    r = subprocess.run(["virsh", "-c", "qemu:///system"] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def boot_test_guest(dom, guest):
    """Domain element @dom runs under TCG (no KVM on this kind of machine)
    on one vCPU, booting the test guest in directory @guest straight into
    its xy pattern on bochs-drm at 1024x768."""
    dom.set("type", "qemu")
    dom.find("vcpu").text = "1"
    os_el = dom.find("os")
    for tag, text in (("kernel", os.path.join(guest, "vmlinuz")),
                      ("initrd", os.path.join(guest, "initrd.gz")),
                      ("cmdline", "console=ttyS0 panic=-1 video=1024x768 "
                       "vt.global_cursor_default=0 guest.run=pattern")):
        ET.SubElement(os_el, tag).text = text
