# SPDX-License-Identifier: GPL-2.0-or-later
#
# Just enough of the RFB protocol (VNC) for the display tests to see what
# a VNC client receives that the real clients do not save: the cursor
# (image and hotspot), and to ask for a new desktop size.

import socket
import struct
import time

ENC_RAW = 0
ENC_DESKTOP_RESIZE = -223
ENC_ALPHA_CURSOR = -314
ENC_DESKTOP_RESIZE_EXT = -308


def free_port():
    """A TCP port above 5900 that nobody listens on now."""
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port > 5900:
            return port


class Rfb:
    """An RFB 3.8 client, no security, in the server's pixel format (QEMU's
    is 32 bits a pixel)."""

    def __init__(self, port, timeout=10):
        self.received = 0                   # bytes read from the server
        self.s = socket.create_connection(("127.0.0.1", port), timeout)
        self.s.settimeout(timeout)
        self.recv(12)
        self.s.sendall(b"RFB 003.008\n")
        n = self.recv(1)[0]
        if 1 not in self.recv(n):
            raise OSError("no security type None")
        self.s.sendall(b"\x01")
        if struct.unpack(">I", self.recv(4))[0]:
            raise OSError("security handshake failed")
        self.s.sendall(b"\x01")             # shared
        self.width, self.height = struct.unpack(">HH", self.recv(4))
        self.recv(16)                       # the pixel format
        self.recv(struct.unpack(">I", self.recv(4))[0])
        encs = [ENC_RAW, ENC_DESKTOP_RESIZE, ENC_ALPHA_CURSOR,
                ENC_DESKTOP_RESIZE_EXT]
        self.s.sendall(struct.pack(">BxH%di" % len(encs), 2, len(encs),
                                   *encs))

    def recv(self, n):
        self.received += n
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = self.s.recv_into(view[got:], n - got)
            if not k:
                raise OSError("the server closed the connection")
            got += k
        return buf

    def request(self, incremental=1):
        """FramebufferUpdateRequest for the whole screen."""
        self.s.sendall(struct.pack(">BBHHHH", 3, incremental, 0, 0,
                                   self.width, self.height))

    def read_update(self):
        """The next FramebufferUpdate: its rectangles, (x, y, w, h,
        encoding, data), data the raw pixels or the cursor (w, h, rgba)."""
        rects = []
        kind = self.recv(1)[0]
        if kind != 0:
            raise OSError("server message %d" % kind)
        self.recv(1)
        for _ in range(struct.unpack(">H", self.recv(2))[0]):
            x, y, w, h, enc = struct.unpack(">HHHHi", self.recv(12))
            data = None
            if enc == ENC_RAW:
                data = self.recv(w * h * 4)
            elif enc in (ENC_DESKTOP_RESIZE, ENC_DESKTOP_RESIZE_EXT):
                self.width, self.height = w, h
                if enc == ENC_DESKTOP_RESIZE_EXT:
                    screens = self.recv(4)[0]
                    self.recv(16 * screens)
            elif enc == ENC_ALPHA_CURSOR:
                self.recv(4)                # the encoding of the pixels
                data = self.recv(w * h * 4)
            else:
                raise OSError("encoding %d not asked for" % enc)
            rects.append((x, y, w, h, enc, data))
        return rects

    def update(self, incremental=1):
        """Ask for an update and read it: the cursor if it held one,
        (w, h, hot_x, hot_y, rgba), else None."""
        self.request(incremental)
        for x, y, w, h, enc, data in self.read_update():
            if enc == ENC_ALPHA_CURSOR:
                return (w, h, x, y, bytes(data))
        return None

    def cursor(self, timeout=10):
        """The next cursor the server sends: (w, h, hot_x, hot_y, rgba)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            cursor = self.update()
            if cursor:
                return cursor
        return None

    def set_desktop_size(self, width, height):
        """SetDesktopSize: one screen of @width x @height."""
        self.s.sendall(struct.pack(">BxHHBxIHHHHI", 251, width, height, 1,
                                   0, 0, 0, width, height, 0))

    def close(self):
        self.s.close()


# keysyms of the keys the tests type (X11's keysymdef.h); a printable
# ASCII character is its own keysym
KEY_RETURN = 0xff0d
KEY_SHIFT = 0xffe1


def _key(rfb, keysym, down):
    rfb.s.sendall(struct.pack(">BBxxI", 4, down, keysym))


def type_text(rfb, text, delay=0.05):
    """KeyEvents for @text, a key down and up per character ("\\n" is
    Return; shift is pressed for what the US layout types with it)."""
    shifted = set('~!@#$%^&*()_+{}|:"<>?ABCDEFGHIJKLMNOPQRSTUVWXYZ')
    for ch in text:
        sym = KEY_RETURN if ch == "\n" else ord(ch)
        if ch in shifted:
            _key(rfb, KEY_SHIFT, 1)
        _key(rfb, sym, 1)
        _key(rfb, sym, 0)
        if ch in shifted:
            _key(rfb, KEY_SHIFT, 0)
        time.sleep(delay)


def pointer(rfb, x, y, buttons=0):
    """A PointerEvent: the pointer at (@x, @y), @buttons a mask (1 left)."""
    rfb.s.sendall(struct.pack(">BBHH", 5, buttons, x, y))


def click(rfb, x, y):
    """Move to (@x, @y), press and release the left button there."""
    pointer(rfb, x, y)
    time.sleep(0.2)
    pointer(rfb, x, y, 1)
    time.sleep(0.1)
    pointer(rfb, x, y, 0)


def frame(rfb, timeout=10):
    """The whole screen as (width, height, rgb bytes): a non-incremental
    update, raw, in QEMU's pixel format (32 bits, x8r8g8b8 little
    endian)."""
    rfb.request(incremental=0)
    deadline = time.time() + timeout
    pix = bytearray(rfb.width * rfb.height * 3)
    got = 0
    while got < rfb.width * rfb.height and time.time() < deadline:
        for x, y, w, h, enc, data in rfb.read_update():
            if enc != ENC_RAW:
                continue
            for j in range(h):
                row = data[j * w * 4:(j + 1) * w * 4]
                at = ((y + j) * rfb.width + x) * 3
                pix[at:at + w * 3:3] = row[2::4]
                pix[at + 1:at + w * 3:3] = row[1::4]
                pix[at + 2:at + w * 3:3] = row[0::4]
            got += w * h
        if got < rfb.width * rfb.height:
            rfb.request(incremental=0)
    return rfb.width, rfb.height, bytes(pix)
