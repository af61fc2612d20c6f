#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# scripts/build.sh with its output in LOG; on failure the log's tail and
# the exit status 1.  For the entry points that are not the build itself.
#
# usage: build-logged.sh LOG
top=$(cd "$(dirname "$0")/.." && pwd)
log=${1:?usage: build-logged.sh LOG}

mkdir -p "$(dirname "$log")"
set -o pipefail
if ! "$top/scripts/build.sh" 2>&1 |
    /usr/bin/python3 "$top/scripts/progress.py" "$log"; then
    tail -30 "$log"
    echo "build FAILED (log: $log)"
    exit 1
fi
