#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Overlay step: pristine Debian tree + our files at QEMU paths + patches/series
# -> the source tree that is built.  The result is assembled in a staging
# copy and synced by content, so only files whose content changed get a new
# timestamp and a second `make` rebuilds only what changed.
#
# usage: overlay.sh PRISTINE SRC
set -euo pipefail

# VFIO_DISPLAY_TOP: the tree holding the overlay (tests use a modified copy)
top=${VFIO_DISPLAY_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
pristine=$1
src=$2
stage=$src.stage

. "$(dirname "$0")/overlay-paths.sh"

log() { echo "overlay: $*" >&2; }

mkdir -p "$stage" "$src"
# 1. staging = pristine (quick check by size+mtime: cheap after the first run)
rsync -a --delete "$pristine/" "$stage/"
chmod -R u+w "$stage"

# 2. our files replace or add their paths
n=0
while IFS= read -r rel; do
    mkdir -p "$stage/$(dirname "$rel")"
    cp "$top/$rel" "$stage/$rel"
    n=$((n + 1))
done < <(overlay_files "$top")
log "$n files laid over"

# 3. patches/series, quilt style, in order; any failure stops the build
if [ -f "$top/patches/series" ]; then
    while read -r p _; do
        case "$p" in ''|'#'*) continue ;; esac
        if ! patch -d "$stage" -p1 --forward --batch --no-backup-if-mismatch \
                   -s -i "$top/patches/$p" >&2; then
            log "FAILED to apply patches/$p"
            exit 1
        fi
        log "applied $p"
    done < "$top/patches/series"
fi

# 4. sync by content into the tree that is built
rsync -rlc --delete "$stage/" "$src/"
log "source tree ready: $src"
