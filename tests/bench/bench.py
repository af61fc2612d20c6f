#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Our QEMU and Debian's stock QEMU 10.0 side by side on the same simulated
# vGPU (docs/system/devices/vfio-display-bench.md has the latest output).
#
# For each workload the simulator presents frames at a fixed rate through
# its control socket: nothing (static), a rectangle of 5 % of the frame at
# a new place and colour (small), or the whole frame in a new colour
# (full); every frame also paints a 16x16 marker at (0, 0) whose colour is
# the frame's number.  One consumer is connected for the whole run: a VNC
# client of ours (tests/display/rfb.py, raw encoding) or a SPICE client of
# ours (spice-probe, spice-client-glib, SPICE without GL); each reports the
# marker's colour as it arrives, so a frame's latency is the time from its
# presentation to its marker reaching the client.  Figures, per presented
# frame: QEMU's CPU time (/proc/PID/stat: utime + stime, the simulator's
# drawing included, the same for both), bytes the client received (its
# own count: RFB bytes read, spice-gtk's total-read-bytes of the display
# channel), frames that reached the client per
# second, latency median and 95th percentile, and the display's share of
# the CPU (what the same frames cost a QEMU with display=off: the
# simulator's drawing, the idle guest, the client's session, subtracted),
# bytes our display copied
# (display-stats; stock has no counter), peak RSS.  Runs alternate between
# the two binaries, in both orders, --repeat times (the tables show each
# figure's median) so that the machine's drift cancels out.
#
# Region mode (the mdpy model, 1024x768 and 1920x1080: mdpy's types) is
# the fair comparison: stock's dma-buf path needs OpenGL on a render node.
# Ours also runs the dma-buf path (gvt, read back with llvmpipe) at all
# three sizes, and egl-headless, with the read-back's cost per frame.
#
# usage: bench.py OURS STOCK SIMLIB SPICE-PROBE [--seconds S] [--repeat N]
#                 [--quick]

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vfio-sim"))
sys.path.insert(0, os.path.join(HERE, "..", "display"))
from simtap import Qmp, control, qemu_stop, sim_env  # noqa: E402
import rfb  # noqa: E402
from spiceprobe import SpiceProbe  # noqa: E402

MDPY = "bbbbbbbb-0000-4000-8000-00000000bd01"
GVT = "bbbbbbbb-0000-4000-8000-00000000bd02"
MDPY_TYPES = {(1024, 768): "xga", (1920, 1080): "hd"}
MARKER = 16
REFRESH_MS = 30         # QEMU's GUI_REFRESH_INTERVAL_DEFAULT


def color(n):
    """Frame @n's marker colour: 24 bits, never black."""
    return (n * 2654435761 + 0x10101) & 0xffffff or 1


def cpu_seconds(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    m = re.search(r"^VmHWM:\s+(\d+) kB", open("/proc/%d/status" % pid).read(),
                  re.M)
    return int(m.group(1)) / 1024


class VncConsumer:
    """Our RFB client: asks for updates all the time, notes when the
    marker's pixel changes."""

    def __init__(self, port):
        self.cli = rfb.Rfb(port)
        self.seen = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        c = self.cli
        last = None
        try:
            c.request(0)
            while not self.stop:
                for x, y, w, h, enc, data in c.read_update():
                    if enc == rfb.ENC_RAW and x == 0 and y == 0 and data:
                        px = int.from_bytes(data[:4], "little") & 0xffffff
                        if px != last:
                            last = px
                            self.seen.append((time.monotonic(), px))
                c.request(1)
        except OSError:
            pass

    def received(self):
        return self.cli.received

    def close(self):
        self.stop = True
        self.cli.close()


class SpiceConsumer:
    """spice-probe watching the marker's pixel of the 2D surface."""

    def __init__(self, probe, port):
        self.probe = SpiceProbe(probe, "spice://127.0.0.1?port=%d" % port,
                                "1,1")
        self.seen = []
        self.stats = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            line = self.probe.line(3600)
            if line is None:
                return
            m = re.match(r"probe (\d+) 0x([0-9a-f]+)", line)
            if m:
                self.seen.append((int(m.group(1)) / 1e6,
                                  int(m.group(2), 16)))
            m = re.match(r"stats (\d+) (\d+)", line)
            if m:
                self.stats.append(int(m.group(2)))

    def received(self):
        """Bytes read on the display channel, asked of the client."""
        n = len(self.stats)
        self.probe.send("stats")
        end = time.monotonic() + 5
        while len(self.stats) == n and time.monotonic() < end:
            time.sleep(0.01)
        return self.stats[-1] if self.stats else 0

    def close(self):
        self.probe.close()


class Run:
    """One QEMU on one simulated device with one consumer."""

    def __init__(self, tmp, qemu, simlib, probe, model, size, client,
                 display="none", vgpu_display="on"):
        self.tmp = tmp
        w, h = size
        with open(os.path.join(tmp, "config"), "w") as f:
            if model == "mdpy":
                f.write("%s mdpy type=%s group=81\n" % (MDPY,
                                                        MDPY_TYPES[size]))
            else:
                f.write("%s gvt group=82\n" % GVT)
        self.uuid = MDPY if model == "mdpy" else GVT
        port = rfb.free_port()
        ui = (["-vnc", "127.0.0.1:%d" % (port - 5900)] if client == "vnc"
              else ["-spice", "addr=127.0.0.1,port=%d,disable-ticketing=on,"
                    "image-compression=off,streaming-video=off" % port])
        qmp = os.path.join(tmp, "qmp.sock")
        env = sim_env(simlib, tmp)
        if not qemu.startswith("/usr/"):
            # a build's binary, or a copy of one: its modules beside it
            env["QEMU_MODULE_DIR"] = os.path.dirname(os.path.abspath(qemu))
        self.proc = subprocess.Popen(
            [qemu, "-M", "q35", "-m", "256", "-nodefaults", "-S",
             "-display", display, "-qmp", "unix:%s,server=on,wait=off" % qmp,
             "-device", "vfio-pci,id=vgpu,sysfsdev=/sys/bus/mdev/devices/%s,"
             "display=%s" % (self.uuid, vgpu_display)] + ui,
            env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        self.qmp = Qmp(qmp, timeout=30)
        if model == "gvt":
            control(tmp, "present %s format=XRGB8888 width=%d height=%d "
                    "pattern=0xff202020" % (GVT, w, h))
        else:
            control(tmp, "rect %s x=0 y=0 w=%d h=%d pattern=0xff202020"
                    % (MDPY, w, h))
        # the guest runs (SPICE stops its display with the VM): SeaBIOS,
        # which finds nothing to boot and idles, the same for both
        self.qmp.cmd("cont")
        time.sleep(1.0)
        self.consumer = (VncConsumer(port) if client == "vnc" else
                         SpiceConsumer(probe, port))
        time.sleep(1.0)

    def stats(self):
        return self.qmp.cmd("qom-get", path="/machine/peripheral/vgpu",
                            property="display-stats").get("return", {})

    def stop(self):
        self.consumer.close()
        try:
            qemu_stop(self.proc, self.qmp)
        except (OSError, EOFError):     # QEMU went away under QMP
            self.proc.kill()
            self.proc.wait()


def present(tmp, uuid, workload, size, n):
    """Frame @n of @workload; its presentation time: when its drawing
    starts (a big frame's first rows can reach the client before the
    control command that draws it returns)."""
    w, h = size
    c = color(n)
    t = time.monotonic()
    if workload == "full":
        control(tmp, "rect %s x=0 y=0 w=%d h=%d pattern=0xff%06x" %
                (uuid, w, h, c))
    else:
        side = int((0.05 * w * h) ** 0.5)
        x = MARKER + (n * 37) % (w - side - MARKER)
        y = MARKER + (n * 23) % (h - side - MARKER)
        control(tmp, "rect %s x=%d y=%d w=%d h=%d pattern=0xff%06x" %
                (uuid, x, y, side, side, c))
        control(tmp, "rect %s x=0 y=0 w=%d h=%d pattern=0xff%06x" %
                (uuid, MARKER, MARKER, c))
    return t


def measure(tmp, qemu, ours, simlib, probe, model, size, client, workload,
            fps, seconds, display="none", vgpu_display="on"):
    run = Run(tmp, qemu, simlib, probe, model, size, client, display,
              vgpu_display)
    pid = run.proc.pid
    st0 = run.stats() if ours else {}
    cpu0, io0 = cpu_seconds(pid), run.consumer.received()
    t0 = time.monotonic()
    presented = {}
    frames = 0
    if workload != "static":
        period = 1.0 / fps
        nxt = t0
        while time.monotonic() - t0 < seconds:
            frames += 1
            presented[color(frames)] = present(tmp, run.uuid, workload,
                                               size, frames)
            nxt += period
            time.sleep(max(0, nxt - time.monotonic()))
    else:
        time.sleep(seconds)
    time.sleep(0.3)             # the last frame's way to the client
    elapsed = time.monotonic() - t0
    cpu, io = cpu_seconds(pid) - cpu0, run.consumer.received() - io0
    st1 = run.stats() if st0 else {}
    rss = peak_rss_mib(pid)
    seen = [(t, px) for t, px in run.consumer.seen if t >= t0]
    lat = sorted(t - presented[px] for t, px in seen if px in presented)
    run.stop()
    per = frames or 1
    return {
        "cpu_ms": 1000 * cpu / per if frames else None,
        "cpu_pct": 100 * cpu / elapsed,
        "bytes": io / per if frames else io / elapsed,
        "fps_client": len(lat) / elapsed,
        "lat_med": 1000 * statistics.median(lat) if lat else None,
        "lat_p95": 1000 * lat[int(0.95 * (len(lat) - 1))] if lat else None,
        "copied": ((st1.get("bytes-copied", 0) - st0.get("bytes-copied", 0))
                   / per) if st0 else None,
        "readback": ((st1.get("bytes-read", 0) - st0.get("bytes-read", 0))
                     / per) if st0 and model == "gvt" else None,
        "rss": rss,
        "frames": frames,
    }


def console_floor(tmp, stock, probe, client, seconds):
    """What SPICE's or VNC's refresh of a console costs with nothing new
    to show, whatever the device: stock QEMU with a bochs-display (dirty
    tracking: an idle frame costs it nothing) against no display device,
    the same consumer connected; % of a core."""
    pct = []
    for dev in ([], ["-device", "bochs-display,romfile="]):
        port = rfb.free_port()
        ui = (["-vnc", "127.0.0.1:%d" % (port - 5900)] if client == "vnc"
              else ["-spice", "addr=127.0.0.1,port=%d,disable-ticketing=on,"
                    "image-compression=off,streaming-video=off" % port])
        qmp = os.path.join(tmp, "floor.sock")
        proc = subprocess.Popen(
            [stock, "-M", "q35", "-m", "256", "-nodefaults", "-display",
             "none", "-qmp", "unix:%s,server=on,wait=off" % qmp] + dev + ui,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        q = Qmp(qmp, timeout=30)
        time.sleep(1.0)
        consumer = (VncConsumer(port) if client == "vnc" else
                    SpiceConsumer(probe, port))
        time.sleep(1.0)
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        pct.append(100 * (cpu_seconds(proc.pid) - cpu0) /
                   (time.monotonic() - t0))
        consumer.close()
        qemu_stop(proc, q)
    return pct[1] - pct[0]


def median_of(runs):
    """Each figure's median over @runs (dicts of the same keys)."""
    out = {}
    for key in runs[0]:
        vals = [r[key] for r in runs if r[key] is not None]
        out[key] = statistics.median(vals) if vals else None
    return out


def memcpy_gbps():
    """The machine's copy bandwidth: 64 MiB copied a few times."""
    src = bytearray(64 << 20)
    dst = bytearray(64 << 20)
    best = 0
    for _ in range(5):
        t = time.perf_counter()
        dst[:] = src
        best = max(best, len(src) / (time.perf_counter() - t))
    return best / 1e9


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if abs(v) >= 1e6:
        return "%.2fM%s" % (v / 1e6, unit)
    if abs(v) >= 1e4:
        return "%.1fk%s" % (v / 1e3, unit)
    return "%.2f%s" % (v, unit) if abs(v) < 100 else "%.0f%s" % (v, unit)


def ratio(stock, ours):
    if stock is None or ours is None or ours <= 0:
        return "-"      # no ratio to a share measured as nothing
    return "%.1fx" % (stock / ours)


ROWS = (("cpu_ms", "QEMU CPU ms / frame"), ("cpu_pct", "QEMU CPU % of a core"),
        ("display_ms", "of which the display, ms / frame"),
        ("display_pct", "of which the display, % of a core"),
        ("bytes", "bytes sent / frame (static: / s)"),
        ("fps_client", "frames reaching the client / s"),
        ("lat_med", "latency median ms"), ("lat_p95", "latency p95 ms"),
        ("copied", "bytes copied / frame"),
        ("readback", "bytes read back / frame"), ("rss", "peak RSS MiB"))


def table(title, ours, stock):
    print("\n### %s\n" % title)
    print("| figure | ours | stock | stock/ours |")
    print("|---|---:|---:|---:|")
    for key, name in ROWS:
        o = ours.get(key) if ours else None
        s = stock.get(key) if stock else None
        if o is None and s is None:
            continue
        print("| %s | %s | %s | %s |" % (name, fmt(o), fmt(s),
                                        ratio(s, o) if stock else "-"))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours")
    ap.add_argument("stock")
    ap.add_argument("simlib")
    ap.add_argument("probe")
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each binary per workload (medians shown)")
    ap.add_argument("--quick", action="store_true",
                    help="1080p and 30 fps only")
    ap.add_argument("--workloads", default="static,small,full",
                    help="which of static, small, full")
    ap.add_argument("--clients", default="vnc,spice",
                    help="which of vnc, spice")
    ap.add_argument("--paths", default="region,dmabuf",
                    help="which of region (ours and stock), dmabuf (ours)")
    a = ap.parse_args()
    workloads = a.workloads.split(",")
    paths = a.paths.split(",")
    sizes = [(1920, 1080)] if a.quick else [(1024, 768), (1920, 1080)]
    rates = [30] if a.quick else [30, 60]
    print("# vfio display benchmark: ours %s, stock %s" % (a.ours, a.stock))
    print("# memcpy bandwidth of this machine: %.1f GB/s" % memcpy_gbps())
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        n = 0
        for client in a.clients.split(","):
            for size in (sizes if "region" in paths else []):
                for workload in workloads:
                    for fps in (rates if workload != "static" else [0]):
                        # alternate which binary goes first
                        order = ["ours", "stock"] if n % 2 == 0 else \
                            ["stock", "ours"]
                        n += 1
                        runs = {"ours": [], "stock": []}
                        for _ in range(a.repeat):
                            for who in order:
                                runs[who].append(measure(
                                    tmp, a.ours if who == "ours" else a.stock,
                                    who == "ours", a.simlib, a.probe, "mdpy",
                                    size, client, workload, fps, a.seconds))
                            order.reverse()
                        res = {who: median_of(r) for who, r in runs.items()}
                        # the same frames into a QEMU without the display:
                        # the simulator's drawing, the idle guest, the
                        # consumer's session; what is left is the display's
                        base = measure(tmp, a.ours, False, a.simlib, a.probe,
                                       "mdpy", size, client, workload, fps,
                                       a.seconds, vgpu_display="off")
                        for r in res.values():
                            r["display_ms"] = (
                                r["cpu_ms"] - base["cpu_ms"]
                                if r["cpu_ms"] is not None else None)
                            r["display_pct"] = r["cpu_pct"] - base["cpu_pct"]
                        title = ("region (mdpy) %dx%d, %s, %s%s" %
                                 (size[0], size[1], workload, client,
                                  ", %d fps" % fps if fps else ""))
                        table(title, res["ours"], res["stock"])
                        results.append((title, client, size, workload, fps,
                                        res["ours"], res["stock"]))
            displays = ["none"] + (["egl-headless"] if client == "vnc"
                                   else [])
            if "dmabuf" not in paths:
                continue
            for size in sizes + ([(3840, 2160)] if not a.quick else []):
                for display in displays:
                    for workload in workloads:
                        fps = 0 if workload == "static" else 30
                        res = measure(tmp, a.ours, True, a.simlib, a.probe,
                                      "gvt", size, client, workload, fps,
                                      a.seconds, display)
                        table("dma-buf (gvt) %dx%d, %s, %s%s%s, ours only "
                              "(stock: 'opengl not available')" %
                              (size[0], size[1], workload, client,
                               " + egl-headless" if display != "none"
                               else " (read back)",
                               ", %d fps" % fps if fps else ""), res, None)
    floors = {}
    if "static" in workloads:
        with tempfile.TemporaryDirectory() as tmp:
            for client in a.clients.split(","):
                floors[client] = statistics.median(
                    console_floor(tmp, a.stock, a.probe, client, a.seconds)
                    for _ in range(a.repeat))
    targets(results, floors)
    return 0


def targets(results, floors):
    print("\n### Targets\n")
    worse = []
    for title, client, size, workload, fps, o, s in results:
        for key in ("display_ms", "display_pct", "bytes", "lat_med"):
            if o.get(key) is not None and s.get(key) is not None and \
                    o[key] > s[key] * 1.1 + (0.3 if key.startswith("display")
                                             else 0):
                worse.append("%s: %s ours %s, stock %s" %
                             (title, key, fmt(o[key]), fmt(s[key])))
    print("- ours never worse than stock (10 %% margin): %s" %
          ("holds" if not worse else "does NOT hold:\n  - " +
           "\n  - ".join(worse)))
    for title, client, size, workload, fps, o, s in results:
        if client == "spice" and size == (1920, 1080) and \
                workload == "small":
            c = s["cpu_ms"] / o["cpu_ms"] if o["cpu_ms"] else 0
            d = s["display_ms"] / o["display_ms"] \
                if o["display_ms"] and o["display_ms"] > 0 else 0
            b = s["bytes"] / o["bytes"] if o["bytes"] else 0
            print("- SPICE 1080p 5 %% at %d fps: stock/ours QEMU CPU %.1fx "
                  "(the display's share %.1fx), bytes %.1fx (target 10x): %s"
                  % (fps, c, d, b, "holds" if c >= 10 and b >= 10 else
                     "does NOT hold"))
    for title, client, size, workload, fps, o, s in results:
        if workload == "static":
            cost = o["display_pct"]
            print("- static, %s %dx%d: ours %.2f %% of a core, the display's "
                  "share %.2f %% (stock %.2f %%; target < 0.5 %%): %s" %
                  (client, size[0], size[1], o["cpu_pct"], cost,
                   s["display_pct"],
                   "holds" if cost < 0.5 else "does NOT hold"))
    for client, floor in floors.items():
        print("  - the floor under it, %s: the console's refresh with "
              "nothing new to show costs %.2f %% of a core whatever the "
              "device (stock QEMU, bochs-display against no display)" %
              (client, floor))
    for title, client, size, workload, fps, o, s in results:
        if fps and o["lat_med"] is not None:
            limit = REFRESH_MS
            print("- latency %s: median %.1f ms, p95 %.1f ms (target <= %.0f "
                  "ms, one display refresh): %s" %
                  (title, o["lat_med"], o["lat_p95"], limit,
                   "holds" if o["lat_p95"] <= limit else "does NOT hold"))


if __name__ == "__main__":
    sys.exit(main())
