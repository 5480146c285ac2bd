#!/bin/sh
# Install this ACS Transcription Console bundle for the current user, or under PREFIX:
# the program folder, the `acs-console` command, the menu entry, icons and AppStream metainfo.
#
#   ./install.sh [PREFIX]              (default: ~/.local; /usr/local for everyone, as root)
#   ./install.sh --uninstall [PREFIX]
#
# It sits next to the acs-console executable in the bundle (packaging/build.sh puts it there).
set -eu
app_id=io.github.acs_transcription_console.Console
uninstall=false
if [ "${1:-}" = "--uninstall" ]; then uninstall=true; shift; fi
prefix=${1:-$HOME/.local}
here=$(cd "$(dirname "$0")" && pwd)
dest="$prefix/lib/acs-console"
apps="$prefix/share/applications"
icons="$prefix/share/icons/hicolor"
metainfo="$prefix/share/metainfo"

remove() {
    rm -rf "$dest"
    rm -f "$prefix/bin/acs-console" "$apps/$app_id.desktop" "$metainfo/$app_id.metainfo.xml"
    rm -f "$icons"/*/apps/"$app_id".png "$icons/scalable/apps/$app_id.svg"
}

refresh() {
    # Menus pick the entry up by themselves; these only speed it up where present.
    command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
    command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$icons" || true
}

if $uninstall; then
    remove
    refresh
    echo "Removed ACS Transcription Console from $prefix"
    exit 0
fi

[ -x "$here/acs-console" ] || { echo "run this from the unpacked bundle" >&2; exit 1; }
if [ "$here" != "$dest" ]; then
    remove
    mkdir -p "$dest"
    cp -a "$here/." "$dest/"
fi
mkdir -p "$prefix/bin" "$apps" "$metainfo" "$icons/scalable/apps"
ln -sf "$dest/acs-console" "$prefix/bin/acs-console"
sed -e "s|^Exec=acs-console|Exec=$prefix/bin/acs-console|" \
    -e "s|^TryExec=acs-console|TryExec=$prefix/bin/acs-console|" \
    "$dest/$app_id.desktop" >"$apps/$app_id.desktop"
cp "$dest/$app_id.metainfo.xml" "$metainfo/"
resources="$dest/_internal/resources/icons"
for png in "$resources"/hicolor/*/apps/"$app_id".png; do
    size=$(basename "$(dirname "$(dirname "$png")")")
    mkdir -p "$icons/$size/apps"
    cp "$png" "$icons/$size/apps/"
done
cp "$resources/app.svg" "$icons/scalable/apps/$app_id.svg"
refresh
echo "Installed ACS Transcription Console in $dest"
echo "Run it from the application menu or as $prefix/bin/acs-console"
