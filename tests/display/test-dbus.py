#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our QEMU's vfio display as a D-Bus display client sees it: -display dbus
# (the org.qemu.Display1 interface), on a private session bus and peer to
# peer (p2p=yes, the connection handed over QMP's add_client).  The
# listener here is a client as QEMU's own ui/dbus-listener.c expects one:
# it registers with Console.RegisterListener over a socket pair, then
# answers QEMU's calls on /org/qemu/Display1/Listener: Scanout and Update
# (2D, gl=off: our dma-bufs read back), ScanoutDMABUF and UpdateDMABUF
# (gl=on), CursorDefine and MouseSet (the cursor plane).  Each frame is
# compared pixel for pixel with the simulator's pattern.  A dma-buf is
# looked at by mapping the fd QEMU passed: the simulator's buffers are
# memfds, which this process (not QEMU, where the simulator refuses it as
# a vendor does) may map; a real client imports it with EGL.  TAP output.
#
# usage: test-dbus.py SIMLIB QEMU

import mmap
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import Tap, control, until, xy_rgb  # noqa: E402
from display import CONFIG, GVT, MDPY, Qemu, frame, present_xy  # noqa: E402

SIMLIB, QEMU = sys.argv[1:3]
tap = Tap()
ok = tap.ok

# the Listener interface a client implements (docs: ui/dbus-display1.xml)
LISTENER_XML = """
<node>
  <interface name="org.qemu.Display1.Listener">
    <method name="Scanout">
      <arg type="u" direction="in"/><arg type="u" direction="in"/>
      <arg type="u" direction="in"/><arg type="u" direction="in"/>
      <arg type="ay" direction="in"/>
    </method>
    <method name="Update">
      <arg type="i" direction="in"/><arg type="i" direction="in"/>
      <arg type="i" direction="in"/><arg type="i" direction="in"/>
      <arg type="u" direction="in"/><arg type="u" direction="in"/>
      <arg type="ay" direction="in"/>
    </method>
    <method name="ScanoutDMABUF">
      <arg type="h" direction="in"/><arg type="u" direction="in"/>
      <arg type="u" direction="in"/><arg type="u" direction="in"/>
      <arg type="u" direction="in"/><arg type="t" direction="in"/>
      <arg type="b" direction="in"/>
    </method>
    <method name="UpdateDMABUF">
      <arg type="i" direction="in"/><arg type="i" direction="in"/>
      <arg type="i" direction="in"/><arg type="i" direction="in"/>
    </method>
    <method name="Disable"/>
    <method name="MouseSet">
      <arg type="i" direction="in"/><arg type="i" direction="in"/>
      <arg type="i" direction="in"/>
    </method>
    <method name="CursorDefine">
      <arg type="i" direction="in"/><arg type="i" direction="in"/>
      <arg type="i" direction="in"/><arg type="i" direction="in"/>
      <arg type="ay" direction="in"/>
    </method>
    <property name="Interfaces" type="as" access="read"/>
  </interface>
</node>
"""
PATH = "/org/qemu/Display1/Listener"
CONSOLE = "/org/qemu/Display1/Console_0"
XRGB8888 = 0x34325258                   # DRM_FORMAT_XRGB8888, "XR24"
PIXMAN_X8R8G8B8 = 0x20020888


def rgb_of_xrgb(data, width, height, stride):
    """R, G, B bytes of x8r8g8b8 little-endian rows (B, G, R, X)."""
    out = bytearray(width * height * 3)
    for y in range(height):
        row = data[y * stride:y * stride + width * 4]
        o = y * width * 3
        out[o:o + width * 3:3] = row[2::4]
        out[o + 1:o + width * 3:3] = row[1::4]
        out[o + 2:o + width * 3:3] = row[0::4]
    return bytes(out)


class Listener:
    """A Display1 listener on one end of a socket pair; what QEMU sent."""

    def __init__(self, sock):
        self.lock = threading.Lock()
        self.calls = {}
        self.errors = []
        self.frame = None           # (width, height, rgb)
        self.source = None          # the call that defined it
        self.dirty = False          # the dma-buf changed since read
        self.dmabuf = None          # (fd, width, height, stride, fourcc...)
        self.cursor = None          # (width, height, hot_x, hot_y, rgba)
        self.mouse = None           # (x, y, on)
        gsock = Gio.Socket.new_from_fd(sock.detach())
        stream = gsock.connection_factory_create_connection()
        self.conn = Gio.DBusConnection.new_sync(
            stream, None, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.DELAY_MESSAGE_PROCESSING, None, None)
        iface = Gio.DBusNodeInfo.new_for_xml(LISTENER_XML).interfaces[0]
        self.conn.register_object(PATH, iface, self.call, self.prop, None)
        self.conn.start_message_processing()

    def prop(self, conn, sender, path, iface, name):
        return GLib.Variant("as", [])

    def call(self, conn, sender, path, iface, method, params, inv):
        # an "ay" as bytes: unpack() would make a list of a million ints,
        # seconds for a frame, while QEMU waits for the answer
        args = []
        for i in range(params.n_children()):
            v = params.get_child_value(i)
            args.append(v.get_data_as_bytes().get_data()
                        if v.get_type_string() == "ay" else v.unpack())
        try:
            with self.lock:
                self.calls[method] = self.calls.get(method, 0) + 1
                getattr(self, "on_" + method)(inv, *args)
        except Exception as e:  # a wrong call is reported, not raised
            self.errors.append("%s: %r" % (method, e))
        inv.return_value(None)

    def on_Scanout(self, inv, width, height, stride, fmt, data):
        if fmt != PIXMAN_X8R8G8B8:
            raise ValueError("pixman format 0x%x" % fmt)
        self.frame = (width, height, rgb_of_xrgb(bytes(data), width, height,
                                                 stride))
        self.source = "Scanout"

    def on_Update(self, inv, x, y, w, h, stride, fmt, data):
        fw, fh, pix = self.frame
        pix = bytearray(pix)
        rgb = rgb_of_xrgb(bytes(data), w, h, stride)
        for j in range(h):
            o = ((y + j) * fw + x) * 3
            pix[o:o + w * 3] = rgb[j * w * 3:(j + 1) * w * 3]
        self.frame = (fw, fh, bytes(pix))

    def on_ScanoutDMABUF(self, inv, handle, width, height, stride, fourcc,
                         modifier, y0_top):
        fds = inv.get_message().get_unix_fd_list()
        fd = fds.get(handle)
        if self.dmabuf:
            os.close(self.dmabuf[0])
        self.dmabuf = (fd, width, height, stride, fourcc, modifier, y0_top)
        self.dirty = True

    def on_UpdateDMABUF(self, inv, x, y, w, h):
        # QEMU waits for the answer (1 s at most): the pixels are read
        # by wait(), not here
        if not self.dmabuf:
            raise ValueError("UpdateDMABUF before any ScanoutDMABUF")
        self.dirty = True

    def read_dmabuf(self):
        self.dirty = False
        fd, width, height, stride, fourcc, modifier, y0_top = self.dmabuf
        if fourcc != XRGB8888 or modifier not in (0, 0xffffffffffffff):
            raise ValueError("fourcc 0x%x modifier 0x%x" % (fourcc, modifier))
        with mmap.mmap(fd, stride * height, prot=mmap.PROT_READ) as m:
            self.frame = (width, height,
                          rgb_of_xrgb(m[:], width, height, stride))
        self.source = "ScanoutDMABUF"

    def on_Disable(self, inv):
        self.frame = None
        self.dirty = False

    def on_MouseSet(self, inv, x, y, on):
        self.mouse = (x, y, on)

    def on_CursorDefine(self, inv, width, height, hot_x, hot_y, data):
        self.cursor = (width, height, hot_x, hot_y, bytes(data))

    def holds(self, fn):
        """fn(self), under the lock, the dma-buf read if it changed."""
        with self.lock:
            try:
                if self.dirty:
                    self.read_dmabuf()
            except Exception as e:
                self.errors.append("reading the dma-buf: %r" % e)
            return bool(fn(self))

    def wait(self, fn, timeout=10):
        """Until fn(self) holds; whether it did."""
        return until(lambda: self.holds(fn), timeout, 0.1)


def cursor_bytes(size):
    """The xy pattern as an opaque size x size cursor, B, G, R, A bytes (the
    ARGB words QEMU's cursors hold, little-endian)."""
    return b"".join(xy_rgb(x, y)[::-1] + b"\xff" for y in range(size)
                    for x in range(size))


def connect(q, mode, bus):
    """A D-Bus connection to QEMU's display: on @bus, or p2p over QMP."""
    if mode == "bus":
        return Gio.DBusConnection.new_for_address_sync(
            bus, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    ours, theirs = socket.socketpair()
    socket.send_fds(q.qmp.sock, [b'{"execute": "getfd", "arguments": '
                                 b'{"fdname": "dbus"}}'], [theirs.fileno()])
    theirs.close()
    rsp = q.qmp.readline()
    while "event" in rsp:
        rsp = q.qmp.readline()
    rsp = q.qmp.cmd("add_client", protocol="@dbus-display", fdname="dbus")
    if "error" in rsp:
        raise RuntimeError(rsp["error"]["desc"])
    stream = Gio.Socket.new_from_fd(
        ours.detach()).connection_factory_create_connection()
    return Gio.DBusConnection.new_sync(
        stream, None, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT,
        None, None)


def register(conn, mode):
    """A Listener registered on console 0 of QEMU at @conn.  QEMU reads
    the listener's properties as soon as it has the socket: the call goes
    on in a thread while the listener's end authenticates and serves its
    object, which then starts taking messages."""
    ours, theirs = socket.socketpair()
    fds = Gio.UnixFDList.new()
    fds.append(theirs.fileno())
    theirs.close()
    reply = []

    def call():
        try:
            conn.call_with_unix_fd_list_sync(
                "org.qemu" if mode == "bus" else None, CONSOLE,
                "org.qemu.Display1.Console", "RegisterListener",
                GLib.Variant("(h)", (0,)), None, Gio.DBusCallFlags.NONE,
                10000, fds, None)
            reply.append(None)
        except GLib.Error as e:
            reply.append(e)
    t = threading.Thread(target=call)
    t.start()
    try:
        lst = Listener(ours)
    finally:
        t.join()
    if reply[0]:
        raise reply[0]
    return lst


def test(tmp, bus, mode, gl, uuid, path):
    what = "dbus %s gl=%s: %s" % (mode, gl, path)
    display = "dbus,gl=%s%s" % (gl, ",p2p=yes" if mode == "p2p" else "")
    q = Qemu(QEMU, SIMLIB, tmp, uuid, display=display,
             env={"DBUS_SESSION_BUS_ADDRESS": bus})
    if uuid == GVT:
        present_xy(tmp)
        control(tmp, "cursor %s size=64 pattern=xy x=100 y=50 hot_x=5 "
                "hot_y=7" % GVT)
    else:
        control(tmp, "rect %s x=0 y=0 w=640 h=480 pattern=xy" % uuid)
    lst = None
    try:
        # on the bus, QEMU owns org.qemu once its display is up
        end = time.time() + 10
        while True:
            try:
                lst = register(connect(q, mode, bus), mode)
                break
            except GLib.Error:
                if time.time() > end:
                    raise
                time.sleep(0.2)
    except (GLib.Error, RuntimeError) as e:
        ok(False, "%s: a listener registers" % what, e)
        q.stop()
        return
    q.qmp.cmd("cont")
    want = frame(640, 480)
    shown = lst.wait(lambda s: s.frame == want)
    ok(shown, "%s: the listener has the frame pixel for pixel" % what,
       "%r %s" % (lst.calls, lst.frame[:2] if lst.frame else None))
    # gl=on: a guest's dma-buf as one; a 2D surface's pixels (patch 0016:
    # no render node here, no dma-buf of its texture)
    if uuid == GVT and gl == "on":
        ok(lst.source == "ScanoutDMABUF",
           "%s: as a dma-buf (ScanoutDMABUF)" % what, lst.calls)
    else:
        ok(lst.source == "Scanout" and not lst.calls.get("ScanoutDMABUF"),
           "%s: as 2D data (Scanout)" % what, lst.calls)
    ups = lst.calls.get("Update", 0)
    control(tmp, "rect %s x=100 y=100 w=30 h=10 pattern=0x00ff00" % uuid)
    want = frame(640, 480, (100, 100, 30, 10, b"\0\xff\0"))
    ok(lst.wait(lambda s: s.frame == want), "%s: a change shows" % what,
       lst.calls)
    if gl == "off":
        ok(lst.calls.get("Update", 0) > ups,
           "%s: the change comes as an Update" % what, lst.calls)
    if uuid == GVT:
        curs = cursor_bytes(64)
        ok(lst.wait(lambda s: s.cursor and s.cursor[:4] == (64, 64, 5, 7) and
                    s.cursor[4] == curs),
           "%s: the cursor plane: CursorDefine 64x64 hotspot 5,7, pixel for "
           "pixel" % what, lst.cursor[:4] if lst.cursor else lst.calls)
        ok(lst.wait(lambda s: s.mouse and s.mouse[2] and
                    s.mouse[:2] in ((100, 50), (105, 57))),
           "%s: MouseSet where the guest put it" % what, lst.mouse)
        control(tmp, "cursor %s x=300 y=200" % GVT)
        ok(lst.wait(lambda s: s.mouse and s.mouse[:2] in ((300, 200),
                                                           (305, 207))),
           "%s: a move is a MouseSet" % what, lst.mouse)
    ok(not lst.errors, "%s: every call QEMU made was well formed" % what,
       lst.errors)
    alive = q.alive()
    err = q.stop()
    # any line but vfio-pci's own notices about mdpy (no AER, no reset)
    # and EGL's one note that it runs without a GPU
    messages = [line for line in err.splitlines()
                if line.strip() and "error recovery" not in line and
                "reset" not in line and
                "no drm render node, using the surfaceless" not in line]
    ok(alive and not messages, "%s: no message" % what, err)


def main():
    loop = GLib.MainLoop()
    threading.Thread(target=loop.run, daemon=True).start()
    bus_proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork",
                                 "--print-address=1"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
    bus = bus_proc.stdout.readline().strip()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "config"), "w") as f:
                f.write(CONFIG)
            for mode in ("bus", "p2p"):
                for gl in ("off", "on"):
                    test(tmp, bus, mode, gl, GVT, "dma-buf (gvt)")
                    test(tmp, bus, mode, gl, MDPY, "region (mdpy)")
    finally:
        bus_proc.terminate()
        bus_proc.wait()
        loop.quit()
    return tap.done()


sys.exit(main())
