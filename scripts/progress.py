#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A long step's output, read from stdin into LOG, shown as progress: each
# stage line (deps, configure, overlay, guests) as it comes, and ninja's
# [n/N] at most every SECONDS, each with the time since the start.
#
# usage: COMMAND 2>&1 | progress.py LOG [SECONDS] [PREFIX]

import re
import sys
import time

log = open(sys.argv[1], "w")
every = float(sys.argv[2]) if len(sys.argv) > 2 else 15
prefix = sys.argv[3] if len(sys.argv) > 3 else "build"
start = last = time.time()
stage = re.compile(r"^(deps|build|configure|overlay: source|fetch|mkguest: "
                   r"built|mksamples: built|ninja: no work)")
ninja = re.compile(r"^\[(\d+)/(\d+)\]")

for line in sys.stdin:
    log.write(line)
    log.flush()
    now = time.time()
    m = ninja.match(line)
    if m and now - last >= every:
        print("%s: [%s/%s] %ds" % (prefix, m.group(1), m.group(2),
                                   now - start), flush=True)
        last = now
    elif not m and stage.match(line):
        print("%s: %s (%ds)" % (prefix, line.strip()[:100], now - start),
              flush=True)
        last = now
print("%s: done in %ds" % (prefix, time.time() - start), flush=True)
