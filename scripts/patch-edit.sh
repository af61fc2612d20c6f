#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Edit one patch of patches/series against the tree it applies to.
#
#   patch-edit.sh open PATCH [FILE...]
#       WORK/a: the files PATCH touches (and FILE..., to add to it) as the
#       patches before it leave them; WORK/b: the same with PATCH applied.
#       Edit the files under WORK/b.
#   patch-edit.sh refresh PATCH
#       rewrite patches/PATCH as git format-patch writes it, from its
#       author, date and message and the change from a to b.
#
# WORK is build/patch-edit/PATCH.  Only upstream files: ours are laid over
# the tree whole and never patched.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}
cmd=${1:?usage: patch-edit.sh open|refresh PATCH [FILE...]}
name=${2:?usage: patch-edit.sh open|refresh PATCH [FILE...]}
shift 2
name=$(basename "$name")
patch=$top/patches/$name
work=$out/patch-edit/$name
[ -f "$patch" ] || { echo "no patches/$name" >&2; exit 1; }

# the files a patch touches, from its +++ lines
patch_files() {
    sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$1"
}

case "$cmd" in
open)
    pristine=$(cat "$out/pristine-path" 2>/dev/null ||
               ls -d /var/cache/vfio-display/qemu-*/qemu-10.0.* | tail -1)
    rm -rf "$work"
    mkdir -p "$work/a" "$work/b"
    { patch_files "$patch"; printf "%s\n" "$@"; } | grep . | awk '!seen[$0]++' > "$work/files"
    while IFS= read -r f; do
        mkdir -p "$work/a/$(dirname "$f")"
        if [ -f "$pristine/$f" ]; then
            cp "$pristine/$f" "$work/a/$f"
        else
            : > "$work/a/$f"
        fi
    done < "$work/files"
    # the patches before this one, where they touch the same files
    while read -r p _; do
        case "$p" in ''|'#'*) continue ;; esac
        [ "$p" = "$name" ] && break
        if patch_files "$top/patches/$p" | grep -xF -f "$work/files" > /dev/null; then
            # hunks for files not opened here are skipped
            patch -d "$work/a" -p1 --forward --batch -s -r - \
                  --no-backup-if-mismatch < "$top/patches/$p" \
                  > /dev/null 2>&1 || true
        fi
    done < "$top/patches/series"
    cp -a "$work/a/." "$work/b/"
    if grep -q '^@@' "$patch"; then     # a new patch has no hunks yet
        patch -d "$work/b" -p1 --forward --batch -s --no-backup-if-mismatch \
              < "$patch"
    fi
    echo "$work/b"
    ;;
refresh)
    # as git format-patch writes it: the patch's author, date, subject and
    # message, its diffstat and git diffs of a -> b
    [ -d "$work/b" ] || { echo "run: patch-edit.sh open $name" >&2; exit 1; }
    git=$(mktemp -d)
    trap 'rm -rf "$git"' EXIT
    /usr/bin/python3 "$top/scripts/patch-header.py" "$patch" "$git/header"
    . "$git/header.env"
    cp -a "$work/a" "$git/tree"
    export GIT_DIR=$git/tree/.git GIT_WORK_TREE=$git/tree \
        GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_AUTHOR_DATE \
        GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME \
        GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL \
        GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
    git init -q
    git add -A
    git commit -q --no-verify -m base
    rm -rf "${git:?}/tree/"*
    cp -a "$work/b/." "$git/tree/"
    # hash every file again: a and b may agree in size and mtime
    git rm -r -q --cached .
    git add -A
    git commit -q --no-verify -F "$git/header"
    git format-patch -1 --stdout --no-signature --subject-prefix=PATCH \
        HEAD > "$git/out"
    mv "$git/out" "$patch"
    echo "patches/$name: $(grep -c '^+++ ' "$patch") files"
    ;;
*)
    echo "usage: patch-edit.sh open|refresh PATCH [FILE...]" >&2
    exit 1
    ;;
esac
