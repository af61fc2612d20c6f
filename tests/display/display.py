# SPDX-License-Identifier: GPL-2.0-or-later
#
# What the display tests share: the simulated devices they use, our QEMU
# started on one of them, pixel checks against the simulator's xy
# pattern, and weston for the Wayland consoles.

import glob
import os
import shutil
import subprocess
import time

from simtap import (Qmp, control, find_frame, qemu_stop, read_png,
                    read_ppm, read_xwd, sim_env, until, xy_frame, xy_wrong)

GVT = "cccccccc-0000-4000-8000-0000000000c1"
MBOCHS = "bbbbbbbb-0000-4000-8000-0000000000b1"
MBOCHS_CPU = "bbbbbbbb-0000-4000-8000-0000000000b2"
MDPY = "aaaaaaaa-0000-4000-8000-0000000000a1"
CONFIG = """%s gvt group=71
%s mbochs type=small group=72
%s mbochs type=small group=73 dmabuf-cpu-mmap=allow
%s mdpy type=vga group=74
""" % (GVT, MBOCHS, MBOCHS_CPU, MDPY)

# bits of each channel a format keeps (8-bit compare masks)
MASKS = {"RGB565": (0xf8, 0xfc, 0xf8)}


class Qemu:
    """Our QEMU on simulated device @uuid (id "vgpu"), stopped (-S)."""

    def __init__(self, qemu, simlib, tmp, uuid, display="none",
                 device="vfio-pci", props="display=on", extra=(), env=None,
                 before=()):
        """@before: arguments before the device's (a bus it plugs into)."""
        self.tmp = tmp
        args = [qemu, "-M", "q35", "-nodefaults", "-display", display, "-S",
                "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % tmp] + \
            list(before) + [
                "-device", "%s,sysfsdev=/sys/bus/mdev/devices/%s,%s,id=vgpu"
                % (device, uuid, props)] + list(extra)
        e = sim_env(simlib, tmp)
        e["VFIO_SIM_KERNEL_BUGS"] = "count"
        e.update(env or {})
        self.proc = subprocess.Popen(args, env=e, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.qmp = Qmp(os.path.join(tmp, "qmp.sock"))
        self.n = 0

    def dump(self):
        """(width, height, pixels) of a screendump, or None with the error."""
        self.n += 1
        path = os.path.join(self.tmp, "dump%d.ppm" % self.n)
        rsp = self.qmp.cmd("screendump", filename=path)
        if "error" in rsp:
            return None, rsp["error"]["desc"]
        return read_ppm(path), ""

    def stats(self):
        """The device's display-stats counters."""
        return self.qmp.cmd("qom-get", path="/machine/peripheral/vgpu",
                            property="display-stats")["return"]

    def fds(self, target=""):
        """How many fds the QEMU process holds (on a file whose name has
        @target: "memfd:vfio-sim" for the simulator's memory and the
        dma-bufs it exports)."""
        d = "/proc/%d/fd" % self.proc.pid
        n = 0
        for f in os.listdir(d):
            try:
                n += target in os.readlink(os.path.join(d, f))
            except OSError:
                pass
        return n

    def alive(self):
        """QEMU still answers QMP."""
        return "return" in self.qmp.cmd("query-status")

    def stop(self):
        """Quit; QEMU's stderr."""
        return qemu_stop(self.proc, self.qmp)


def present_xy(tmp, width=640, height=480):
    """gvt's guest scans out the xy pattern, XRGB8888, @width x @height."""
    control(tmp, "present %s format=XRGB8888 width=%d height=%d pattern=xy"
            % (GVT, width, height))


def wrong(img, fmt="XRGB8888"):
    """How many pixels of @img differ from the xy pattern."""
    return xy_wrong(img, MASKS.get(fmt, (0xff, 0xff, 0xff)))


def delta(a, b):
    """The change of each counter from stats @a to stats @b."""
    return {k: b[k] - a[k] for k in a}


def frame(w, h, *paste):
    """The xy pattern at w x h, (w, h, rgb), with each of @paste, (x, y,
    width, height, fill), drawn over it, clipped to the frame: a fill is
    one pixel's 3 bytes, or fill(i, j) gives those of pixel i, j of the
    rectangle."""
    pix = bytearray(xy_frame(w, h))
    for px, py, pw, ph, fill in paste:
        for j in range(max(0, -py), min(ph, h - py)):
            for i in range(max(0, -px), min(pw, w - px)):
                o = ((py + j) * w + px + i) * 3
                pix[o:o + 3] = fill(i, j) if callable(fill) else fill
    return w, h, bytes(pix)


def xdotool(display, *args):
    """xdotool on X display @display (XTEST); what it printed."""
    return subprocess.run(["xdotool"] + [str(a) for a in args], timeout=30,
                          env=dict(os.environ, DISPLAY=display),
                          capture_output=True, text=True).stdout


def xwd(display, path):
    """The whole X screen, (width, height, rgb), or None (xwd into
    @path)."""
    r = subprocess.run(["xwd", "-root", "-silent", "-display", display,
                        "-out", path], capture_output=True, timeout=30)
    return read_xwd(path) if r.returncode == 0 else None


def ps2_codes(err):
    """The PS/2 scan codes in QEMU's stderr @err (-trace ps2_put_keycode),
    in order, as "0x1c"."""
    return [line.split()[-1] for line in err.splitlines()
            if line.startswith("ps2_put_keycode")]


class Weston:
    """weston with @renderer ("gl" or "pixman"), its runtime directory and
    log in @tmp: its headless backend, or with @x11 (an X display) its X11
    backend, a window there whose seat is the X server's keyboard and
    pointer; its output @size.  client_env: what makes a process its
    Wayland client."""

    SOCKET = "wayland-qemu-test"

    def __init__(self, tmp, renderer, x11=None, size=(1280, 800)):
        self.x11, self.size = x11, size
        name = renderer + ("-x11" if x11 else "")
        self.run = os.path.join(tmp, "xdg-" + name)
        os.makedirs(self.run, mode=0o700, exist_ok=True)
        self.log = os.path.join(tmp, "weston-%s.log" % name)
        self.client_env = dict(XDG_RUNTIME_DIR=self.run,
                               WAYLAND_DISPLAY=self.SOCKET,
                               GDK_BACKEND="wayland")
        self.env = dict(os.environ, **self.client_env)
        self.env.pop("DISPLAY", None)
        backend = "x11-backend.so" if x11 else "headless-backend.so"
        self.proc = subprocess.Popen(
            ["weston", "--backend=" + backend, "--use-" + renderer,
             "--width=%d" % size[0], "--height=%d" % size[1],
             "--socket=" + self.SOCKET,
             "--no-config", "--debug", "--log=" + self.log],
            env=dict(self.env, DISPLAY=x11) if x11 else self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.n = 0
        if not until(lambda: self.proc.poll() is not None or
                     os.path.exists(os.path.join(self.run, self.SOCKET)),
                     20, 0.1) or self.proc.poll() is not None:
            raise RuntimeError("weston did not start: " + self.tail())

    def tail(self):
        try:
            with open(self.log) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def screenshot(self):
        """The output, (width, height, rgb), or None (weston-screenshooter,
        the debug protocol)."""
        self.n += 1
        d = os.path.join(self.run, "shot%d" % self.n)
        os.makedirs(d)
        r = subprocess.run(["weston-screenshooter"], cwd=d, env=self.env,
                           capture_output=True, timeout=30)
        shots = glob.glob(os.path.join(d, "*.png"))
        img = read_png(shots[0]) if r.returncode == 0 and shots else None
        shutil.rmtree(d)
        return img

    def shown(self, want, timeout=15):
        """Wait until @want is on the output; where it is, or None."""
        def where():
            screen = self.screenshot()
            return screen and find_frame(screen, want)
        return until(where, timeout)

    def pointer(self, *points):
        """The X11 backend's seat: the X pointer through each output
        position of @points, (x, y), in turn.  weston's window is at the
        X screen's top left, its output unscaled, and weston follows the X
        pointer only from an enter into its window: the pointer leaves it
        first, below its output."""
        xdotool(self.x11, "mousemove", self.size[0] - 10, self.size[1] + 10)
        time.sleep(0.3)
        for x, y in points:
            xdotool(self.x11, "mousemove", x, y)
            time.sleep(0.5)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
