#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Tests of the build machinery (TAP): the Debian version is recorded, the
# overlay and patches/series took effect in the built tree, the pristine
# tree stays untouched, and a rebuild after a change redoes only that change.
#
# usage: test-build.sh   (after scripts/build.sh)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VFIO_DISPLAY_BUILD:-$top/build}
src=$out/src
bld=$out/qemu
qemu=$bld/qemu-system-x86_64
pristine=$("$top/scripts/fetch-source.sh" 2>/dev/null)
. "$top/scripts/overlay-paths.sh"
n=0

tap() {      # tap NAME COMMAND...
    local name=$1
    shift
    n=$((n + 1))
    if "$@" > "$out/test-build.$n.log" 2>&1; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        sed 's/^/# /' "$out/test-build.$n.log" | tail -20
    fi
}

patches() {
    sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$top/patches/series" | cut -d' ' -f1
}

t_version_recorded() {
    v=$(cat "$out/debian-version")
    echo "recorded: $v"
    [[ $v =~ ^1:10\.0\.[0-9]+ ]] &&
    [ "$v" = "$(cat "$(dirname "$pristine")/version")" ] &&
    # grep reads all of it: an early exit would SIGPIPE tee (pipefail)
    "$qemu" --version | tee /dev/stderr |
        grep -F "(Debian $v, vfio-display overlay)" > /dev/null
}

t_overlay_in_tree() {
    local f bad=0
    while read -r f; do
        cmp "$top/$f" "$src/$f" || bad=1
    done < <(overlay_files "$top")
    return $bad
}

t_patches_applied() {
    local p bad=0
    for p in $(patches); do
        patch -d "$src" -p1 -R --dry-run -s -f -i "$top/patches/$p" ||
            { echo "not applied: $p"; bad=1; }
    done
    return $bad
}

t_pristine_untouched() {
    local p bad=0
    [ -z "$(find "$pristine" -perm -u+w -type f -print -quit)" ] ||
        { echo "pristine tree is writable"; bad=1; }
    for p in $(patches); do
        patch -d "$pristine" -p1 --dry-run -s -f -i "$top/patches/$p" >/dev/null ||
            { echo "pristine already carries $p"; bad=1; }
    done
    [ ! -e "$pristine/tests/qtest/vfio-display-test.c" ] || bad=1
    return $bad
}

t_excluded_not_in_tree() {
    [ ! -e "$src/tests/vfio-sim" ]
}

# What a real ninja run did: its Compiling / Linking lines.  (ninja -n
# cannot tell: meson regenerates qemu-version.h every time and restat then
# skips what depends on it when its content is unchanged.)
TARGETS="qemu-system-x86_64 tests/qtest/vfio-display-test"
ninja_work() {
    PATH=/usr/lib/ccache:$PATH ninja -C "$bld" $TARGETS |
        grep -E 'Compiling|Linking' || true
}

# A second overlay with nothing changed rewrites nothing and builds nothing.
t_noop_rebuild() {
    local mark=$out/.mark work
    ninja_work > /dev/null
    touch "$mark"
    sleep 1
    "$top/scripts/overlay.sh" "$pristine" "$src" || return 1
    newer=$(find "$src" -newer "$mark" -type f | wc -l)
    echo "files rewritten: $newer"
    [ "$newer" -eq 0 ] || return 1
    work=$(ninja_work)
    echo "ninja: $work"
    [ -z "$work" ]
}

# One changed overlay file: only it is rewritten, and ninja rebuilds the
# qtest alone (one compile, one link), not the emulator.
t_one_change_rebuild() {
    local copy mark=$out/.mark work ok=0
    copy=$(mktemp -d)
    for d in $OVERLAY_DIRS patches; do
        [ -d "$top/$d" ] && cp -a "$top/$d" "$copy/"
    done
    echo "/* changed by test-build.sh */" >> "$copy/tests/qtest/vfio-display-test.c"
    touch "$mark"
    sleep 1
    VFIO_DISPLAY_TOP=$copy "$top/scripts/overlay.sh" "$pristine" "$src" || ok=1
    find "$src" -newer "$mark" -type f | tee /dev/stderr > "$copy/newer"
    [ "$(cat "$copy/newer")" = "$src/tests/qtest/vfio-display-test.c" ] || ok=1
    for pass in changed restored; do
        work=$(ninja_work)
        echo "ninja ($pass): $work"
        [ "$(echo "$work" | grep -c Compiling)" -eq 1 ] || ok=1
        grep -q "Compiling.*vfio-display-test.c.o" <<< "$work" || ok=1
        [ "$(echo "$work" | grep -c Linking)" -eq 1 ] || ok=1
        grep -q "Linking target tests/qtest/vfio-display-test" <<< "$work" || ok=1
        # put the real file back for the second pass
        "$top/scripts/overlay.sh" "$pristine" "$src" || ok=1
    done
    cmp "$top/tests/qtest/vfio-display-test.c" "$src/tests/qtest/vfio-display-test.c" || ok=1
    rm -rf "$copy"
    return $ok
}

# A patch that no longer applies stops the overlay with the patch's name.
t_bad_patch_fails() {
    local copy log ok=0
    copy=$(mktemp -d)
    mkdir "$copy/patches"
    cat > "$copy/patches/bad.patch" <<'PATCH'
--- a/VERSION
+++ b/VERSION
@@ -1 +1 @@
-0.0.0
+0.0.1
PATCH
    echo bad.patch > "$copy/patches/series"
    log=$(VFIO_DISPLAY_TOP=$copy "$top/scripts/overlay.sh" "$pristine" "$copy/src" 2>&1) && ok=1
    echo "$log"
    grep -q "FAILED to apply patches/bad.patch" <<< "$log" || ok=1
    [ ! -e "$copy/src/VERSION" ] || ok=1
    rm -rf "$copy" "$copy/src.stage"
    return $ok
}

# A series that trixie does not offer fails with a clear message.
t_missing_series_fails() {
    local log
    log=$(QEMU_SERIES=9.9 "$top/scripts/fetch-source.sh" 2>&1) && return 1
    echo "$log"
    grep -q "no QEMU 9.9.x source package is offered" <<< "$log"
}

t_patches_format() {
    # each patch as git format-patch writes it, with a message, and
    # QEMU's checkpatch.pl clean (who signs off is decided at submission)
    local p f bad=0
    for p in $(patches); do
        f=$top/patches/$p
        head -1 "$f" | grep -qE '^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$' &&
        grep -qE '^From: [^<]+ <[^@>]+@[^>]+>$' "$f" &&
        grep -q '^Date: ' "$f" && grep -q '^Subject: \[PATCH\] ' "$f" &&
        [ "$(sed -n '/^Subject:/,/^---$/p' "$f" | sed '1,/^$/d;/^---$/d' |
             grep -c .)" -gt 0 ] &&
        grep -q '^diff --git ' "$f" ||
            { echo "$p: not in git format-patch form, or no message"; bad=1; }
        (cd "$src" && perl scripts/checkpatch.pl -q --no-signoff "$f") ||
            { echo "$p: checkpatch.pl"; bad=1; }
    done
    return $bad
}

t_our_files_style() {
    # our own C files and headers: checkpatch.pl clean, with QEMU's
    # SPDX licence line
    local f bad=0
    while read -r f; do
        case "$f" in *.c|*.h) ;; *) continue ;; esac
        head -3 "$top/$f" | grep -q 'SPDX-License-Identifier: GPL-2.0-or-later' ||
            { echo "$f: no SPDX-License-Identifier line"; bad=1; }
        (cd "$src" && perl scripts/checkpatch.pl -q -f "$f") ||
            { echo "$f: checkpatch.pl"; bad=1; }
    done < <(overlay_files "$top")
    return $bad
}

t_docs() {
    # our page is valid reStructuredText, listed in the built tree's index,
    # and the libvirt example next to it is well-formed XML
    /usr/bin/python3 - "$top/docs/system/devices" <<'PY' &&
import sys
import xml.etree.ElementTree as ET
import docutils.core
d = sys.argv[1]
docutils.core.publish_string(open(d + "/vfio-display.rst").read(),
                             writer_name="null",
                             settings_overrides={"halt_level": 2})
ET.parse(d + "/vfio-display-domain.xml")
ET.parse(d + "/vfio-display-desktop.xml")
docutils.core.publish_string(open(d + "/../../devel/vfio-display.rst").read(),
                             writer_name="null",
                             settings_overrides={"halt_level": 2})
print("rst and xml parse")
PY
    grep -x "   devices/vfio-display.rst" "$src/docs/system/device-emulation.rst" &&
    grep -x "   vfio-display" "$src/docs/devel/index-internals.rst"
}

tap "debian-version-recorded" t_version_recorded
tap "docs" t_docs
tap "missing-series-fails" t_missing_series_fails
tap "overlay-files-in-tree" t_overlay_in_tree
tap "patches-applied" t_patches_applied
tap "patches-format" t_patches_format
tap "our-files-style" t_our_files_style
tap "pristine-untouched" t_pristine_untouched
tap "simulator-not-laid-over" t_excluded_not_in_tree
tap "noop-rebuild" t_noop_rebuild
tap "one-change-rebuild" t_one_change_rebuild
tap "bad-patch-fails" t_bad_patch_fails
echo "1..$n"
