# SPDX-License-Identifier: GPL-2.0-or-later
#
# What the Python tests of vfio-sim share: TAP output, a QMP client, the
# control socket and the environment that preloads the simulator.

import json
import os
import re
import socket
import subprocess
import time


class Tap:
    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, cond, name, diag=""):
        """One test case; @diag's last lines are shown when it fails."""
        self.count += 1
        if not cond:
            self.failed += 1
            for line in str(diag).splitlines()[-15:]:
                print("# " + line)
        print("%sok %d - %s" % ("" if cond else "not ", self.count, name),
              flush=True)
        return cond

    def done(self):
        print("1..%d" % self.count)
        return 1 if self.failed else 0


def connect_unix(path, timeout=10):
    """A stream socket connected to @path, waiting for it to listen."""
    deadline = time.time() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.connect(path)
            return sock
        except OSError:
            sock.close()
            if time.time() > deadline:
                raise
            time.sleep(0.05)


class Qmp:
    def __init__(self, path, timeout=10):
        self.sock = connect_unix(path, timeout)
        self.file = self.sock.makefile("rw")
        self.readline()
        self.cmd("qmp_capabilities")

    def readline(self):
        line = self.file.readline()
        if not line:
            raise EOFError("QMP: QEMU went away")
        return json.loads(line)

    def cmd(self, name, **args):
        self.file.write(json.dumps({"execute": name, "arguments": args}))
        self.file.flush()
        while True:
            rsp = self.readline()
            if "event" not in rsp:
                return rsp

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})


def qemu_stop(proc, qmp, timeout=30):
    """Quit QEMU over QMP (killed if it does not go); its stderr."""
    if proc.poll() is None:
        qmp.cmd("quit")
    try:
        return proc.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[1]


def until(fn, timeout, step=0.5):
    """@fn() until it is true or @timeout seconds pass; its last value."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


def gvnccapture(port, path):
    """The screen of the VNC server on TCP @port as gvnccapture (gtk-vnc)
    saves it to PNG @path: (image, ""), or (None, what it said)."""
    r = subprocess.run(["gvnccapture", "127.0.0.1:%d" % (port - 5900),
                        path], capture_output=True, text=True, timeout=60)
    if r.returncode:
        return None, r.stdout + r.stderr
    return read_png(path), ""


def spicy_screenshot(port, path):
    """The same with spicy-screenshot (spice-gtk) on SPICE @port, PPM."""
    if os.path.exists(path):
        os.unlink(path)
    r = subprocess.run(["spicy-screenshot", "-h", "127.0.0.1", "-p",
                        str(port), "-o", path], capture_output=True,
                       text=True, timeout=60)
    if r.returncode or not os.path.exists(path):
        return None, r.stdout + r.stderr
    return read_ppm(path), ""


def start_xvfb():
    """Xvfb on a display number it picks: (process, ":N")."""
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0",
                             "1280x1024x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        num = f.readline().strip()
    return proc, ":" + num


def sim_env(simlib, tmp):
    """The environment of a process the simulator is preloaded into, with
    its configuration, sysfs root and control socket in @tmp."""
    return dict(os.environ, LD_PRELOAD=simlib,
                VFIO_SIM_CONFIG=os.path.join(tmp, "config"),
                VFIO_SIM_DIR=os.path.join(tmp, "root"),
                VFIO_SIM_CONTROL=os.path.join(tmp, "control"))


def control(tmp, line):
    """One command on the control socket in @tmp; its reply line."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(os.path.join(tmp, "control"))
        f = s.makefile("rw")
        f.write(line + "\n")
        f.flush()
        return f.readline().strip()


def read_ppm(path):
    """(width, height, rgb bytes) of a binary PPM."""
    data = open(path, "rb").read()
    # the header: four tokens, then exactly one whitespace byte; the pixels
    # may begin with bytes that look like whitespace (0x0a, 0x20...)
    m = re.match(rb"(P6)\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if not m or m.group(4) != b"255":
        raise ValueError("%s is not a P6 PPM" % path)
    return int(m.group(2)), int(m.group(3)), data[m.end():]


def xy_rgb(x, y):
    """The README's xy test pattern at (x, y), as 3 bytes."""
    return bytes((x & 0xff, y & 0xff, ((x >> 8) << 4 | (y >> 8)) & 0xff))


_XY = {}


def _xy_masked(w, h, mask):
    """The xy pattern at @w x @h as rgb bytes, masked; cached."""
    key = (w, h, mask)
    if key not in _XY:
        row_mask = bytes(mask) * w
        rows = []
        for y in range(h):
            row = b"".join(xy_rgb(x, y) for x in range(w))
            rows.append(bytes(a & b for a, b in zip(row, row_mask)))
        _XY[key] = (b"".join(rows), bytes(mask) * w * h)
    return _XY[key]


def xy_frame(w, h):
    """The xy pattern at @w x @h as rgb bytes; cached."""
    return _xy_masked(w, h, (0xff, 0xff, 0xff))[0]


def xy_wrong(img, mask=(0xff, 0xff, 0xff)):
    """How many pixels of @img, (width, height, rgb bytes), differ from the
    xy pattern in the bits @mask keeps of each channel."""
    w, h, pix = img
    if len(pix) != w * h * 3:
        return w * h
    want, full_mask = _xy_masked(w, h, tuple(mask))
    if mask == (0xff, 0xff, 0xff) or tuple(mask) == (0xff, 0xff, 0xff):
        got = pix
    else:
        got = (int.from_bytes(pix, "big") &
               int.from_bytes(full_mask, "big")).to_bytes(len(pix), "big")
    if got == want:
        return 0
    # count the pixels that differ, a row at a time
    bad = 0
    for y in range(h):
        a = got[y * w * 3:(y + 1) * w * 3]
        b = want[y * w * 3:(y + 1) * w * 3]
        if a != b:
            bad += sum(1 for x in range(0, w * 3, 3)
                       if a[x:x + 3] != b[x:x + 3])
    return bad


def read_png(path):
    """(width, height, rgb bytes) of an 8-bit RGB or RGBA PNG, such as
    the real clients write (no library needed: zlib and the five row
    filters)."""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB",
                                                                body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("PNG of depth %d type %d" % (depth, ctype))
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    out = bytearray()
    for y in range(h):
        ftype = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                row[i] = (row[i] + a) & 0xff
            elif ftype == 2:
                row[i] = (row[i] + b) & 0xff
            elif ftype == 3:
                row[i] = (row[i] + (a + b) // 2) & 0xff
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                row[i] = (row[i] + pred) & 0xff
        prev = row
        if bpp == 4:
            row = bytearray(row)
            del row[3::4]
        out += row
    return w, h, bytes(out)


def read_xwd(path):
    """(width, height, rgb bytes) of an X window dump in ZPixmap of 24 or
    32 bits a pixel with 8-bit masks, as xwd writes one of a TrueColor
    screen such as Xvfb's."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    (hsize, version, fmt, _, w, h, _, order, _, _, _, bpp, bpl, _,
     rmask, gmask, bmask, _, _, ncolors) = struct.unpack(">20I", data[:80])
    if version != 7 or fmt != 2 or bpp not in (24, 32):
        raise ValueError("xwd: version %d format %d bpp %d"
                         % (version, fmt, bpp))
    pix = data[hsize + 12 * ncolors:]
    step = bpp // 8
    shifts = []
    for mask in (rmask, gmask, bmask):
        shift = (mask & -mask).bit_length() - 1
        if mask >> shift != 0xff:
            raise ValueError("xwd: mask 0x%x" % mask)
        # the byte of a pixel that holds this channel
        shifts.append(shift // 8 if order == 0 else step - 1 - shift // 8)
    rows = b"".join(pix[y * bpl:y * bpl + w * step] for y in range(h))
    out = bytearray(w * h * 3)
    for c in range(3):
        out[c::3] = rows[shifts[c]::step]
    return w, h, bytes(out)


def find_frame(screen, frame):
    """Where @frame, (width, height, rgb), appears whole in @screen, as
    (x, y), or None: its first row is searched for, the rest compared."""
    sw, sh, spix = screen
    fw, fh, fpix = frame
    first = fpix[:fw * 3]
    pos = spix.find(first)
    while pos >= 0:
        if pos % 3 == 0:
            x, y = (pos // 3) % sw, (pos // 3) // sw
            if x + fw <= sw and y + fh <= sh and all(
                    spix[((y + j) * sw + x) * 3:((y + j) * sw + x + fw) * 3]
                    == fpix[j * fw * 3:(j + 1) * fw * 3]
                    for j in range(fh)):
                return x, y
        pos = spix.find(first, pos + 1)
    return None
