#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Debian's libvirt (9.0) and our QEMU: the domain XML of
# docs/system/devices/vfio-display-domain.xml, with libvirt's own cases
# tests/qemuxmlconfdata/hostdev-mdev-display-* (vnc, spice, spice-opengl,
# egl-headless, ramfb, missing-graphics), goes through
# `virsh domxml-to-native qemu-argv`: libvirtd probes our binary's QMP
# schema, emits a JSON -device for vfio-pci(-nohotplug) with "display"
# and "ramfb", and our QEMU runs that command line on the simulator, the
# test guest's bochs-drm drawing the xy pattern, seen by gvnccapture and
# spicy-screenshot pixel for pixel.  GL graphics need a DRM render node,
# which this host has not: libvirt refuses them, and says why.
#
# libvirtd runs in a mount namespace of its own, over temporary
# /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and
# /var/log/libvirt (lvhost.py), so the host's libvirt (if any) is neither
# seen nor changed; test-libvirt-start.py has libvirtd start a domain
# itself.  TAP output.
#
# usage: test-libvirt.py SIMLIB QEMU GUESTDIR

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "vfio-sim"))
from lvhost import Libvirtd, boot_test_guest, in_namespace, virsh  # noqa
from simtap import (Qmp, Tap, gvnccapture, qemu_stop,  # noqa: E402
                    sim_env, spicy_screenshot, until, xy_wrong)

DOMAIN_XML = os.path.join(TOP, "docs", "system", "devices",
                          "vfio-display-domain.xml")
UUID = "8a7fd6c2-0000-4000-8000-00000000b0c5"
W, H = 1024, 768
tap = Tap()
ok = tap.ok


def domain(qemu, guest, graphics, ramfb=True, name="vfio-display"):
    """The docs' domain XML for our @qemu and the test guest, with
    @graphics (a list of XML strings) instead of its VNC."""
    tree = ET.parse(DOMAIN_XML)
    dom = tree.getroot()
    dom.find("name").text = name
    dom.find("memory").text = "512"
    boot_test_guest(dom, guest)
    devs = dom.find("devices")
    devs.find("emulator").text = qemu
    for g in devs.findall("graphics"):
        devs.remove(g)
    for i, g in enumerate(graphics):
        devs.insert(2 + i, ET.fromstring(g))
    hostdev = devs.find("hostdev")
    if not ramfb:
        del hostdev.attrib["ramfb"]
    return ET.tostring(dom, encoding="unicode")


def to_native(tmp, xml, name):
    path = os.path.join(tmp, name + ".xml")
    with open(path, "w") as f:
        f.write(xml)
    return virsh("domxml-to-native", "qemu-argv", path)


def device_json(argv, driver):
    for i, a in enumerate(argv[:-1]):
        if a == "-device" and '"driver":"%s"' % driver in argv[i + 1]:
            return json.loads(argv[i + 1])
    return None


def run_native(tmp, simlib, qemu, line, case):
    """Run libvirt's command line (env assignments, then the binary) on
    the simulator, as libvirt would: the domain's directory and master
    key made first; started with -S, so continued over its monitor."""
    words = shlex.split(line)
    env = {}
    while words and "=" in words[0] and not words[0].startswith("/"):
        k, v = words.pop(0).split("=", 1)
        env[k] = v
    ok(words and words[0] == qemu,
       "%s: libvirt's command line runs our binary" % case, line)
    mon = re.search(r"-chardev socket,id=charmonitor,path=([^,]+),", line)
    key = re.search(r'"file":"([^"]+master-key\.aes)"', line)
    home = env.get("HOME", "")
    if home:
        os.makedirs(home, exist_ok=True)
    if key:
        os.makedirs(os.path.dirname(key.group(1)), exist_ok=True)
        with open(key.group(1), "wb") as f:
            f.write(os.urandom(32))
    with open(os.path.join(tmp, "config"), "w") as f:
        f.write("%s mbochs type=medium group=61\n" % UUID)
    penv = sim_env(simlib, tmp)
    penv.update(env)
    penv["PATH"] = os.environ["PATH"]
    proc = subprocess.Popen(words, env=penv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        qmp = Qmp(mon.group(1), timeout=30) if mon else None
    except (OSError, ValueError):
        qmp = None      # QEMU refused the command line: its stderr says why
    return proc, qmp


def xy_shown(img):
    return img is not None and img[:2] == (W, H) and xy_wrong(img) == 0


def test_runs(tmp, simlib, qemu, guest, case, graphics, capture):
    """A case libvirt accepts: its command line, run and looked at."""
    rc, line, err = to_native(tmp, domain(qemu, guest, [graphics]), case)
    ok(rc == 0, "%s: virsh domxml-to-native accepts the domain" % case,
       err)
    argv = shlex.split(line)
    dev = device_json(argv, "vfio-pci-nohotplug")
    ok(dev is not None and dev.get("display") == "on" and
       dev.get("ramfb") is True and
       dev.get("sysfsdev") == "/sys/bus/mdev/devices/" + UUID,
       "%s: a JSON -device vfio-pci-nohotplug with \"display\":\"on\" and "
       "\"ramfb\":true" % case, line)
    if rc:
        return
    proc, qmp = run_native(tmp, simlib, qemu, line, case)
    status = qmp.cmd("query-status")["return"]["status"] if qmp else None
    ok(status == "prelaunch",
       "%s: our QEMU accepts libvirt's command line (waits in -S)" % case,
       status or proc.communicate(timeout=30)[1])
    if not qmp:
        proc.kill()
        proc.wait()
        return
    qmp.cmd("cont")
    last = []

    def shown():
        i = capture()
        last[:] = [i]
        return i if xy_shown(i) else None
    img = until(shown, timeout=150, step=2)
    seen = last[0] if last else None
    ok(img is not None,
       "%s: the guest's bochs-drm output reaches the client pixel for "
       "pixel (xy pattern, 1024x768)" % case,
       "last capture: %s, %s pixels wrong" %
       (seen[:2] if seen else None, xy_wrong(seen) if seen else None))
    stats = qmp.cmd("qom-get", path="/machine/peripheral/hostdev0",
                    property="display-stats").get("return", {})
    ok(stats.get("readbacks", 0) > 0,
       "%s: through the dma-buf read-back path" % case, stats)
    err = qemu_stop(proc, qmp)
    ok(proc.returncode == 0 and "AddressSanitizer" not in err,
       "%s: QEMU quits cleanly" % case, err)


def test_refused(tmp, qemu, guest, case, graphics, message, why):
    rc, line, err = to_native(tmp, domain(qemu, guest, graphics), case)
    ok(rc != 0 and re.search(message, err),
       "%s: libvirt refuses the domain (%s)" % (case, why),
       "rc %d: %s %s" % (rc, err, line[:200]))


def main():
    in_namespace()
    simlib, qemu, guest = (os.path.abspath(a) for a in sys.argv[1:4])
    for f in (qemu, simlib, os.path.join(guest, "vmlinuz")):
        if not os.path.exists(f):
            print("1..0 # SKIP %s is not built" % f)
            return 0
    with tempfile.TemporaryDirectory() as tmp:
        lv = Libvirtd(tmp)
        try:
            run_cases(tmp, simlib, qemu, guest, lv)
        finally:
            lv.stop()
    return tap.done()


def run_cases(tmp, simlib, qemu, guest, lv):
    # the probe: libvirt's capabilities of our binary, from its QMP schema
    rc, line, err = to_native(tmp, domain(qemu, guest, [
        "<graphics type='vnc' port='5944' autoport='no' "
        "listen='127.0.0.1'/>"]), "probe")
    caps = ""
    capdir = "/var/cache/libvirt/qemu/capabilities"
    for f in os.listdir(capdir) if os.path.isdir(capdir) else []:
        caps += open(os.path.join(capdir, f)).read()
    ok(("<emulator>%s</emulator>" % qemu) in caps and
       "<flag name='vfio-pci.display'/>" in caps,
       "libvirt probed our binary: vfio-pci.display in its capabilities",
       caps[:500] or lv.log())
    ok(re.search(r"<version>10000\d+</version>", caps),
       "libvirt sees QEMU 10.0", re.findall(r"<version>\d+</version>",
                                            caps))

    vnc_png, spice_ppm = (os.path.join(tmp, f) for f in ("vnc.png",
                                                         "spice.ppm"))
    test_runs(tmp, simlib, qemu, guest, "hostdev-mdev-display-vnc",
              "<graphics type='vnc' port='5944' autoport='no' "
              "listen='127.0.0.1'/>", lambda: gvnccapture(5944, vnc_png)[0])
    test_runs(tmp, simlib, qemu, guest, "hostdev-mdev-display-spice",
              "<graphics type='spice' port='5945' autoport='no' "
              "listen='127.0.0.1'/>",
              lambda: spicy_screenshot(5945, spice_ppm)[0])

    # ramfb='on' picks vfio-pci-nohotplug; without it, plain vfio-pci
    rc, line, err = to_native(tmp, domain(qemu, guest, [
        "<graphics type='vnc' port='5944' autoport='no'/>"], ramfb=False),
        "hostdev-mdev-display-noramfb")
    dev = device_json(shlex.split(line), "vfio-pci")
    ok(rc == 0 and dev and dev.get("display") == "on" and
       "ramfb" not in dev,
       "hostdev-mdev-display (no ramfb): a plain vfio-pci, display on",
       line or err)

    gl = r"cannot open directory '/dev/dri'|render node"
    test_refused(tmp, qemu, guest, "hostdev-mdev-display-spice-opengl",
                 ["<graphics type='spice' autoport='yes'><gl enable='yes'/>"
                  "</graphics>"], gl, "no DRM render node")
    test_refused(tmp, qemu, guest, "hostdev-mdev-display-vnc-egl-headless",
                 ["<graphics type='vnc' autoport='yes'/>",
                  "<graphics type='egl-headless'/>"], gl,
                 "no DRM render node")
    test_refused(tmp, qemu, guest, "hostdev-mdev-display-missing-graphics",
                 [], "graphics device is needed for attribute value "
                 "'display=on' in <hostdev>", "no graphics")


sys.exit(main())
