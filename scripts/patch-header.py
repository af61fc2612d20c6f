#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The header of a patch of patches/ (git format-patch's, or the older
# "From: / Subject: / message / ---" one): writes OUT, its commit message
# (subject, blank line, body), and OUT.env, its author and date for git.
#
# usage: patch-header.py PATCH OUT

import email.utils
import re
import shlex
import sys

AUTHOR = "vfio-display project", "vfio-display@invalid"

patch, out = sys.argv[1:3]
lines = open(patch).read().split("\n")
name, addr, date, subject, body = AUTHOR[0], AUTHOR[1], None, None, []
i = 0
while i < len(lines) and lines[i].strip():
    line = lines[i]
    i += 1
    if line.startswith("From: "):
        n, a = email.utils.parseaddr(line[6:])
        name, addr = (n or line[6:].strip()), (a if "@" in a else AUTHOR[1])
    elif line.startswith("Date: "):
        date = line[6:].strip()
    elif line.startswith("Subject: "):
        subject = line[9:]
        while i < len(lines) and lines[i].startswith(" "):
            subject += lines[i]
            i += 1
        subject = re.sub(r"^\[PATCH[^]]*\]\s*", "", subject.strip())
while i < len(lines) and lines[i] != "---":
    body.append(lines[i])
    i += 1
if not subject:
    sys.exit("%s: no Subject: line" % patch)
with open(out, "w") as f:
    f.write(subject + "\n\n" + "\n".join(body).strip() + "\n")
with open(out + ".env", "w") as f:
    f.write("GIT_AUTHOR_NAME=%s\nGIT_AUTHOR_EMAIL=%s\nGIT_AUTHOR_DATE=%s\n" %
            (shlex.quote(name), shlex.quote(addr),
             shlex.quote(date or email.utils.formatdate(usegmt=True))))
