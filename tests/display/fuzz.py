#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A seeded fuzzer of our vfio display: random, reproducible sequences of
# everything the simulator can do (modes, page flips, cursors, hostile
# plane fields, injected errnos, EDID resizes, resets, unplug) driven into
# our QEMU on each console with a client attached.  After every step QEMU
# must answer QMP; at the end of a sequence: no sanitizer report, fds and
# RSS back to their baseline, no message repeated per refresh.  A failure
# is shrunk to a minimal sequence and written as a case file to replay.
#
# usage: fuzz.py [--seconds N] [--seed S] [--console C,..] [--model M,..]
#                [--replay FILE..] [--tap] [--qemu Q] ...   (see --help)

import argparse
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, HERE)
from simtap import Qmp, control, start_xvfb  # noqa: E402
from display import Weston  # noqa: E402
import rfb  # noqa: E402
from spiceprobe import SpiceProbe  # noqa: E402

UUID = "dddddddd-0000-4000-8000-0000000000f1"

# ---------------------------------------------------------------- tables
# The models the fuzzer knows: the config line (after the uuid), the kind
# of plane, its first frame (a prologue every sequence starts with) and
# the step kinds that apply.  A model the simulator library rejects is
# skipped at start, with a message.
MODELS = {
    "mdpy": dict(config="mdpy type=vga", size=(640, 480),
                 prologue=["ctl rect x=0 y=0 w=640 h=480 pattern=xy"],
                 ops=["draw"]),
    "mbochs": dict(config="mbochs type=small", size=(640, 480), edid=9,
                   prologue=["ctl mode width=640 height=480",
                             "ctl rect x=0 y=0 w=640 h=480 pattern=xy"],
                   ops=["draw", "mode"]),
    "gvt": dict(config="gvt", size=(640, 480), edid=10,
                prologue=["ctl plane primary=on pipe=on",
                          "ctl present format=XRGB8888 width=640 height=480 "
                          "pattern=xy", "ctl cursor size=off"],
                ops=["draw", "present", "flip", "cursor", "plane"]),
    # being added to tests/vfio-sim: a region model
    "nvidia": dict(config="nvidia", size=(1024, 768),
                   prologue=["ctl rect x=0 y=0 w=64 h=64 pattern=xy"],
                   ops=["draw"]),
}

# gvt primary formats (name, bytes a pixel; None: a planar or 8-bit
# format, its stride counted as one byte a pixel); probed at start
FORMATS = [("XRGB8888", 4), ("ARGB8888", 4), ("XBGR8888", 4),
           ("ABGR8888", 4), ("RGB565", 2), ("XRGB2101010", 4),
           ("XBGR2101010", 4), ("C8", 1), ("YUYV", 2), ("UYVY", 2),
           ("YVYU", 2), ("VYUY", 2), ("NV12", 1)]
# gvt tilings: name, stride unit (the plane register's)
MODIFIERS = [("linear", 64), ("x", 512), ("y", 128), ("yf", 128)]

# fourccs and modifiers a hostile vendor driver may report
FOURCCS = [0x34325258, 0x34325241, 0x34324258, 0x34324241, 0x36314752,
           0x30335258, 0x30334258, 0x20203843, 0x56595559, 0x59565955,
           0x3231564e, 0x20203838, 0, 0xffffffff]
MODS = [0, 0x0100000000000001, 0x0100000000000002, 0x0100000000000003,
        0x0100000000000004, 0x77, 0x00ffffffffffffff, 0xffffffffffffffff]
ERRNOS = ["ENODEV", "EINVAL", "EIO", "ENOMEM", "EINTR", "EFAULT", "EAGAIN",
          "ENOENT", "EBUSY", "ENOSPC", "EPERM", "ENOTTY", "4095"]
U32 = 0xffffffff

# consoles: the -display option, and what else runs beside QEMU
CONSOLES = {
    "none": dict(display="none"),
    "vnc": dict(display="none", vnc=True),
    "spice": dict(display="none", spice="tcp"),
    "spice-gl": dict(display="none", spice="gl"),
    "egl-headless": dict(display="egl-headless", gl=True),
    "egl-headless-vnc": dict(display="egl-headless", vnc=True, gl=True),
    "gtk": dict(display="gtk,gl=off", x11=True),
    "gtk-gl": dict(display="gtk,gl=on", x11=True, gl=True),
    "dbus-gl": dict(display="dbus,gl=on", dbus=True, gl=True),
    "dbus": dict(display="dbus,gl=off", dbus=True),
    # SDL under Xvfb: its 2D renderer and gl=on keep GLX current
    "sdl": dict(display="sdl,gl=off", x11=True, ui="sdl"),
    "sdl-gl": dict(display="sdl,gl=on", x11=True, gl=True, ui="sdl"),
    # GTK as a client of weston's headless backend (GL renderer):
    # GtkGLArea for gl=on
    "gtk-wayland": dict(display="gtk,gl=off", wayland=True),
    "gtk-gl-wayland": dict(display="gtk,gl=on", wayland=True, gl=True),
}

# end-of-sequence tolerances, after a settle (the first frame again, no
# fault, three screendumps and a second): the dma-buf id cache may hold
# VFIO_DISPLAY_DMABUF_CACHE (16) fds more than at the baseline, and the
# GL imports kept for read-back (ui/egl-readback.c: a whole-frame import
# and strided row imports of two buffers, 2 * (1 + 16)) hold dups of
# dma-buf fds on every console that reads dma-bufs back, GTK gl=off too
# (measured: +18 on the mbochs VRAM memfd after one 1928-wide mode)
FD_SLACK = 16 + 34
FD_SLACK_GL = 16 + 34
RSS_SLACK = 64 << 20            # bytes; frames up to 8192x8192 come and go
RSS_SLACK_ASAN = 256 << 20      # ASan's quarantine holds freed frames

# lines of QEMU's stderr that are not ours to count
NOISE = ["Connection reset by peer", "error recovery", "Could not enable",
         "makecontext"]


# ---------------------------------------------------------------- support
def probe_support(simlib, tmp):
    """What the simulator in @simlib supports: the models it accepts, the
    gvt formats and modifiers its `present` takes.  Printed."""
    models = []
    for name, m in MODELS.items():
        cfg = os.path.join(tmp, "probe.conf")
        with open(cfg, "w") as f:
            f.write("%s %s\n" % (UUID, m["config"]))
        r = subprocess.run(["/bin/true"], env=dict(
            os.environ, LD_PRELOAD=simlib, VFIO_SIM_CONFIG=cfg,
            VFIO_SIM_DIR=os.path.join(tmp, "probe-root")),
            capture_output=True, text=True)
        if r.returncode == 0:
            models.append(name)
        else:
            print("# fuzz: model %s skipped: %s" % (name, r.stderr.strip()))
    formats, modifiers = [], []
    if "gvt" in models:
        d = os.path.join(tmp, "probe-gvt")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config"), "w") as f:
            f.write("%s gvt\n" % UUID)
        env = dict(os.environ, LD_PRELOAD=simlib,
                   VFIO_SIM_CONFIG=os.path.join(d, "config"),
                   VFIO_SIM_DIR=os.path.join(d, "root"),
                   VFIO_SIM_CONTROL=os.path.join(d, "control"))
        p = subprocess.Popen(["sleep", "30"], env=env)
        try:
            for _ in range(100):
                if os.path.exists(os.path.join(d, "control")):
                    break
                time.sleep(0.05)
            for fmt, bpp in FORMATS:
                r = control(d, "present %s format=%s width=64 height=64"
                            % (UUID, fmt))
                if r.startswith("ok"):
                    formats.append((fmt, bpp))
            for mod, unit in MODIFIERS:
                r = control(d, "present %s format=XRGB8888 width=64 "
                            "height=64 modifier=%s" % (UUID, mod))
                if r.startswith("ok"):
                    modifiers.append((mod, unit))
        finally:
            p.kill()
            p.wait()
        print("# fuzz: gvt formats %s; modifiers %s; not in this simulator: "
              "%s" % (" ".join(f for f, _ in formats),
                      " ".join(m for m, _ in modifiers),
                      " ".join(f for f, _ in FORMATS + MODIFIERS
                               if (f, _) not in formats + modifiers)
                      or "none"))
    return models, formats, modifiers


# ---------------------------------------------------------------- steps
# what QMP may take after a step, whatever the vendor's calls take
QMP_STALL_S = 1.0
# and on top, the main loop's own work on a frame the guest just put up:
# measured 0.1 us a pixel for the first refresh of a 1167x7361 X-tiled
# XBGR2101010 plane read back on VNC (840 ms: fresh pages zeroed, the
# detile, the compare, the conversion); more under the sanitizers
FRAME_S_PER_PIXEL = 0.15e-6
FRAME_S_PER_PIXEL_ASAN = 0.6e-6
FRAME_STEPS = 2                 # the checks a frame's work may fall in

class Gen:
    """Random steps for one sequence, from its own seeded generator; a
    shadow of the plane (size, bytes a pixel) keeps values near the edges
    that matter."""

    def __init__(self, rnd, model, console, formats, modifiers):
        self.r = rnd
        self.model = model
        self.console = console
        self.formats = formats or [("XRGB8888", 4)]
        self.modifiers = modifiers or [("linear", 64)]
        self.w, self.h = MODELS[model]["size"]
        self.bpp = 4

    def pick(self, *weighted):
        total = sum(w for w, _ in weighted)
        x = self.r.uniform(0, total)
        for w, v in weighted:
            x -= w
            if x <= 0:
                return v
        return weighted[-1][1]

    def dim(self, cur):
        r = self.r
        return r.choice([0, 1, cur - 1, cur + 1, cur * 2, 8193, 16384,
                         16385, 100000, 0x7fffffff, 0x80000000, U32])

    def value(self, plane, field):
        r, w, h, bpp = self.r, self.w, self.h, self.bpp
        stride = w * bpp
        if plane == "cursor":
            w = h = r.choice([64, 128, 256])
            stride = w * 4
        return {
            "drm_format": lambda: r.choice(FOURCCS),
            "drm_format_mod": lambda: r.choice(MODS),
            "width": lambda: self.dim(w),
            "height": lambda: self.dim(h),
            "stride": lambda: r.choice([0, 4, 16, stride - 4, stride + 1,
                                        stride + 2, stride + 3, stride + 4,
                                        stride + 64, stride * 2, 16384,
                                        65536, 0x80000000, U32]),
            "size": lambda: r.choice([0, 4096, stride * h - 1,
                                      stride * h + 4096, 0x80000000, U32]),
            "x_pos": lambda: r.choice([0, 1, w, 4096, 0x7fffffff,
                                       0x80000000, U32]),
            "y_pos": lambda: r.choice([0, 1, h, 4096, 0x7fffffff,
                                       0x80000000, U32]),
            "x_hot": lambda: r.choice([0, 5, 63, 64, 255, 256, 512, U32]),
            "y_hot": lambda: r.choice([0, 5, 63, 64, 255, 256, 512, U32]),
            "region_index": lambda: r.choice([0, 1, 2, 9, 15, 16, 17, 99,
                                              U32]),
        }[field]()

    def count(self):
        return self.r.choice(["", "", "", ":1", ":2", ":5"])

    def hostile(self):
        planes = ["primary", "cursor"] if self.model == "gvt" else \
            ["primary", "primary", "cursor"]
        plane = self.r.choice(planes)
        fields = ["drm_format", "drm_format_mod", "width", "height",
                  "stride", "size", "x_pos", "y_pos", "x_hot", "y_hot",
                  "region_index"]
        n = self.pick((6, 1), (3, 2), (1, 3))
        lines = []
        for field in self.r.sample(fields, n):
            lines.append("hostile %s:%s=%d%s" % (
                plane, field, self.value(plane, field), self.count()))
        return "ctl " + "|".join(lines)

    def fault(self):
        r = self.r
        op = r.choice(["probe", "query", "query", "get"])
        plane = "" if op == "get" else r.choice(["", "/primary", "/cursor"])
        return "ctl fault %s%s:%s%s" % (op, plane, r.choice(ERRNOS),
                                        self.count())

    def stall(self):
        """A slow or hung plane query, GET or EDID write (released by
        "clear" or "release").  No other region's reads and writes: the
        guest's own accesses to the device are not the display's."""
        r = self.r
        edid = MODELS[self.model].get("edid")
        op = r.choice(["query", "query", "get"] + (["rw"] if edid else []))
        which = r.choice(["", "/primary", "/cursor"]) if op == "query" else ""
        if op == "rw":
            which = "/%d" % edid        # the GFX EDID region
        wait = r.choice(["5", "50", "300", "1200", "hang"])
        if self.model == "nvidia" and wait in ("1200", "hang"):
            # nvidia's driver holds its ops_lock over the wait: QEMU's
            # own calls on the device (GET_REGION_INFO at a region's
            # set-up, reset) wait behind it there, as on a real host
            wait = "300"
        return "ctl stall %s%s:%s%s" % (op, which, wait, self.count())

    def draw(self):
        r = self.r
        x, y = r.randrange(max(1, self.w)), r.randrange(max(1, self.h))
        w = r.randint(1, max(1, self.w - x))
        h = r.randint(1, max(1, self.h - y))
        pat = r.choice(["xy", "0xff%06x" % r.randrange(1 << 24)])
        return "ctl rect x=%d y=%d w=%d h=%d pattern=%s" % (x, y, w, h, pat)

    def present(self):
        r = self.r
        fmt, bpp = r.choice(self.formats)
        mod, unit = self.pick((6, self.modifiers[0]),
                              (4, r.choice(self.modifiers)))
        w = self.pick((5, r.choice([640, 800, 1024, 1280, 1920, 64])),
                      (3, r.randint(1, 2048)), (1, r.randint(2048, 8192)))
        h = self.pick((5, r.choice([480, 600, 768, 720, 1080, 64])),
                      (3, r.randint(1, 2048)), (1, r.randint(2048, 8192)))
        args = "format=%s width=%d height=%d" % (fmt, w, h)
        if mod != "linear" or r.random() < 0.2:
            args += " modifier=%s" % mod
        if r.random() < 0.25:
            least = (w * bpp + unit - 1) // unit
            args += " stride=%d" % (unit * r.choice(
                [least, least + 1, max(1, least - 1), least * 2]))
        if r.random() < 0.3:
            args += " buffer=%d" % r.randint(0, 1)
        if r.random() < 0.05:
            args += " gma=0x%x" % r.choice([0, 0x1000, 0x3fff000, 0x4000000,
                                            0x8000000, 0xfffff000])
        if r.random() < 0.8:
            args += " pattern=%s" % r.choice(["xy", "0xff00ff00"])
        self.w, self.h, self.bpp = w, h, bpp
        return "ctl present " + args

    def mode(self):
        r = self.r
        w = self.pick((5, r.choice([640, 800, 1024, 320])),
                      (3, r.randint(1, 2048)), (1, r.choice([63, 64, 65535])))
        h = self.pick((5, r.choice([480, 600, 768, 240])),
                      (3, r.randint(1, 2048)), (1, r.choice([63, 64, 65535])))
        args = "width=%d height=%d" % (w, h)
        if r.random() < 0.15:
            args += " bpp=%d" % r.choice([8, 15, 16, 24, 32, 0])
        if r.random() < 0.15:
            args += " virt_width=%d" % r.choice([w, w + 64, max(0, w - 1),
                                                 4096])
        if r.random() < 0.1:
            args += " x_offset=%d y_offset=%d" % (r.randint(0, 64),
                                                  r.randint(0, 64))
        if r.random() < 0.05:
            args += " enable=%d" % r.randint(0, 1)
        self.w, self.h = w, h
        return "ctl mode " + args

    def cursor(self):
        r = self.r
        if r.random() < 0.15:
            return "ctl cursor size=off"
        args = []
        if r.random() < 0.6:
            args.append("size=%d" % r.choice([64, 128, 256]))
        if r.random() < 0.7:
            args.append("x=%d y=%d" % (r.randint(-300, self.w + 300),
                                       r.randint(-300, self.h + 300)))
        if r.random() < 0.4:
            args.append("hot_x=%d hot_y=%d" % (r.choice([0, 5, 63, 255, 300,
                                                         U32]),
                                               r.choice([0, 7, 63, 255, 300,
                                                         U32])))
        if r.random() < 0.5:
            args.append("pattern=%s" % r.choice(["xy", "0x80ff0000",
                                                 "0x00000000"]))
        return "ctl cursor " + " ".join(args or ["size=64"])

    def step(self):
        r = self.r
        ops = MODELS[self.model]["ops"]
        kinds = [(12, "dump"), (4, "wait"), (10, "hostile"), (8, "fault"),
                 (10, "clear"), (1, "reset"), (1, "stopcont"),
                 (0.3, "unplug"), (1, "edid"), (3, "stall"),
                 (2, "release")]
        if CONSOLES[self.console].get("vnc"):
            kinds.append((3, "resize"))
        for op in ops:
            kinds.append(({"draw": 8, "present": 10, "flip": 6,
                           "cursor": 6, "plane": 2, "mode": 8}[op], op))
        kind = self.pick(*kinds)
        if kind == "dump":
            return "dump"
        if kind == "wait":
            return "wait %.2f" % r.choice([0.05, 0.1, 0.3, 0.6])
        if kind == "hostile":
            return self.hostile()
        if kind == "fault":
            return self.fault()
        if kind == "stall":
            return self.stall()
        if kind == "release":
            return "ctl release"
        if kind == "clear":
            return "ctl clear"
        if kind == "reset":
            return "qmp system_reset"
        if kind == "stopcont":
            return "qmp stop|cont"
        if kind == "unplug":
            return "ctl unplug"
        if kind == "edid":
            return "ctl edid"
        if kind == "resize":
            return "resize %d %d" % (r.choice([640, 800, 1024, 1280, 1920,
                                               r.randint(1, 4096)]),
                                     r.choice([480, 600, 768, 1024, 1080,
                                               r.randint(1, 4096)]))
        if kind == "flip":
            return "ctl flip" + r.choice(["", " pattern=xy",
                                          " pattern=0xff0000ff"])
        if kind == "plane":
            return "ctl plane %s=%s" % (r.choice(["primary", "pipe"]),
                                        r.choice(["on", "off", "on"]))
        return getattr(self, kind)()


def generate(seed, console, model, index, formats, modifiers, steps=None):
    """The steps of sequence @index of @seed on @console and @model."""
    rnd = random.Random("%s/%s/%s/%d" % (seed, console, model, index))
    g = Gen(rnd, model, console, formats, modifiers)
    n = steps or rnd.randint(10, 60)
    return [g.step() for _ in range(n)]


# ---------------------------------------------------------------- a run
class Failure(Exception):
    def __init__(self, kind, sig, detail="", step=None):
        super().__init__("%s: %s" % (kind, sig))
        self.kind, self.sig, self.detail, self.step = kind, sig, detail, step


class VncClient:
    """A connected RFB client that keeps asking for updates, in a thread,
    and can ask for a new desktop size (the EDID's preferred mode)."""

    def __init__(self, port):
        self.c = rfb.Rfb(port)
        self.c.s.settimeout(None)
        self.lock = threading.Lock()
        self.error = None
        self.closing = False
        self.updates = 0
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        try:
            while not self.closing:
                with self.lock:
                    self.c.request(1)
                self.c.read_update()
                self.updates += 1
        except OSError as e:
            if not self.closing:
                self.error = str(e)

    def resize(self, w, h):
        with self.lock:
            self.c.set_desktop_size(w, h)

    def close(self):
        self.closing = True
        try:
            self.c.s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.c.close()
        self.t.join(5)


def sanitizer_reports(d):
    """The sanitizer log files in @d and the report line of each."""
    out = []
    for path in sorted(glob.glob(os.path.join(d, "*"))):
        try:
            text = open(path, errors="replace").read()
        except OSError:
            continue
        m = re.search(r"^SUMMARY: \w+Sanitizer: .*$|^.*runtime error:.*$",
                      text, re.M)
        if m or "ERROR: AddressSanitizer" in text:
            out.append((path, m.group(0) if m else "AddressSanitizer error",
                        text))
    return out


def death_signature(stderr, reports, rc):
    """What a dead QEMU said: an assertion, a sanitizer report, a signal."""
    for path, line, _ in reports:
        return re.sub(r"0x[0-9a-f]+", "0x?", line.split("/")[-1]
                      if "runtime error" in line else line)
    for pat in (r"Assertion .* failed", r"assertion failed.*",
                r"ERROR:.*", r"Bail out!.*", r"\*\*.*CRITICAL.*",
                r"Segmentation fault.*", r"Aborted.*"):
        m = re.search(pat, stderr)
        if m:
            return re.sub(r"0x[0-9a-f]+", "0x?", m.group(0))[:200]
    if rc is not None and rc < 0:
        return "killed by signal %s" % signal.Signals(-rc).name
    return "exit status %s" % rc


class Run:
    """One QEMU on the simulated device, on one console, with its client."""

    def __init__(self, opt, console, model, tmp):
        self.opt, self.console, self.model, self.tmp = opt, console, model, tmp
        self.frame_px, self.frame_checks = 0, 0     # frame_seen(), qmp_bound()
        c = CONSOLES[console]
        with open(os.path.join(tmp, "config"), "w") as f:
            f.write("%s %s\n" % (UUID, MODELS[model]["config"]))
        self.sandir = os.path.join(tmp, "san")
        os.makedirs(self.sandir, exist_ok=True)
        args = [opt.qemu, "-M", "q35", "-nodefaults", "-display",
                c["display"], "-S", "-qmp",
                "unix:%s/qmp.sock,server=on,wait=off" % tmp, "-device",
                "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,display=on,"
                "id=vgpu" % UUID]
        env = dict(os.environ, LD_PRELOAD=opt.simlib,
                   VFIO_SIM_CONFIG=os.path.join(tmp, "config"),
                   VFIO_SIM_DIR=os.path.join(tmp, "root"),
                   VFIO_SIM_CONTROL=os.path.join(tmp, "control"),
                   VFIO_SIM_KERNEL_BUGS="count",
                   ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:"
                   "handle_abort=1:quarantine_size_mb=32:log_path=%s/asan"
                   % self.sandir,
                   UBSAN_OPTIONS="print_stacktrace=1:log_path=%s/ubsan:"
                   "suppressions=%s" % (self.sandir, os.path.join(
                       TOP, "scripts", "ubsan.supp")))
        self.port = None
        if c.get("vnc"):
            self.port = rfb.free_port()
            args += ["-vnc", "127.0.0.1:%d" % (self.port - 5900)]
        if c.get("spice") == "tcp":
            self.port = rfb.free_port()
            args += ["-spice", "port=%d,addr=127.0.0.1,disable-ticketing=on"
                     % self.port]
        if c.get("spice") == "gl":
            args += ["-spice", "unix=on,addr=%s/spice.sock,"
                     "disable-ticketing=on,gl=on" % tmp]
        if c.get("x11"):
            env["DISPLAY"] = opt.x11()
        if c.get("wayland"):
            env.update(opt.wayland())
            env.pop("DISPLAY", None)
        if c.get("dbus"):
            env["DBUS_SESSION_BUS_ADDRESS"] = opt.dbus()
        self.errpath = os.path.join(tmp, "stderr")
        self.errfile = open(self.errpath, "w")
        # another build may be relinking the binary: wait for it
        for tries in range(240):
            try:
                self.proc = subprocess.Popen(args, env=env,
                                             stdout=subprocess.DEVNULL,
                                             stderr=self.errfile)
                break
            except OSError as e:
                if tries == 239:
                    raise
                if tries % 20 == 0:
                    print("# %s: %s; waiting" % (opt.qemu, e), flush=True)
                time.sleep(0.5)
        self.errpos = 0
        self.client = None
        self.qmp = None
        self.n = 0

    def start(self):
        """QMP, the client, and the VM running."""
        opt, c, tmp = self.opt, CONSOLES[self.console], self.tmp
        try:
            self.qmp = Qmp(os.path.join(tmp, "qmp.sock"),
                           timeout=opt.timeout)
        except (OSError, EOFError, ValueError):
            self.died("startup")
        self.qmp.sock.settimeout(opt.timeout)
        try:
            if c.get("vnc"):
                self.client = VncClient(self.port)
            elif c.get("spice") == "tcp":
                self.client = SpiceProbe(opt.probe, "spice://127.0.0.1?port=%d"
                                         % self.port, "0,0")
            elif c.get("spice") == "gl":
                self.client = SpiceProbe(opt.probe, "spice+unix://%s/"
                                         "spice.sock" % tmp)
        except OSError as e:
            self.check("client connect")
            raise Failure("client", "cannot connect: %s" % e)
        self.cmd("cont")

    # --- QMP, with death and hang detection
    def cmd(self, name, **args):
        try:
            rsp = self.qmp.cmd(name, **args)
        except (OSError, EOFError, ValueError) as e:
            if isinstance(e, TimeoutError) or "timed out" in str(e):
                if self.proc.poll() is None:
                    self.kill()
                    raise Failure("hang", "QMP %s: no answer in %ds"
                                  % (name, self.opt.timeout), self.stderr())
            self.died(name)
        return rsp

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stderr(self):
        with open(self.errpath, errors="replace") as f:
            return f.read()

    def new_stderr(self):
        with open(self.errpath, errors="replace") as f:
            f.seek(self.errpos)
            text = f.read()
            self.errpos = f.tell()
        return text

    def died(self, where):
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        time.sleep(0.2)
        err = self.stderr()
        reps = sanitizer_reports(self.sandir)
        sig = death_signature(err, reps, self.proc.returncode)
        detail = err[-3000:] + "".join("\n== %s\n%s" % (p, t[:6000])
                                       for p, _, t in reps)
        raise Failure("death", sig, detail)

    def frame_seen(self, cmd, args):
        """A present or mode step: the main loop converts its frame."""
        kv = dict(a.split("=", 1) for a in args.split() if "=" in a)
        if cmd in ("present", "mode") and "width" in kv and "height" in kv:
            self.frame_px = int(kv["width"]) * int(kv["height"])
            self.frame_checks = FRAME_STEPS

    def qmp_bound(self):
        """What QMP may take now: QMP_STALL_S, and a recent frame's work."""
        if self.frame_checks <= 0:
            return QMP_STALL_S
        self.frame_checks -= 1
        per = FRAME_S_PER_PIXEL_ASAN if self.opt.asan else FRAME_S_PER_PIXEL
        return QMP_STALL_S + self.frame_px * per

    def check(self, where):
        """QEMU is alive and answers query-status."""
        if self.proc.poll() is not None:
            self.died(where)
        t = time.time()
        rsp = self.cmd("query-status")
        if "return" not in rsp:
            raise Failure("qmp", "query-status: %s" % rsp)
        # the main loop never waits on the vendor (a refresh: 15 ms)
        took, bound = time.time() - t, self.qmp_bound()
        if took > bound:
            raise Failure("stall", "query-status took %.2f s (at most "
                          "%.2f) after '%s'" % (took, bound, where))

    # --- what a step does
    def step(self, line):
        kind, _, rest = line.partition(" ")
        if kind == "ctl":
            for part in rest.split("|"):
                cmd, _, args = part.partition(" ")
                self.frame_seen(cmd, args)
                try:
                    control(self.tmp, "%s %s %s" % (cmd, UUID, args))
                except OSError:
                    self.check(line)
        elif kind == "dump":
            self.n += 1
            path = os.path.join(self.tmp, "dump.ppm")
            self.cmd("screendump", filename=path)
        elif kind == "wait":
            time.sleep(float(rest))
        elif kind == "qmp":
            for name in rest.split("|"):
                self.cmd(name)
        elif kind == "resize":
            if isinstance(self.client, VncClient):
                w, h = rest.split()
                self.client.resize(int(w), int(h))
        else:
            raise ValueError("unknown step '%s'" % line)
        if isinstance(self.client, SpiceProbe):
            self.client.drain(0.01)
        self.check(line)

    def fds(self):
        return len(self.fd_targets())

    def fd_targets(self):
        """What each fd of QEMU is open on (pipe and socket inodes cut)."""
        d = "/proc/%d/fd" % self.proc.pid
        out = []
        for f in os.listdir(d):
            try:
                out.append(re.sub(r"\[\d+\]|\(deleted\)|\.\d+$", "",
                                  os.readlink(os.path.join(d, f))))
            except OSError:
                pass
        return out

    def rss(self):
        """QEMU's resident memory less the simulated devices' own memory
        (its memfd:vfio-sim-* mappings: the vGPU's VRAM or graphics memory
        the guest drew into, which on a real host is not QEMU's)."""
        total = device = 0
        sim = False
        with open("/proc/%d/smaps" % self.proc.pid) as f:
            for line in f:
                head = line.split(None, 6)
                if head and "-" in head[0] and ":" not in head[0]:
                    sim = len(head) > 5 and "memfd:vfio-sim" in head[5]
                elif line.startswith("Rss:"):
                    kib = int(head[1]) * 1024
                    total += kib
                    device += kib if sim else 0
        return total - device

    def settle(self):
        """Faults cleared, the model's first frame again, refreshes."""
        self.step("ctl clear")
        for line in MODELS[self.model]["prologue"]:
            self.step(line)
        for _ in range(3):
            self.step("dump")
        time.sleep(1.0)
        self.step("dump")
        return self.fds(), self.rss()

    def stats(self):
        rsp = self.cmd("qom-get", path="/machine/peripheral/vgpu",
                       property="display-stats")
        return rsp.get("return", {})

    def client_check(self):
        c = self.client
        if isinstance(c, VncClient):
            if c.error:
                raise Failure("client", "VNC client: %s" % c.error)
        elif isinstance(c, SpiceProbe):
            if c.proc.poll() is not None:
                raise Failure("client", "spice-probe exited with %s"
                              % c.proc.returncode)
            errs = [s for s in c.seen if s.startswith("error")]
            if errs:
                raise Failure("client", "spice-probe: %s" % errs[0])

    def stop(self):
        if self.client:
            self.client.close()
        if self.proc.poll() is None:
            try:
                self.qmp.cmd("quit")
            except (OSError, EOFError, ValueError):
                pass
        try:
            self.proc.wait(timeout=self.opt.timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure("hang", "quit: QEMU did not exit", self.stderr())
        self.errfile.close()
        return self.proc.returncode


def ours(line):
    return ("warning" in line or "error" in line or "display:" in line) and \
        not any(n in line for n in NOISE)


# steps that cannot change the fault set or the layout: a message may not
# repeat across them
PASSIVE = ("dump", "wait", "ctl rect", "ctl edid", "qmp stop|cont")


def run_sequence(opt, console, model, steps):
    """Run @steps; a dict of figures, or raise Failure (its .step the
    index of the step it happened at, None at the end)."""
    tmp = tempfile.mkdtemp(prefix="fuzz-", dir=opt.tmpdir)
    run = None
    i = None
    try:
        run = Run(opt, console, model, tmp)
        run.start()
        base_fds, base_rss = run.settle()
        base_targets = run.fd_targets()
        seen = {}                   # message -> generation it last came in
        history = []
        gen = 0

        def messages(i, line):
            for msg in run.new_stderr().splitlines():
                if not ours(msg):
                    continue
                history.append("after step %d (%s): %s" % (i + 1, line, msg))
                if seen.get(msg) == gen:
                    raise Failure("repeat", "message repeated without a "
                                  "change: %s" % re.sub(
                                      r"\b\d+\b|0x[0-9a-f]+", "N",
                                      msg.split("display: ")[-1]),
                                  "\n".join(history))
                seen[msg] = gen
        for i, line in enumerate(steps):
            if not line.startswith(PASSIVE):
                # a refresh under way still belongs to the steps before
                time.sleep(0.1)
                messages(i - 1, steps[i - 1] if i else "start")
                gen += 1
            run.step(line)
            messages(i, line)
        i = None
        fds, rss = run.settle()
        try:
            counters = control(tmp, "counters " + UUID)
        except OSError:
            run.check("counters")
            raise
        stats = run.stats()
        run.client_check()
        gl = CONSOLES[console].get("gl") or CONSOLES[console].get("spice") \
            == "gl"
        slack = FD_SLACK_GL if gl else FD_SLACK
        rslack = RSS_SLACK_ASAN if opt.asan else RSS_SLACK
        if fds > base_fds + slack:
            extra = list(run.fd_targets())
            for t in base_targets:
                if t in extra:
                    extra.remove(t)
            kinds = {}
            for t in extra:
                kinds[t] = kinds.get(t, 0) + 1
            raise Failure("leak", "fds past the baseline + %d after a "
                          "settle" % slack, "fds %d -> %d; new fds: "
                          % (base_fds, fds) + ", ".join(
                              "%d x %s" % (n, t) for t, n in kinds.items()) +
                          "\nsimulator counters: " + counters)
        if rss > base_rss + rslack:
            raise Failure("leak", "RSS past the baseline + %d MiB after a "
                          "settle" % (rslack >> 20), "RSS %d -> %d MiB"
                          % (base_rss >> 20, rss >> 20))
        bugs = sorted(set(re.findall(r"[\w-]*-bug-[\w-]*", counters)))
        if bugs:
            raise Failure("kernel-bug", "the consumer triggered a kernel bug "
                          "of the model: %s" % " ".join(bugs),
                          "simulator counters: " + counters)
        rc = run.stop()
        err = run.stderr()
        reps = sanitizer_reports(run.sandir)
        if reps:
            raise Failure("sanitizer", death_signature(err, reps, rc),
                          reps[0][2][:6000])
        if rc != 0:
            raise Failure("death", "quit: %s" % death_signature(err, [], rc),
                          err[-3000:])
        msgs = [m for m in err.splitlines() if ours(m)]
        return dict(steps=len(steps), faults=stats.get("faults", 0),
                    messages=msgs, fds=(base_fds, fds),
                    rss=(base_rss, rss))
    except Failure as f:
        f.step = i
        raise
    finally:
        if run:
            if run.client:
                try:
                    run.client.close()
                except OSError:
                    pass
            run.kill()
            if not run.errfile.closed:
                run.errfile.close()
            if opt.sanitizer_logs:
                os.makedirs(opt.sanitizer_logs, exist_ok=True)
                for path in glob.glob(os.path.join(run.sandir, "*")):
                    shutil.copy(path, os.path.join(
                        opt.sanitizer_logs, "fuzz-%s-%s-%s" % (
                            console, model, os.path.basename(path))))
        shutil.rmtree(tmp, ignore_errors=True)


def attempt(opt, console, model, steps):
    """None, or the Failure of a run of @steps."""
    try:
        run_sequence(opt, console, model, steps)
        return None
    except Failure as f:
        return f


def shrink(opt, console, model, steps, fail):
    """Fewer steps with the same failure: cut after the failing step, then
    drop chunks and single steps while the failure stays."""
    want = (fail.kind, fail.sig)
    if fail.step is not None:
        steps = steps[:fail.step + 1]
    if opt.shrink_left <= 0:
        print("# shrink: no time left for shrinking (--shrink-seconds)")
        return steps
    for _ in range(3):
        f = attempt(opt, console, model, steps)
        if f and (f.kind, f.sig) == want:
            break
    if not f or (f.kind, f.sig) != want:
        print("# shrink: the failure did not come again (%s): not shrunk"
              % ("%s: %s" % (f.kind, f.sig) if f else "no failure"))
        return steps
    t0 = time.time()
    deadline = t0 + opt.shrink_left
    try:
        return _shrink(opt, console, model, steps, fail, deadline)
    finally:
        opt.shrink_left -= time.time() - t0


def _shrink(opt, console, model, steps, fail, deadline):
    want = (fail.kind, fail.sig)
    tries = 0
    chunk = max(1, len(steps) // 2)
    while chunk >= 1 and time.time() < deadline:
        i = 0
        changed = False
        while i < len(steps) and time.time() < deadline:
            cand = steps[:i] + steps[i + chunk:]
            tries += 1
            f = attempt(opt, console, model, cand)
            if f and (f.kind, f.sig) == want:
                steps = cand
                if f.step is not None:
                    steps = steps[:f.step + 1]
                changed = True
                print("# shrink: %d steps (try %d)" % (len(steps), tries),
                      flush=True)
            else:
                i += chunk
        if not changed:
            chunk //= 2
    return steps


# ---------------------------------------------------------------- main
def write_case(path, console, model, steps, fail, origin):
    with open(path, "w") as f:
        json.dump(dict(console=console, model=model, origin=origin,
                       failure="%s: %s" % (fail.kind, fail.sig)
                       if fail else None, steps=steps), f, indent=1)
        f.write("\n")


class Figures:
    def __init__(self):
        self.sequences = self.steps = self.faults = 0
        self.deaths = self.sanitizer = 0
        self.messages = {}
        self.failures = []

    def add(self, res):
        self.sequences += 1
        self.steps += res["steps"]
        self.faults += res["faults"]
        for m in res["messages"]:
            k = re.sub(r"\b\d+\b|0x[0-9a-f]+", "N", m.split("display: ")[-1])
            self.messages[k] = self.messages.get(k, 0) + 1


def report_failure(opt, figs, console, model, steps, fail, origin):
    figs.sequences += 1
    figs.steps += len(steps) if fail.step is None else fail.step + 1
    if fail.kind == "death":
        figs.deaths += 1
    if fail.kind == "sanitizer" or "Sanitizer" in fail.sig or \
            "runtime error" in fail.sig:
        figs.sanitizer += 1
    print("# FAIL %s on %s/%s: %s: %s (at step %s)" % (
        origin, console, model, fail.kind, fail.sig,
        "end" if fail.step is None else fail.step + 1), flush=True)
    for line in fail.detail.splitlines()[-25:]:
        print("#   " + line)
    small = steps
    if opt.shrink:
        print("# shrinking %d steps ..." % len(steps), flush=True)
        small = shrink(opt, console, model, steps, fail)
    os.makedirs(opt.out, exist_ok=True)
    name = "%s-%s-%d.json" % (console, model, len(figs.failures))
    path = os.path.join(opt.out, name)
    write_case(path, console, model, small, fail, origin)
    print("# minimal sequence (%d steps), replay: scripts/fuzz.sh --replay %s"
          % (len(small), path))
    for s in small:
        print("#   " + s)
    figs.failures.append((console, model, fail, path, origin))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    b = os.path.join(TOP, "build")
    ap.add_argument("--qemu", default=os.path.join(b, "qemu",
                                                   "qemu-system-x86_64"))
    ap.add_argument("--simlib", default=os.path.join(b, "vfio-sim",
                                                     "libvfio-sim.so"))
    ap.add_argument("--probe", default=os.path.join(b, "display",
                                                    "spice-probe"))
    ap.add_argument("--seconds", type=float, default=60,
                    help="budget of new sequences, shared by the consoles")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--console", default=",".join(CONSOLES))
    ap.add_argument("--model", default=",".join(MODELS))
    ap.add_argument("--sequence", type=int, help="only this sequence index")
    ap.add_argument("--steps", type=int, help="steps a sequence (default "
                    "10-60, random)")
    ap.add_argument("--replay", nargs="*", default=[], help="case files to "
                    "run (only these)")
    ap.add_argument("--cases", default=os.path.join(HERE, "fuzz-cases"),
                    help="case files replayed first ('' for none)")
    ap.add_argument("--out", default=os.path.join(b, "fuzz"),
                    help="where minimal reproducers are written")
    ap.add_argument("--no-shrink", dest="shrink", action="store_false")
    ap.add_argument("--shrink-seconds", type=float, default=300,
                    help="time for shrinking, over the whole run")
    ap.add_argument("--sanitizer-logs", help="a copy of every sanitizer "
                    "log file goes here")
    ap.add_argument("--shrink-replay", action="store_true",
                    help="shrink a failing --replay case too")
    ap.add_argument("--timeout", type=int, default=30)
    ap.add_argument("--asan", action="store_true",
                    help="QEMU is a sanitizer build (looser RSS bound)")
    ap.add_argument("--tap", action="store_true", help="TAP: one test a "
                    "console and one a case file")
    opt = ap.parse_args()
    opt.shrink_left = opt.shrink_seconds
    opt.tmpdir = tempfile.mkdtemp(prefix="vfio-fuzz-")
    helpers = []

    def x11():
        if not hasattr(opt, "_x11"):
            proc, disp = start_xvfb()
            helpers.append(proc)
            opt._x11 = disp
        return opt._x11

    def dbus():
        if not hasattr(opt, "_dbus"):
            proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork",
                                     "--print-address=1"],
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
            helpers.append(proc)
            opt._dbus = proc.stdout.readline().strip()
        return opt._dbus
    def wayland():
        if not hasattr(opt, "_wayland"):
            wl = Weston(opt.tmpdir, "gl")
            helpers.append(wl.proc)
            opt._wayland = wl.client_env
        return opt._wayland
    opt.x11, opt.dbus, opt.wayland = x11, dbus, wayland
    start = time.time()
    figs = Figures()
    tap_n = 0
    tap_failed = 0

    def tap(ok, name):
        nonlocal tap_n, tap_failed
        tap_n += 1
        tap_failed += not ok
        if opt.tap:
            print("%sok %d - %s" % ("" if ok else "not ", tap_n, name),
                  flush=True)

    try:
        models, formats, modifiers = probe_support(opt.simlib, opt.tmpdir)
        consoles = [c for c in opt.console.split(",") if c]
        wanted = [m for m in opt.model.split(",") if m]
        for c in consoles:
            if c not in CONSOLES:
                ap.error("unknown console %s (%s)" % (c, ", ".join(CONSOLES)))
        # a binary without SDL (the sanitizers' build), a host without
        # weston: those consoles are left out, and said so
        uis = subprocess.run([opt.qemu, "-display", "help"],
                             capture_output=True, text=True).stdout.split()
        for c in list(consoles):
            ui = CONSOLES[c].get("ui")
            if (ui and ui not in uis) or (CONSOLES[c].get("wayland") and
                                          not shutil.which("weston")):
                print("# console %s: not in %s or on this host: left out"
                      % (c, os.path.basename(opt.qemu)), flush=True)
                consoles.remove(c)
        use = [m for m in wanted if m in models]
        print("# fuzz: %s on %s; models %s; seed %s; %gs" % (
            os.path.relpath(opt.qemu), ", ".join(consoles), " ".join(use),
            opt.seed, opt.seconds), flush=True)
        cases = opt.replay or (sorted(glob.glob(os.path.join(opt.cases,
                                                              "*.json")))
                               if opt.cases else [])
        for path in cases:
            case = json.load(open(path))
            c, m = case["console"], case["model"]
            name = "case %s (%s/%s, %d steps)" % (
                os.path.basename(path), c, m, len(case["steps"]))
            if m not in models:
                print("# %s: model %s not in this simulator" % (name, m))
                continue
            print("# replay %s" % name, flush=True)
            f = attempt(opt, c, m, case["steps"])
            if f and opt.replay and opt.shrink_replay:
                report_failure(opt, figs, c, m, case["steps"], f,
                               "--replay " + path)
            elif f:
                figs.sequences += 1
                figs.deaths += f.kind == "death"
                figs.sanitizer += f.kind == "sanitizer"
                print("# FAIL %s: %s: %s (at step %s)" % (
                    name, f.kind, f.sig,
                    "end" if f.step is None else f.step + 1))
                for line in f.detail.splitlines()[-12:]:
                    print("#   " + line)
                figs.failures.append((c, m, f, path, "case"))
            else:
                figs.sequences += 1
                figs.steps += len(case["steps"])
            tap(not f, name)
        if opt.replay:
            return finish(opt, figs, start, tap_n, tap_failed)
        per = opt.seconds / max(1, len(consoles))
        for c in consoles:
            end = time.time() + per
            n0, fails0 = figs.sequences, len(figs.failures)
            skipped = None
            index = opt.sequence if opt.sequence is not None else 0
            k = 0
            while True:
                # each console starts at another model: short budgets
                # still cover them all
                m = use[(k + consoles.index(c)) % len(use)]
                steps = generate(opt.seed, c, m, index, formats, modifiers,
                                 opt.steps)
                t0 = time.time()
                try:
                    res = run_sequence(opt, c, m, steps)
                    figs.add(res)
                    print("# %s/%s seq %d: %d steps, %d faults, %d messages, "
                          "fds %d->%d, RSS %d->%d MiB, %.1fs" % (
                              c, m, index, len(steps), res["faults"],
                              len(res["messages"]), res["fds"][0],
                              res["fds"][1], res["rss"][0] >> 20,
                              res["rss"][1] >> 20, time.time() - t0),
                          flush=True)
                except Failure as f:
                    err = f.detail
                    if f.kind == "death" and k == 0 and f.step is None and \
                            _startup_refused(err):
                        skipped = err.strip().splitlines()[-1]
                        break
                    report_failure(opt, figs, c, m, steps, f,
                                   "--seed %s --console %s --model %s "
                                   "--sequence %d" % (opt.seed, c, m, index))
                k += 1
                index += 1
                if opt.sequence is not None and k >= len(use):
                    break
                if opt.sequence is None and time.time() >= end:
                    break
            if skipped:
                print("# console %s cannot run here: %s" % (c, skipped))
                tap(True, "console %s # SKIP %s" % (c, skipped))
                continue
            nf = len(figs.failures) - fails0
            tap(nf == 0, "console %s: %d sequences, %d failed" % (
                c, figs.sequences - n0, nf))
        return finish(opt, figs, start, tap_n, tap_failed)
    finally:
        for p in helpers:
            p.terminate()
            p.wait()
        shutil.rmtree(opt.tmpdir, ignore_errors=True)


def _startup_refused(err):
    """QEMU refused its command line (a display that cannot run here)."""
    return "qemu-system-x86_64:" in err and "vfio" not in err and \
        "Assertion" not in err and \
        "Sanitizer" not in err and "runtime error" not in err


def finish(opt, figs, start, tap_n, tap_failed):
    print("# figures: %.0fs, %d sequences, %d steps, %d faults counted "
          "(display-stats), %d distinct messages, %d deaths, %d sanitizer "
          "reports, %d failures" % (
              time.time() - start, figs.sequences, figs.steps, figs.faults,
              len(figs.messages), figs.deaths, figs.sanitizer,
              len(figs.failures)))
    for m, n in sorted(figs.messages.items(), key=lambda kv: -kv[1]):
        print("#   %4d x %s" % (n, m))
    for c, m, f, path, origin in figs.failures:
        print("# failure: %s/%s %s: %s (%s)" % (c, m, f.kind, f.sig, path))
    if opt.tap:
        print("1..%d" % tap_n)
    return 1 if figs.failures or tap_failed else 0


if __name__ == "__main__":
    sys.exit(main())
