#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What a user at a vGPU desktop feels, our QEMU against Debian's stock
# QEMU 10.0: a real guest animating at its own rate, how many of its
# frames reach a VNC client, and how long a pointer move takes from the
# client to the pixels that answer it.
#
# The guest is the demo's desktop (scripts/demo.sh --anim HZ --mode WxH):
# Debian's weston on bochs-drm on the simulated mbochs (the dma-buf path,
# read back), or Debian's Xorg on mdpy-fb on the simulated mdpy (the
# region path), running tests/guest/desktop/anim.c fullscreen.  Each
# frame it draws carries its number in a marker colour, and it answers
# each input event at once with a second marker.  The client is
# tests/bench/vncfeel.c (C, raw encoding): it reports each marker change
# as it arrives and its own CPU time.
#
# Per guest mode, rate and QEMU/path:
#   guest frames/s    frames the guest drew (and its compositor showed)
#                     over the window: the last frame number seen minus
#                     the first;
#   delivered         distinct frame numbers the client received, and
#                     their share of the guest's;
#   input to photon   from a PointerEvent leaving the client to the first
#                     update whose input marker answers it: p50, p95, p99
#                     over --events moves (each sent 20-80 ms after the
#                     last one's answer), and how many went unanswered
#                     within a second;
#   QEMU CPU          % of a core over the frames window (/proc);
#   client CPU        the client's own per update received, to show it is
#                     not the limit.
# Stock QEMU is run on mdpy only: on mbochs it shows nothing on VNC (its
# dma-buf path needs OpenGL on a render node).  The guest runs under TCG
# unless KVM answers (--kvm tries it).
#
# VMs per host (--vms 1,2,4,8): that many mdpy guests at once, ours and
# stock, each with a VNC client reading it, still (the desktop's terminal
# and clock) and animating at 30 Hz: each QEMU's CPU and RSS, and the
# frames reaching each client, averaged per VM.
#
# usage: feel.py BUILD STOCK [--seconds S] [--events N] [--rates 30,60]
#                [--modes 1024x768,1920x1080] [--vms 1,2,4,8]
#                [--only feel|host] [--quick] [--kvm]

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "guest"))
from demorun import Demo  # noqa: E402

BOOT_TIMEOUT = 300


def color(n):
    """Frame @n's marker colour, as anim.c draws it."""
    return (n * 2654435761 + 0x10101) & 0xffffff or 1


class Markers:
    """Frame numbers from marker colours (the first @count frames)."""

    def __init__(self, count):
        self.number = {}
        for n in range(count, 0, -1):
            self.number[color(n)] = n

    def __call__(self, rgb):
        return self.number.get(rgb)


def cpu_seconds(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def parse(out):
    """vncfeel's output @out: (updates [(ns, frame, input)], events [ns],
    end {key: value})."""
    ups, evs, end = [], [], {}
    for line in out.splitlines():
        w = line.split()
        if not w:
            continue
        if w[0] == "u":
            ups.append((int(w[1]), int(w[2], 16), int(w[3], 16)))
        elif w[0] == "e":
            evs.append(int(w[1]))
        elif w[0] == "end":
            end = {w[i]: float(w[i + 1]) for i in range(1, len(w) - 1, 2)}
    return ups, evs, end


def client(vncfeel, port, seconds, events=0):
    """vncfeel's lines: (updates [(ns, frame, input)], events [ns],
    end {key: value})."""
    cmd = [vncfeel, str(port), str(seconds)]
    if events:
        cmd += ["--events", str(events)]
    r = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=seconds + events * 1.2 + 60)
    ups, evs, end = parse(r.stdout)
    if r.returncode or not end:
        raise RuntimeError("vncfeel failed: %s" % r.stderr.strip())
    return ups, evs, end


def frames(ups, markers):
    """(guest frames, frames received, seconds) of the updates @ups."""
    nums = [markers(f) for _, f, _ in ups]
    nums = [n for n in nums if n]
    if len(nums) < 2:
        return 0, len(set(nums)), 0
    seconds = (ups[-1][0] - ups[0][0]) / 1e9
    return nums[-1] - nums[0] + 1, len(set(nums)), seconds


def latencies(ups, evs):
    """ms from each event to the first update answering it (None: not
    within a second)."""
    out = []
    for t in evs:
        before = [u for u in ups if u[0] <= t]
        base = before[-1][2] if before else None
        answer = next((u for u in ups if u[0] > t and u[2] != base), None)
        ok = answer and answer[0] - t < 1e9
        out.append((answer[0] - t) / 1e6 if ok else None)
    return out


def pct(sorted_ms, p):
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p))]


def start(args, qemu, model, work, display, rate, mode="1024x768"):
    """The demo's desktop guest on @qemu, (name, binary), and @model, its
    files in @work, VNC on @display: animating at @rate (0: its terminal,
    still), in @mode."""
    a = ["--mode", mode, "--workdir", work, "--vnc", "127.0.0.1:%d" % display]
    if rate:
        a += ["--anim", str(rate)]
    if model == "mdpy":
        a.append("--mdpy")
    if qemu[0] == "stock":
        a += ["--qemu", qemu[1]]
    if args.kvm:
        a.append("--kvm")
    return Demo(a)


def run(args, qemu, model, rate, mode, display):
    """One guest: its figures, or None with the reason."""
    work = os.path.join(args.tmp, "%s-%s-%d-%s" % (qemu[0], model, rate,
                                                   mode))
    t0 = time.time()
    demo = start(args, qemu, model, work, display, rate, mode)
    try:
        if not demo.wait("demo: ready", BOOT_TIMEOUT):
            return None, "the guest did not come up: " + \
                demo.text()[-300:].replace("\n", " / ")
        boot = time.time() - t0
        time.sleep(3)
        pid = int(open(os.path.join(work, "qemu.pid")).read())
        c0, w0 = cpu_seconds(pid), time.time()
        ups, _, end = client(args.vncfeel, 5900 + display, args.seconds)
        qemu_cpu = (cpu_seconds(pid) - c0) / (time.time() - w0) * 100
        drawn, got, secs = frames(ups, args.markers)
        ups2, evs, _ = client(args.vncfeel, 5900 + display, 1, args.events)
        lat = latencies(ups2, evs)
        good = sorted(x for x in lat if x is not None)
        return dict(
            boot=boot, drawn=drawn / secs if secs else 0,
            got=got / secs if secs else 0,
            share=got / drawn * 100 if drawn else 0,
            p50=pct(good, 0.5) if good else None,
            p95=pct(good, 0.95) if good else None,
            p99=pct(good, 0.99) if good else None,
            lost=len(lat) - len(good), events=len(lat),
            qemu_cpu=qemu_cpu,
            client_ms=end["cpu-ns"] / 1e6 / max(1, end["updates"]),
            client_cpu=end["cpu-ns"] / 1e9 / end["seconds"] * 100,
            mib_s=end["bytes"] / end["seconds"] / 2 ** 20), None
    finally:
        demo.stop()


def rss_mib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0


def host(args, qemu, n, rate, display):
    """@n guests at once on @qemu, mdpy (Xorg, the region path), each with
    a VNC client reading it: still (the desktop's terminal) or animating
    at @rate.  Per VM: QEMU's CPU % of a core and RSS over the
    window, frames reaching its client a second; or None with why."""
    demos, works = [], []
    try:
        for i in range(n):
            work = os.path.join(args.tmp, "host-%s-%d-%d-%d" % (
                qemu[0], n, rate, i))
            demos.append(start(args, qemu, "mdpy", work, display + i, rate))
            works.append(work)
        for d in demos:
            if not d.wait("demo: ready", BOOT_TIMEOUT + 60 * n):
                return None, "a guest did not come up: " + \
                    d.text()[-300:].replace("\n", " / ")
        time.sleep(5)
        pids = [int(open(os.path.join(w, "qemu.pid")).read()) for w in works]
        clients = [subprocess.Popen(
            [args.vncfeel, str(5900 + display + i), str(args.seconds)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(n)]
        c0, w0 = [cpu_seconds(p) for p in pids], time.time()
        got = []
        for c in clients:
            ups = parse(c.communicate(timeout=args.seconds + 60)[0])[0]
            f = frames(ups, args.markers) if rate else None
            got.append(f[1] / f[2] if f and f[2] else 0)
        wall = time.time() - w0
        cpu = [(cpu_seconds(p) - c) / wall * 100 for p, c in zip(pids, c0)]
        rss = [rss_mib(p) for p in pids]
        return dict(cpu=sum(cpu) / n, cpu_max=max(cpu), rss=sum(rss) / n,
                    got=sum(got) / n if rate else None), None
    finally:
        for d in demos:
            d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("stock")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--rates", default="30,60")
    ap.add_argument("--modes", default="1024x768,1920x1080")
    ap.add_argument("--quick", action="store_true",
                    help="short runs: 1024x768 at 60 Hz, ours on mbochs "
                    "and mdpy, 3 s, 20 events; 2 VMs of ours at once")
    ap.add_argument("--kvm", action="store_true")
    ap.add_argument("--vms", default="1,2,4,8",
                    help="VMs per host: how many guests at once (mdpy, "
                    "ours and stock, still and animating at 30 Hz); "
                    "'' leaves it out")
    ap.add_argument("--only", choices=("feel", "host"),
                    help="one part only")
    ap.add_argument("--tap", action="store_true",
                    help="also TAP lines: that each run measured something "
                    "(make check's short form; nothing about times)")
    args = ap.parse_args()
    args.vncfeel = os.path.join(args.build, "bench", "vncfeel")
    if not os.path.exists(args.vncfeel):
        sys.exit("feel: %s is not built" % args.vncfeel)
    rates = [int(r) for r in args.rates.split(",")]
    modes = args.modes.split(",")
    ours = ("ours", os.path.join(args.build, "qemu", "qemu-system-x86_64"))
    stock = ("stock", args.stock)
    configs = [(ours, "mbochs"), (ours, "mdpy"), (stock, "mdpy")]
    if args.quick:
        rates, modes = [60], ["1024x768"]
        configs = [(ours, "mbochs"), (ours, "mdpy")]
        args.seconds, args.events = 3, 20
    vms = [int(v) for v in args.vms.split(",") if v]
    host_rates, host_qemus = (0, 30), (ours, stock)
    if args.quick:
        vms = [2] if args.vms else []
        host_rates, host_qemus = (30,), (ours,)
    if args.only == "host":
        modes = []
    elif args.only == "feel":
        vms = []
    args.markers = Markers(int(max(rates) * 3600))
    rows = []
    hosts = []
    with tempfile.TemporaryDirectory() as tmp:
        args.tmp = tmp
        display = 60
        for n in vms:
            for rate in host_rates:
                for qemu in host_qemus:
                    what = "%d VMs, %s, %s" % (
                        n, "animating at %d Hz" % rate if rate else "still",
                        qemu[0])
                    print("feel: %s ..." % what, flush=True)
                    r, why = host(args, qemu, n, rate, 20)
                    if r:
                        print("feel:   per VM: QEMU %.1f %% of a core (the "
                              "busiest %.1f), RSS %.0f MiB%s" % (
                                  r["cpu"], r["cpu_max"], r["rss"],
                                  ", %.1f frames/s reach its client"
                                  % r["got"] if rate else ""), flush=True)
                    else:
                        print("feel:   %s" % why, flush=True)
                    hosts.append((n, rate, qemu[0], r, why))
        for mode in modes:
            for rate in rates:
                for qemu, model in configs:
                    name = "%s, %s at %d Hz, %s %s" % (
                        mode, "weston" if model == "mbochs" else "Xorg",
                        rate, qemu[0], model)
                    print("feel: %s ..." % name, flush=True)
                    r, why = run(args, qemu, model, rate, mode, display)
                    display += 1
                    if r:
                        print("feel:   booted in %.0f s; guest %.1f frames/s, "
                              "%.1f reach the client (%.0f %%); input to "
                              "photon p50 %s ms p95 %s ms p99 %s ms, %d of "
                              "%d unanswered; QEMU %.0f %% of a core; "
                              "client %.2f ms a frame (%.1f %% of a core, "
                              "%.0f MiB/s)" % (
                                  r["boot"], r["drawn"], r["got"],
                                  r["share"], fmt(r["p50"]), fmt(r["p95"]),
                                  fmt(r["p99"]), r["lost"], r["events"],
                                  r["qemu_cpu"], r["client_ms"],
                                  r["client_cpu"], r["mib_s"]), flush=True)
                    else:
                        print("feel:   %s" % why, flush=True)
                    rows.append((mode, rate, qemu[0], model, r, why))
                if not args.quick:
                    rows.append((mode, rate, "stock", "mbochs", None,
                                 "refused: stock shows a dma-buf vGPU on "
                                 "VNC only with OpenGL on a render node"))
    if rows:
        table(rows)
    if hosts:
        host_table(hosts)
    if args.tap:
        return tap(rows, hosts)
    return 0


def host_table(hosts):
    print()
    print("| VMs | screen | QEMU | CPU % of a core per VM (busiest) "
          "| RSS MiB per VM | frames/s reaching each client |")
    print("|---:|---|---|---:|---:|---:|")
    for n, rate, q, r, why in hosts:
        screen = "animating %d Hz" % rate if rate else "still"
        if not r:
            print("| %d | %s | %s | %s | | |" % (n, screen, q, why))
            continue
        print("| %d | %s | %s | %.1f (%.1f) | %.0f | %s |" % (
            n, screen, q, r["cpu"], r["cpu_max"], r["rss"],
            fmt(r["got"], 1)))


def tap(rows, hosts):
    """That each run worked: frames reached the client, moves were
    answered, the client's cost was read, several VMs ran at once.  Not
    how fast."""
    n = bad = 0
    for vms, rate, q, r, why in hosts:
        n += 1
        cond = r and r["cpu"] > 0 and r["rss"] > 0 and \
            (not rate or r["got"] > 0)
        bad += not cond
        print("%sok %d - feel: %d VMs at once, %s, %s: each measured" % (
            "" if cond else "not ", n, vms,
            "animating" if rate else "still", q))
        if not cond:
            print("# %s" % (why or r))
    for mode, rate, q, model, r, why in rows:
        if not r and why.startswith("refused"):
            continue
        name = "%s %s, %s at %d Hz" % (q, model, mode, rate)
        for cond, what in (
                (r and r["drawn"] > 0 and r["got"] > 0,
                 "the guest's frames reach the client"),
                (r and r["p50"] is not None and r["lost"] < r["events"],
                 "pointer moves are answered on the client"),
                (r and r["client_ms"] > 0, "the client's own cost is read")):
            n += 1
            bad += not cond
            print("%sok %d - feel: %s: %s" % ("" if cond else "not ", n,
                                              name, what))
            if not cond:
                print("# %s" % (why or r))
    print("1..%d" % n)
    return 1 if bad else 0


def fmt(v, digits=0):
    return "-" if v is None else "%.*f" % (digits, v)


def table(rows):
    print()
    print("| guest | QEMU, vGPU | guest frames/s | reach the client/s (%) "
          "| input to photon ms p50 / p95 / p99 (lost) | QEMU CPU % "
          "| client ms/frame |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for mode, rate, q, model, r, why in rows:
        guest = "%s %s %d Hz" % ("weston" if model == "mbochs" else "Xorg",
                                 mode, rate)
        if not r:
            print("| %s | %s %s | %s | | | | |" % (guest, q, model, why))
            continue
        print("| %s | %s %s | %.1f | %.1f (%.0f) | %s / %s / %s (%d) "
              "| %.0f | %.2f |" % (
                  guest, q, model, r["drawn"], r["got"], r["share"],
                  fmt(r["p50"]), fmt(r["p95"]), fmt(r["p99"]), r["lost"],
                  r["qemu_cpu"], r["client_ms"]))


if __name__ == "__main__":
    sys.exit(main())
