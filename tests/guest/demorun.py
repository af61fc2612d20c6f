# SPDX-License-Identifier: GPL-2.0-or-later
#
# scripts/demo.sh --no-build as the demo's tests run it (test-demo.py,
# test-desktop.py): its output read line by line, stopped as Ctrl-C would.

import os
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
DEMO = os.path.join(TOP, "scripts", "demo.sh")
BOOT_TIMEOUT = 180


class Demo:
    """scripts/demo.sh --no-build ARGS, its output read line by line."""

    def __init__(self, args, env=None):
        self.proc = subprocess.Popen(
            [DEMO, "--no-build", "--seconds", "600"] + args,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, **(env or {})), start_new_session=True)
        self.out = []
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        for line in self.proc.stdout:
            self.out.append(line.rstrip("\n"))

    def wait(self, prefix, timeout=BOOT_TIMEOUT):
        """The first output line starting with @prefix, or None."""
        end = time.time() + timeout
        while True:
            for line in list(self.out):
                if line.startswith(prefix):
                    return line
            if time.time() > end or not self.reader.is_alive():
                return None
            time.sleep(0.2)

    def text(self):
        return "\n".join(self.out)

    def stop(self):
        """SIGTERM, as Ctrl-C would; the demo's exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        self.reader.join(10)
        return self.proc.returncode
