#!/usr/bin/env bash
# The bundle's size and start-up figures quoted in the README:
#
#   bash packaging/measure.sh [BUNDLE_DIR]        (default dist/acs-console, from build.sh)
#
# Prints the folder's size (du -sh) and as a .tar.gz, then for --self-test the wall time and peak
# memory from /usr/bin/time -v (first run after dropping the page cache when permitted, so a
# cold start, then a warm one), and, when Xvfb and xdotool are present, the time from launch to
# the main window being visible on an X server.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=$(realpath "${1:-dist/acs-console}")
exe="$bundle/acs-console"
work=$(mktemp -d)
xvfb_pid="" app_pid=""
cleanup() {
    [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

drop_caches() {
    sync
    if (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then echo "cold (page cache dropped)"
    else echo "page cache not droppable here: warm"; fi
}

echo "size on disk:  $(du -sh "$bundle" | cut -f1)"
tar -C "$(dirname "$bundle")" -czf "$work/bundle.tar.gz" "$(basename "$bundle")"
echo "as .tar.gz:    $(du -h "$work/bundle.tar.gz" | cut -f1)"

for run in first second; do
    [ "$run" = first ] && echo "--self-test, $(drop_caches):" || echo "--self-test, warm:"
    (cd "$work" && /usr/bin/time -v "$exe" --self-test) >"$work/out" 2>&1
    grep -E "Elapsed \(wall clock\)|Maximum resident set size" "$work/out" | sed 's/^\s*/    /'
done

if command -v Xvfb >/dev/null && command -v xdotool >/dev/null; then
    Xvfb -displayfd 3 -screen 0 1440x900x24 -nolisten tcp 3>"$work/display" 2>/dev/null &
    xvfb_pid=$!
    for _ in $(seq 50); do [ -s "$work/display" ] && break; sleep 0.1; done
    export DISPLAY=":$(cat "$work/display")" QT_QPA_PLATFORM=xcb
    for run in first second; do
        label=$([ "$run" = first ] && drop_caches || echo warm)
        start=$(date +%s.%N)
        "$exe" --data-dir "$work/data-$run" >/dev/null 2>&1 &
        app_pid=$!
        xdotool search --sync --onlyvisible --name "ACS Transcription Console" >/dev/null
        end=$(date +%s.%N)
        echo "launch to visible window on Xvfb, $label: $(echo "$end - $start" | bc) s"
        kill "$app_pid"
        wait "$app_pid" 2>/dev/null || true
        app_pid=""
    done
fi
