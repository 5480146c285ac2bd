#!/usr/bin/env bash
# Screenshot of the bundled console on a real X server (Xvfb, Qt's xcb platform plugin), driven
# through its keyboard shortcuts like an operator: call, start transcription, let it run.
#
#   bash packaging/screenshot.sh [BUNDLE_EXE] [OUT_PNG]
#
# Defaults: dist/acs-console/acs-console and packaging/screenshots/console.png. Needs Xvfb,
# xdotool and ImageMagick's import (Debian: xvfb xdotool imagemagick) and the xcb libraries
# Qt loads (libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
# libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0).
set -euo pipefail
cd "$(dirname "$0")/.."
exe=${1:-dist/acs-console/acs-console}
out=${2:-packaging/screenshots/console.png}
work=$(mktemp -d)
xvfb_pid="" app_pid=""
cleanup() {
    [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Xvfb picks a free display and writes its number to fd 3.
Xvfb -displayfd 3 -screen 0 1440x900x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
for _ in $(seq 50); do [ -s "$work/display" ] && break; sleep 0.1; done
export DISPLAY=":$(cat "$work/display")"
export QT_QPA_PLATFORM=xcb

# Speed 1.5: the scripted call moves briskly but still shows a phrase being spoken.
"$exe" --data-dir "$work/data" --speed 1.5 >"$work/app.log" 2>&1 &
app_pid=$!
wid=""
for _ in $(seq 100); do
    wid=$(xdotool search --onlyvisible --name "ACS Transcription Console" 2>/dev/null | head -1 || true)
    [ -n "$wid" ] && break
    sleep 0.1
done
if [ -z "$wid" ]; then
    echo "the console's window did not appear" >&2
    cat "$work/app.log" >&2
    exit 1
fi
sleep 1
# Without a window manager nothing gives the window focus; set it (once it is mapped).
for _ in $(seq 20); do xdotool windowfocus --sync "$wid" 2>/dev/null && break; sleep 0.25; done
xdotool key ctrl+l                       # Go to target field
xdotool type --delay 30 "+1 425 555 0100"
xdotool key ctrl+Return                  # Call
sleep 3
xdotool key ctrl+t                       # Start transcription
sleep 24
xdotool key ctrl+shift+t                 # focus the transcript, as an operator reading it
sleep 0.5
mkdir -p "$(dirname "$out")"
import -window "$wid" "$out"
xdotool key ctrl+shift+h                 # Hang up, then quit
sleep 1.5
xdotool key ctrl+q
for _ in $(seq 50); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
echo "$out"
