#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our qemu-system-x86_64 against Debian's stock one (qemu-system-x86 10.0):
# device types, machine types, QMP commands and events, audio drivers,
# netdev and tpmdev backends.  Whatever stock has and we lack must be an
# exception named, with its reason, in the README's section "Differences
# from Debian's qemu-system-x86"; and the devices a desktop VM needs are
# there by name.  TAP output.
#
# usage: test-stock.py OURS STOCK README

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

OURS, STOCK, README = sys.argv[1:4]
n = 0
failed = 0

# what a VM of virt-manager's, libvirt's or Proxmox's needs, by name
NEEDED = [
    "virtio-blk-pci", "virtio-scsi-pci", "scsi-hd", "virtio-net-pci",
    "virtio-gpu-pci", "virtio-vga", "virtio-keyboard-pci",
    "virtio-tablet-pci", "virtio-serial-pci", "virtserialport",
    "virtio-balloon-pci", "virtio-rng-pci", "vhost-user-blk-pci",
    "vhost-vsock-pci", "qemu-xhci", "nec-usb-xhci", "ich9-usb-ehci1",
    "usb-tablet", "usb-kbd", "usb-host", "usb-redir", "e1000", "e1000e",
    "rtl8139", "ich9-ahci", "ide-hd", "ide-cd", "nvme", "intel-hda", "ich9-intel-hda",
    "hda-duplex", "hda-output", "VGA", "qxl-vga", "bochs-display",
    "ramfb", "vfio-pci", "vfio-pci-nohotplug", "pcie-root-port", "tpm-crb",
    "tpm-tis", "isa-serial", "pvpanic",
]


def ok(cond, name, diag=""):
    global n, failed
    n += 1
    if not cond:
        failed += 1
        for line in str(diag).splitlines()[-20:]:
            print("# " + line)
    print("%sok %d - %s" % ("" if cond else "not ", n, name), flush=True)


def helplist(qemu, *args):
    """The names a QEMU lists for a help option."""
    r = subprocess.run([qemu] + list(args), capture_output=True, text=True,
                       timeout=120)
    names = set()
    for line in (r.stdout + r.stderr).splitlines():
        m = re.match(r'name "([^"]+)"', line)
        if m:
            names.add(m.group(1))
        elif args[0] == "-machine":
            if line and not line.startswith("Supported"):
                names.add(line.split()[0])
        elif line.strip() and not line.startswith(("Available",
                                                     "Supported")):
            names.add(line.split()[0])
    return names


def schema(qemu):
    """Names of the QMP commands and events a QEMU has."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "qmp.sock")
        p = subprocess.Popen([qemu, "-M", "none", "-nodefaults", "-display",
                              "none", "-qmp", "unix:%s,server=on,wait=on"
                              % path], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if os.path.exists(path):
                    break
                if p.poll() is not None:
                    break
                time.sleep(0.05)
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            f = s.makefile("rw")
            f.readline()
            out = {}
            for cmd in ("qmp_capabilities", "query-qmp-schema", "quit"):
                f.write(json.dumps({"execute": cmd}) + "\n")
                f.flush()
                while True:
                    rsp = json.loads(f.readline())
                    if "return" in rsp or "error" in rsp:
                        break
                out[cmd] = rsp.get("return")
            s.close()
        finally:
            p.wait(30)
    return {"%s %s" % (e["meta-type"], e["name"])
            for e in out["query-qmp-schema"]
            if e["meta-type"] in ("command", "event")}


def exceptions():
    """README's "Differences from Debian's qemu-system-x86": the names."""
    text = open(README).read()
    m = re.search(r"^## Differences from Debian's qemu-system-x86\n(.*?)^## ",
                  text, re.S | re.M)
    names = {}
    for line in (m.group(1) if m else "").splitlines():
        m2 = re.match(r"- `([^`]+)`(?: \(([^)]*)\))?: (.+)", line)
        if m2:
            names[m2.group(1)] = m2.group(3)
    return names


def main():
    exc = exceptions()
    kinds = [
        ("device types", ("-device", "help")),
        ("machine types", ("-machine", "help")),
        ("audio drivers", ("-audiodev", "help")),
        ("netdev backends", ("-netdev", "help")),
        ("tpmdev backends", ("-tpmdev", "help")),
    ]
    ours_devices = set()
    for what, args in kinds:
        ours, stock = helplist(OURS, *args), helplist(STOCK, *args)
        if args[0] == "-device":
            ours_devices = ours
        lack = sorted(stock - ours)
        unexplained = [x for x in lack if x not in exc]
        print("# %s: ours %d, stock %d; we lack: %s" %
              (what, len(ours), len(stock), ", ".join(lack) or "nothing"))
        ok(len(ours) > 0 and len(stock) > 0 and not unexplained,
           "%s: all of stock's, or an exception in the README" % what,
           "not explained: %s" % ", ".join(unexplained))
    ours, stock = schema(OURS), schema(STOCK)
    lack = sorted(stock - ours)
    unexplained = [x for x in lack if x.split()[1] not in exc]
    print("# QMP: ours %d, stock %d commands and events; we lack: %s" %
          (len(ours), len(stock), ", ".join(lack) or "nothing"))
    ok(len(ours) > 100 and not unexplained,
       "QMP commands and events: all of stock's, or an exception",
       "not explained: %s" % ", ".join(unexplained))
    missing = [d for d in NEEDED if d not in ours_devices]
    ok(not missing, "the devices a desktop VM needs are there (%d)" %
       len(NEEDED), "missing: %s" % ", ".join(missing))
    r = subprocess.run([OURS, "-M", "none", "-nodefaults", "-display", "none",
                        "-sandbox", "on", "-S", "-qmp", "stdio"],
                       input='{"execute":"qmp_capabilities"}\n'
                       '{"execute":"quit"}\n', capture_output=True,
                       text=True, timeout=60)
    ok(r.returncode == 0, "seccomp: -sandbox on", r.stderr)
    print("1..%d" % n)
    return 1 if failed else 0


sys.exit(main())
