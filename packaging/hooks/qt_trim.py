"""Which Qt plugins and translations the bundle keeps (used by the PySide6 hooks beside it).

Filtering in the hooks, before PyInstaller follows library dependencies, keeps out what a
dropped plugin would drag in: the GTK theme plugin alone pulls GTK, Pango and Cairo from the
build machine, which would then clash with the operator's own copies.
"""

from __future__ import annotations

from pathlib import PurePath

# Kept plugins by folder under Qt/plugins; "*" keeps the folder whole. File names are compared
# without "lib" and suffixes, so one list serves Linux, Windows and macOS.
KEEP_PLUGINS: dict[str, set[str]] = {
    "platforms": {"qxcb", "qwayland", "qoffscreen", "qwindows", "qcocoa"},
    "platformthemes": {"qxdgdesktopportal"},  # not qgtk3: it links GTK/Pango/Cairo
    "platforminputcontexts": {
        "composeplatforminputcontextplugin",
        "ibusplatforminputcontextplugin",
    },
    "imageformats": {"qsvg"},
    "iconengines": {"*"},
    "styles": {"*"},
    "xcbglintegrations": {"*"},
    "wayland-decoration-client": {"*"},
    "wayland-graphics-integration-client": {"*"},
    "wayland-shell-integration": {"*"},
}


def _stem(name: str) -> str:
    stem = name.split(".")[0]
    return stem.removeprefix("lib")


def keep(src: str) -> bool:
    """False for Qt translations and for plugins outside KEEP_PLUGINS."""
    parts = PurePath(src).parts
    if "translations" in parts and src.endswith(".qm"):
        return False  # English interface, no translator installed
    if "plugins" not in parts:
        return True
    i = len(parts) - 1 - parts[::-1].index("plugins")
    if len(parts) < i + 3:
        return True
    wanted = KEEP_PLUGINS.get(parts[i + 1], set())
    return "*" in wanted or _stem(parts[-1]) in wanted


def trimmed(
    hiddenimports: list[str], binaries: list[tuple[str, str]], datas: list[tuple[str, str]]
) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
    return (
        hiddenimports,
        [b for b in binaries if keep(b[0])],
        [d for d in datas if keep(d[0])],
    )
