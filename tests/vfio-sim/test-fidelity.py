#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fidelity of vfio-sim with Debian's stock QEMU 10.0 (no qtest accelerator):
# the simulator must make an unmodified QEMU behave as on the real kernel.
# mdpy: display=on realizes and QMP screendump shows what was written into
# BAR0 (via the gdbstub's physical memory mode); mbochs on a non-GL display
# fails realize with "opengl not available"; gvt realizes as a PCI device
# with display=off (scripted over the control socket from outside QEMU)
# and fails like mbochs with display=on.  TAP output.
#
# usage: test-fidelity.py SIMLIB [QEMU]

import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simtap import Qmp, Tap, control, sim_env  # noqa: E402

SIMLIB = sys.argv[1]
QEMU = sys.argv[2] if len(sys.argv) > 2 else "/usr/bin/qemu-system-x86_64"
MDPY = "aaaaaaaa-0000-4000-8000-00000000000a"
MBOCHS = "bbbbbbbb-0000-4000-8000-00000000000b"
GVT = "cccccccc-0000-4000-8000-00000000000c"
W, H = 640, 480                 # mdpy type vga
BAR0 = 0xc0000000               # above q35's MMCONFIG window
SLOT = 3                        # 00:03.0 on pcie.0

tap = Tap()
ok = tap.ok


class Gdb:
    """Just enough of the remote protocol to write guest-physical memory."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))

    def packet(self, body):
        csum = sum(body.encode()) % 256
        self.sock.sendall(("$%s#%02x" % (body, csum)).encode())
        reply = b""
        while not reply.endswith(b"#") or len(reply) < 2:
            reply += self.sock.recv(1)
            if reply == b"+":
                reply = b""
        self.sock.recv(2)
        self.sock.sendall(b"+")
        return reply[1:-1].decode()

    def write(self, addr, data):
        for off in range(0, len(data), 1024):
            chunk = data[off:off + 1024]
            r = self.packet("M%x,%x:%s" % (addr + off, len(chunk), chunk.hex()))
            if r != "OK":
                raise RuntimeError("gdb M: %r" % r)


def start(tmp, device, extra=()):
    env = sim_env(SIMLIB, tmp)
    args = [QEMU, "-M", "q35", "-nodefaults", "-display", "none", "-S",
            "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % tmp,
            "-device", device] + list(extra)
    return subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)


def cfg_write(qmp, reg, size, value):
    addr = 0x80000000 | (SLOT << 11) | reg
    # HMP sizes: h = 16 bit, w = 32 bit
    for line in ("o /w 0xcf8 0x%x" % addr,
                 "o /%s 0x%x 0x%x" % ("h" if size == 2 else "w",
                                      0xcfc + (reg & 3), value)):
        out = qmp.hmp(line).get("return")
        if out:
            raise RuntimeError("HMP %s: %s" % (line, out))


def test_mdpy(tmp):
    port = 20000 + os.getpid() % 20000
    dev = "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,display=on," \
          "bus=pcie.0,addr=0x%x" % (MDPY, SLOT)
    proc = start(tmp, dev, ["-gdb", "tcp:127.0.0.1:%d" % port])
    qmp = Qmp(tmp + "/qmp.sock")
    st = qmp.cmd("query-status")
    ok("return" in st, "stock mdpy: display=on realizes and QMP answers",
       proc.stderr.read() if "return" not in st else "")
    if "return" not in st:
        return
    cfg_write(qmp, 0x10, 4, BAR0)
    cfg_write(qmp, 0x04, 2, 0x0002)          # memory space enable
    gdb = Gdb(port)
    gdb.packet("Qqemu.PhyMemMode:1")
    # a 64x32 box of one colour at (16, 8), written into BAR0
    box = bytes([0x30, 0x60, 0xc0, 0x00]) * 64
    for y in range(8, 40):
        gdb.write(BAR0 + (y * W + 16) * 4, box)
    dump = tmp + "/mdpy.ppm"
    qmp.cmd("screendump", filename=dump)
    data = open(dump, "rb").read()
    pix = data[len(b"P6\n%d %d\n255\n" % (W, H)):]

    def rgb(x, y):
        return tuple(pix[(y * W + x) * 3:(y * W + x) * 3 + 3])

    ok(data.startswith(b"P6\n%d %d\n" % (W, H)),
       "stock mdpy: screendump is the %dx%d plane" % (W, H), data[:20])
    ok(all(rgb(x, y) == (0xc0, 0x60, 0x30)
           for y in range(8, 40) for x in range(16, 80)),
       "stock mdpy: the box written into BAR0 is on screen",
       "%r" % (rgb(16, 8),))
    ok(all(rgb(100, y) == (y * 255 // H,) * 3 for y in range(H)),
       "stock mdpy: the rest is the kernel's gray gradient",
       "%r" % (rgb(100, H - 1),))
    qmp.cmd("quit")
    proc.wait(timeout=20)


def test_gvt(tmp):
    dev = "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,display=off," \
          "bus=pcie.0,addr=0x%x" % (GVT, SLOT)
    proc = start(tmp, dev)
    qmp = Qmp(tmp + "/qmp.sock")
    pci = qmp.hmp("info pci").get("return", "")
    ok("VGA controller: PCI device 8086:5912" in pci,
       "stock gvt: display=off realizes an Intel VGA device", pci)
    rsp = control(tmp, "present %s width=1024 height=768 pattern=xy" % GVT)
    ok(rsp.startswith("ok gma="),
       "stock gvt: the control socket scripts the device in QEMU", rsp)
    qmp.cmd("quit")
    proc.wait(timeout=20)


def test_nogl(tmp, uuid, model):
    dev = "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,display=on," \
          "bus=pcie.0,addr=0x%x" % (uuid, SLOT)
    proc = start(tmp, dev)
    try:
        err = proc.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        err = proc.communicate()[1]
    ok(proc.returncode == 1 and "opengl not available" in err,
       "stock %s on -display none: realize fails, opengl not available"
       % model,
       "exit %s: %s" % (proc.returncode, err))


def main():
    if not os.access(QEMU, os.X_OK):
        print("1..0 # SKIP no %s" % QEMU)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        with open(tmp + "/config", "w") as f:
            f.write("%s mdpy type=vga group=51\n" % MDPY)
            f.write("%s mbochs type=small group=52\n" % MBOCHS)
            f.write("%s gvt group=53\n" % GVT)
        test_mdpy(tmp)
        test_nogl(tmp, MBOCHS, "mbochs")
        test_gvt(tmp)
        test_nogl(tmp, GVT, "gvt")
    return tap.done()


sys.exit(main())
