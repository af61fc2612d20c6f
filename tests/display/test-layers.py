#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The display core's layers, read from its source (universal-ctags for
# where each function starts and ends): hw/vfio/display*.c call only
# downwards, from display.c at the top through the frame sources and the
# surface layer to the vendor layer and the pure helpers; no two files
# call each other, directly or round a circle; only the surface layer and
# display.c talk to the console; functions are short.
#
# What the code does not meet yet is listed below (KNOWN_*), so that it
# can only shrink: a new case fails, and so does a listed one that is
# gone (take it off the list).  TAP output.
#
# usage: test-layers.py TOP

import os
import re
import statistics
import subprocess
import sys

TOP = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
sys.path.insert(0, os.path.join(TOP, "tests", "vfio-sim"))
from simtap import Tap  # noqa: E402

VFIO = os.path.join(TOP, "hw", "vfio")
HEADER = os.path.join(VFIO, "vfio-display.h")
# the layers, top first: a file may call only files of lower layers, or
# of its own layer one way
LAYERS = {
    "display.c": 5,                     # probe, refresh, reset, vmstate
    "display-dmabuf.c": 4,              # frame sources
    "display-readback.c": 4,
    "display-region.c": 4,
    "display-edid.c": 4,                # the EDID region
    "display-damage.c": 3,              # the surface layer: the shadow,
    "display-surface.c": 2,             # and what the console is shown
    "display-vendor.c": 1,              # the vendor layer,
    "display-call.c": 0,                # its thread, at the bottom
    "display-plane.c": 0,               # pure helpers
    "display-convert.c": 0,
}
# who may call the console's API (ui/console.h, ramfb's display update)
CONSOLE_FILES = {"display.c", "display-damage.c", "display-surface.c"}
CONSOLE_API = re.compile(r"\b(dpy_\w+|qemu_console_\w+|graphic_console_\w+|"
                         r"ramfb_display_update|qemu_create_displaysurface"
                         r"\w*|qemu_free_displaysurface)\s*\(")
# not met yet: console calls outside the surface layer (file: names)
KNOWN_CONSOLE = {}
MEDIAN_MAX, LENGTH_MAX = 15, 50
# not met yet: functions over LENGTH_MAX lines, at most this long
KNOWN_LONG = {}

tap = Tap()
ok = tap.ok


def functions():
    """{name: (file, first line, last line)} of every function."""
    files = sorted(f for f in os.listdir(VFIO)
                   if re.match(r"display.*\.c$", f))
    out = subprocess.run(["ctags", "-x", "--c-kinds=fv",
                          "--_xformat=%N %K %F %n %e"] +
                         [os.path.join(VFIO, f) for f in files],
                         capture_output=True, text=True, check=True).stdout
    defs = {}
    for line in out.splitlines():
        name, kind, path, first, last = line.split()
        if last == "-":
            last = first
        defs.setdefault(name, []).append((os.path.basename(path), kind,
                                          int(first), int(last)))
    return files, defs


def exported():
    """The names the header declares: what one file may take from
    another."""
    text = open(HEADER).read()
    return set(re.findall(r"\b(vfio_display_\w+)\s*[(\[;]", text))


def main():
    files, defs = functions()
    names = exported()
    owner = {n: d[0][0] for n, d in defs.items() if n in names}
    ok(set(files) == set(LAYERS),
       "every display file has its layer (%d files)" % len(files),
       "unplaced %s, gone %s" % (sorted(set(files) - set(LAYERS)),
                                 sorted(set(LAYERS) - set(files))))

    edges, console, lengths = {}, {}, {}
    for name, ds in defs.items():
        for f, kind, first, last in ds:
            if kind != "function":
                continue
            lengths[name] = last - first + 1
            src = open(os.path.join(VFIO, f)).read().splitlines()
            body = "\n".join(src[first - 1:last])
            for tok in set(re.findall(r"\bvfio_display_\w+\b", body)):
                if tok in owner and owner[tok] != f:
                    edges.setdefault((f, owner[tok]), set()).add(tok)
            for tok in CONSOLE_API.findall(body):
                console.setdefault(f, set()).add(tok)

    up = {e: n for e, n in edges.items()
          if LAYERS.get(e[0], 0) < LAYERS.get(e[1], 0)}
    ok(not up, "no file calls a file of a higher layer (%d calls between "
       "files)" % len(edges),
       "\n".join("%s -> %s: %s" % (a, b, sorted(n))
                 for (a, b), n in sorted(up.items())))
    mutual = {(a, b) for (a, b) in edges if (b, a) in edges}
    circle = find_circle({a for a, b in edges} | {b for a, b in edges},
                         edges)
    ok(not mutual and not circle, "no two files call each other, no circle",
       "mutual %s, circle %s" % (sorted(mutual), circle))

    extra = {f: n - KNOWN_CONSOLE.get(f, set())
             for f, n in console.items() if f not in CONSOLE_FILES}
    stale = {f: n - console.get(f, set()) for f, n in KNOWN_CONSOLE.items()}
    ok(not any(extra.values()),
       "only the surface layer and display.c call the console's API "
       "(known elsewhere: %d names)" % sum(map(len, KNOWN_CONSOLE.values())),
       "new console calls: %s" % {f: sorted(n) for f, n in extra.items()
                                  if n})
    ok(not any(stale.values()), "the known console calls outside the "
       "surface layer are all still there (else off the list)",
       "gone, take off KNOWN_CONSOLE: %s" %
       {f: sorted(n) for f, n in stale.items() if n})

    replace = {f: len(re.findall(r"\bdpy_gfx_replace_surface\s*\(",
                                 open(os.path.join(VFIO, f)).read()))
               for f in files}
    ok(sum(replace.values()) == 1 and replace.get("display-surface.c") == 1,
       "one helper of the surface layer changes the console's surface "
       "(dpy_gfx_replace_surface once)", replace)

    med = statistics.median(lengths.values())
    ok(med <= MEDIAN_MAX, "median function length %.1f lines (at most %d, "
       "%d functions)" % (med, MEDIAN_MAX, len(lengths)))
    long = {n: v for n, v in lengths.items() if v > LENGTH_MAX}
    bad = {n: v for n, v in long.items() if v > KNOWN_LONG.get(n, LENGTH_MAX)}
    ok(not bad, "no function over %d lines but the known ones, none longer "
       "than it was (longest: %s)" % (LENGTH_MAX, max(lengths.values())),
       "too long: %s" % bad)
    gone = set(KNOWN_LONG) - set(long)
    ok(not gone, "the known long functions are all still long (else off "
       "the list)", "take off KNOWN_LONG: %s" % sorted(gone))
    text = open(HEADER).read()
    declared = re.findall(r"^[a-z][^;(]*?\b(vfio_display_\w+)\(", text, re.M)
    undoc = [n for n in declared
             if not re.search(r"/\*\*\n \* %s: " % n, text)]
    ok(declared and not undoc, "every function vfio-display.h declares has "
       "a kernel-doc comment (%d functions)" % len(declared),
       "none: %s" % undoc)
    for (a, b), n in sorted(edges.items(), key=lambda e: (
            -LAYERS[e[0][0]], e[0])):
        print("# %s -> %s: %d names" % (a, b, len(n)))
    return tap.done()


def find_circle(nodes, edges):
    """One circle of the file graph, or None."""
    succ = {}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
    state = {}

    def visit(n, path):
        state[n] = 1
        for m in sorted(succ.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if not state.get(m):
                c = visit(m, path + [m])
                if c:
                    return c
        state[n] = 2
        return None
    for n in sorted(nodes):
        if not state.get(n):
            c = visit(n, [n])
            if c:
                return c
    return None


sys.exit(main())
