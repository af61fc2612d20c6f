#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# libvirt starts our installed QEMU: Debian's libvirtd (9.0) runs `virsh
# start` on the desktop domain of docs/system/devices/vfio-display-
# desktop.xml (as virt-manager writes one: q35, USB tablet, virtio disk
# and user network, guest agent and spicevmc channels, HDA sound, SPICE
# and VNC, the mdev hostdev display='on' ramfb='on', video none) with our
# QEMU installed at /usr/local by `make install` and the simulator put
# into it through <qemu:commandline><qemu:env>.  `virsh screenshot`,
# gvnccapture and spicy-screenshot see the test guest's bochs-drm
# pattern pixel for pixel, through the dma-buf read-back path; `virsh
# destroy` ends it with nothing left, and the same domain starts again.
#
# libvirtd itself looks at the mdev before it starts QEMU: the
# simulator's sysfs tree (mdev_type/device_api, iommu_group) is
# bind-mounted into /sys and /dev/vfio/{vfio,N} are made (plain files:
# libvirtd only checks, chowns and locks them; inside QEMU the simulator
# plays the devices), in the test's own mount namespace (lvhost.py).
#
# A container without CAP_SYS_RESOURCE cannot raise RLIMIT_MEMLOCK, which
# libvirt does for every VFIO hostdev; the test then prints what it
# measured and starts the domain again with <memtune><hard_limit> at the
# host's limit, which libvirt takes as the memory-lock limit (an mdev's
# pages are pinned only by its vendor driver, on demand, not by QEMU).
# TAP output.
#
# usage: test-libvirt-start.py TOP SIMLIB GUESTDIR

import json
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
from lvhost import (Libvirtd, boot_test_guest, in_namespace,  # noqa: E402
                    merge_tree, virsh)
from simtap import (Tap, gvnccapture, read_png, spicy_screenshot,  # noqa
                    until, xy_wrong)

DOMAIN_XML = os.path.join(HERE, "..", "..", "docs", "system", "devices",
                          "vfio-display-desktop.xml")
NAME = "vfio-desktop"
UUID = "8a7fd6c2-0000-4000-8000-00000000b0c5"
DOMAIN_UUID = "d0a1b2c3-0000-4000-8000-00000000de5c"
GROUP = 61
PREFIX = "/usr/local"
QEMU = PREFIX + "/bin/qemu-system-x86_64"
SPICE_PORT, VNC_PORT = 5946, 5947
W, H = 1024, 768
CAP_SYS_RESOURCE = 24
# what virt-manager's domain becomes on QEMU's command line
DEVICES = ("qemu-xhci", "usb-tablet", "virtio-blk-pci", "virtio-net-pci",
           "virtio-serial-pci", "virtserialport", "ich9-intel-hda",
           "hda-duplex", "usb-redir", "virtio-balloon-pci", "virtio-rng-pci",
           "vfio-pci-nohotplug")
tap = Tap()
ok = tap.ok


def install(top, tmp):
    """`make install` (its script: the build is there) into a DESTDIR,
    shown at PREFIX in this namespace."""
    dest = os.path.join(tmp, "dest")
    r = subprocess.run([os.path.join(top, "scripts", "install.sh"), PREFIX,
                        dest], capture_output=True, text=True, timeout=1200)
    if r.returncode == 0:
        subprocess.run(["mount", "--bind", dest + PREFIX, PREFIX],
                       check=True)
    return r.returncode == 0 and os.access(QEMU, os.X_OK), \
        r.stdout + r.stderr


def host_for_libvirtd(tmp, simlib):
    """The simulator's mdev, as libvirtd looks for it: its sysfs tree
    (made by a process the simulator is loaded into) merged into /sys,
    and /dev/vfio."""
    with open(os.path.join(tmp, "config"), "w") as f:
        f.write("%s mbochs type=medium group=%d\n" % (UUID, GROUP))
    subprocess.run(["true"], check=True, env=dict(
        os.environ, LD_PRELOAD=simlib,
        VFIO_SIM_CONFIG=os.path.join(tmp, "config"),
        VFIO_SIM_DIR=os.path.join(tmp, "root")))
    stash = os.path.join(tmp, "stash")
    merge_tree(os.path.join(tmp, "root", "sys"), "/sys", stash)
    vfio = os.path.join(tmp, "dev", "vfio")
    os.makedirs(vfio)
    for node in ("vfio", str(GROUP)):
        open(os.path.join(vfio, node), "w").close()
    merge_tree(os.path.join(tmp, "dev"), "/dev", stash)
    # a bound /dev/ptmx finds no devpts beside it: the pts one, as in
    # containers (QEMU opens it for the domain's serial console)
    subprocess.run(["umount", "/dev/ptmx"], check=True)
    os.unlink("/dev/ptmx")
    os.symlink("pts/ptmx", "/dev/ptmx")


def domain(tmp, simlib, guest, memlock_kib=None):
    """The docs' desktop domain, for TCG, the test guest and the
    simulator."""
    ET.register_namespace("qemu", "http://libvirt.org/schemas/domain/qemu/"
                          "1.0")
    ET.register_namespace("libosinfo", "http://libosinfo.org/xmlns/libvirt/"
                          "domain/1.0")
    tree = ET.parse(DOMAIN_XML)
    dom = tree.getroot()
    # one uuid, so that the domain can be defined again
    dom.insert(1, ET.Element("uuid"))
    dom[1].text = DOMAIN_UUID
    dom.find("memory").text = dom.find("currentMemory").text = "524288"
    boot_test_guest(dom, guest)
    if memlock_kib:
        mt = ET.Element("memtune")
        ET.SubElement(mt, "hard_limit", unit="KiB").text = str(memlock_kib)
        dom.insert(list(dom).index(dom.find("vcpu")) + 1, mt)
    devs = dom.find("devices")
    devs.find("disk/source").set("file", os.path.join(tmp, "disk.qcow2"))
    for g, port in ((devs.find("graphics[@type='spice']"), SPICE_PORT),
                    (devs.find("graphics[@type='vnc']"), VNC_PORT)):
        g.set("autoport", "no")
        g.set("port", str(port))
    ns = "{http://libvirt.org/schemas/domain/qemu/1.0}"
    cl = ET.SubElement(dom, ns + "commandline")
    for k, v in (("LD_PRELOAD", simlib),
                 ("VFIO_SIM_CONFIG", os.path.join(tmp, "config")),
                 ("VFIO_SIM_DIR", os.path.join(tmp, "root"))):
        ET.SubElement(cl, ns + "env", name=k, value=v)
    path = os.path.join(tmp, NAME + ".xml")
    tree.write(path)
    return path


def memlock_refused(err):
    """Whether @err is libvirt failing to raise RLIMIT_MEMLOCK because
    this process may not (no CAP_SYS_RESOURCE, a lower hard limit): the
    measured reason, or None."""
    m = re.search(r"cannot limit locked memory of process \d+ to (\d+): "
                  r"Operation not permitted", err)
    if not m:
        return None
    caps = int(re.search(r"^CapEff:\s*(\S+)", open("/proc/self/status").read(),
                         re.M).group(1), 16)
    hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]
    if caps & (1 << CAP_SYS_RESOURCE) or hard >= int(m.group(1)):
        return None
    return ("libvirt raises RLIMIT_MEMLOCK to %d MiB for the VFIO hostdev; "
            "this host's hard limit is %d KiB and it has no "
            "CAP_SYS_RESOURCE" % (int(m.group(1)) >> 20, hard >> 10))


def qemu_pid():
    try:
        return int(open("/run/libvirt/qemu/%s.pid" % NAME).read())
    except (OSError, ValueError):
        return None


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def monitor(cmd, **args):
    rc, out, err = virsh("qemu-monitor-command", NAME,
                         json.dumps({"execute": cmd, "arguments": args}))
    return json.loads(out).get("return") if rc == 0 else None


def start(tmp, simlib, guest):
    """virsh define and start: whether it runs, and the limit used."""
    rc, out, err = virsh("define", domain(tmp, simlib, guest))
    ok(rc == 0, "virsh define: the desktop domain of the docs", err)
    rc, out, err = virsh("start", NAME)
    why = memlock_refused(err) if rc else None
    if why:
        print("# measured: " + why)
        hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]
        ok(True, "virsh start: refused only for the memory-lock limit "
           "(%s)" % why)
        rc, out, err = virsh("define", domain(tmp, simlib, guest,
                                              memlock_kib=hard >> 10))
        if rc == 0:
            rc, out, err = virsh("start", NAME)
    ok(rc == 0, "virsh start: libvirtd starts our installed QEMU on the "
       "simulated mbochs%s" % (" (memtune hard_limit at the host's limit)"
                               if why else ""), err)
    return rc == 0


def check_running():
    pid = qemu_pid()
    ok(pid and os.path.realpath("/proc/%d/exe" % pid) == QEMU,
       "the domain runs %s, the installed binary" % QEMU,
       "pid %s" % pid)
    if not pid:
        return None
    argv = open("/proc/%d/cmdline" % pid).read().split("\0")
    line = " ".join(shlex.quote(a) for a in argv)
    drivers = set(json.loads(a).get("driver") for a in argv
                  if a.startswith("{") and '"driver"' in a)
    vfio = [json.loads(a) for a in argv if '"vfio-pci-nohotplug"' in a]
    ok(not set(DEVICES) - drivers and vfio and
       vfio[0].get("display") == "on" and vfio[0].get("ramfb") is True and
       '"type":"user"' in line and "-spice" in argv and "-vnc" in argv,
       "libvirt's command line has the desktop's devices, user network, "
       "SPICE, VNC, and the vGPU with display and ramfb",
       "missing %s\n%s" % (sorted(set(DEVICES) - drivers), line))
    return pid


def check_shown(tmp):
    shots = (("virsh screenshot", lambda p: virsh_shot(p), "shot.png"),
             ("gvnccapture", lambda p: gvnccapture(VNC_PORT, p)[0],
              "vnc.png"),
             ("spicy-screenshot", lambda p: spicy_screenshot(SPICE_PORT,
                                                              p)[0],
              "spice.ppm"))
    for what, take, name in shots:
        path = os.path.join(tmp, name)
        last = []

        def shown():
            img = take(path)
            last[:] = [img]
            return img if img and img[:2] == (W, H) and \
                xy_wrong(img) == 0 else None
        img = until(shown, timeout=150, step=2)
        seen = last[0] if last else None
        ok(img is not None, "%s shows the guest's bochs-drm output pixel "
           "for pixel (xy pattern, %dx%d)" % (what, W, H),
           "last: %s, %s pixels wrong" % (
               seen[:2] if seen else None, xy_wrong(seen) if seen else None))
    stats = monitor("qom-get", path="/machine/peripheral/hostdev0",
                    property="display-stats") or {}
    ok(stats.get("readbacks", 0) > 0 and stats.get("imports", 0) > 0,
       "through the dma-buf read-back path (display-stats over virsh "
       "qemu-monitor-command)", stats)


def virsh_shot(path):
    if os.path.exists(path):
        os.unlink(path)
    rc, out, err = virsh("screenshot", NAME, path)
    try:
        return read_png(path) if rc == 0 else None
    except (OSError, ValueError):
        return None


def check_destroyed(tmp, pid, again=""):
    rc, out, err = virsh("destroy", NAME)
    state = virsh("domstate", NAME)[1]
    gone = until(lambda: not alive(pid), timeout=30)
    left = [p for p in os.listdir("/run/libvirt/qemu")
            if p.startswith(NAME) or p.startswith("domain-")] + \
        [p for p in os.listdir("/var/lib/libvirt/qemu")
         if p.startswith("domain-")]
    lock = subprocess.run([PREFIX + "/bin/qemu-img", "info",
                           os.path.join(tmp, "disk.qcow2")],
                          capture_output=True, text=True)
    ok(rc == 0 and state == "shut off" and gone and not left and
       lock.returncode == 0,
       "virsh destroy%s: shut off, QEMU gone, no pid file, socket or "
       "domain directory left, the disk unlocked" % again,
       "%s %s state %r, gone %s, left %s; %s" % (out, err, state, gone, left,
                                                 lock.stderr))


def main():
    in_namespace()
    top = os.path.abspath(sys.argv[1])
    simlib, guest = (os.path.abspath(a) for a in sys.argv[2:4])
    for f in (simlib, os.path.join(guest, "vmlinuz")):
        if not os.path.exists(f):
            print("1..0 # SKIP %s is not built" % f)
            return 0
    with tempfile.TemporaryDirectory() as tmp:
        installed, log = install(top, tmp)
        ok(installed, "make install PREFIX=%s: our QEMU at %s" % (PREFIX,
                                                                   QEMU), log)
        if not installed:
            return tap.done()
        subprocess.run([PREFIX + "/bin/qemu-img", "create", "-q", "-f",
                        "qcow2", os.path.join(tmp, "disk.qcow2"), "64M"],
                       check=True)
        host_for_libvirtd(tmp, simlib)
        lv = Libvirtd(tmp)
        try:
            run(tmp, simlib, guest)
        finally:
            virsh("destroy", NAME)
            lv.stop()
    return tap.done()


def run(tmp, simlib, guest):
    if not start(tmp, simlib, guest):
        return
    pid = check_running()
    if not pid:
        return
    check_shown(tmp)
    check_destroyed(tmp, pid)
    # nothing holds the mdev or the disk: the domain starts again
    rc, out, err = virsh("start", NAME)
    pid = qemu_pid() if rc == 0 else None
    ok(pid and until(lambda: virsh("domstate", NAME)[1] == "running", 30),
       "virsh start again after destroy: running", err)
    if pid:
        check_destroyed(tmp, pid, " (again)")
    rc, out, err = virsh("undefine", NAME)
    ok(rc == 0 and virsh("list", "--all", "--name")[1] == "",
       "virsh undefine: no domain left", err)


sys.exit(main())
