# SPDX-License-Identifier: GPL-2.0-or-later
#
# Drives spice-probe (spice-probe.c), our spice-client-glib client: the
# gl=on scanouts it receives (dma-buf fds, whose pixels it maps) and the
# cursor channel's events.

import os
import select
import subprocess
import time


class SpiceProbe:
    """spice-probe connected to @uri (and watching pixel @probe_xy, "X,Y",
    of the 2D surface); events are read as lines."""

    def __init__(self, probe, uri, probe_xy=None):
        args = [probe, uri] + ([probe_xy] if probe_xy else [])
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True,
                                     bufsize=1)
        self.seen = []
        self.pending = []
        self.buf = b""

    def line(self, timeout):
        """The next line, read from the pipe itself: a buffered reader
        would hold lines that select() then no longer sees."""
        end = time.time() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
            if not r:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.decode().strip()
        self.seen.append(line)
        return line

    def wait(self, prefix, timeout=10):
        """The first event line not yet waited for that starts with
        @prefix (lines before it are passed over), or None."""
        end = time.time() + timeout
        while True:
            for i, line in enumerate(self.pending):
                if line.startswith(prefix):
                    del self.pending[:i + 1]
                    return line
            if time.time() >= end:
                return None
            line = self.line(end - time.time())
            if line is None:
                return None
            self.pending.append(line)

    def drain(self, quiet=0.3):
        """The events until none comes for @quiet seconds."""
        lines = []
        while True:
            line = self.line(quiet)
            if line is None:
                self.pending.clear()
                return lines
            lines.append(line)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
