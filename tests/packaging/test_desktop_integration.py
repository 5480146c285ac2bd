"""Desktop integration: .desktop entry, AppStream metainfo, icons, one version everywhere."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from console import APP_ID, __version__
from console.ui.about import AboutDialog
from console.ui.main_window import MainWindow
from tests.packaging.conftest import PACKAGING, ROOT, acs_console

DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_desktop_entry_validates() -> None:
    proc = subprocess.run(
        ["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not proc.stdout.strip()  # not even a hint


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream")
def test_metainfo_validates() -> None:
    proc = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_desktop_entry_and_metainfo_name_the_app_the_window_claims() -> None:
    entry = _desktop_entry()
    assert entry["Icon"] == APP_ID
    assert entry["Exec"].split()[0] == "acs-console"  # the [project.scripts] name and the bundle's
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == "acs-console"
    assert root.findtext("name") == entry["Name"]


def test_one_version_in_cli_metainfo_and_about(qapp: QApplication, tmp_path: Path) -> None:
    proc = acs_console("--version")
    assert proc.stdout.strip() == f"acs-console {__version__}"
    releases = ET.parse(METAINFO).getroot().findall("releases/release")
    assert releases[0].get("version") == __version__  # the newest release comes first
    assert releases[0].find("description") is not None

    window = MainWindow(None, data_dir=tmp_path)
    window.log_path = tmp_path / "logs" / "acs-console.log"
    try:
        window.acts.about.trigger()
        dialogs = [w for w in qapp.topLevelWidgets() if isinstance(w, AboutDialog)]
        assert len(dialogs) == 1
        about = dialogs[0]
        assert about.isVisible()
        assert f"Version {__version__}" in about.title.text()
        assert about.rows["Version"] == __version__
        assert about.rows["Application id"] == APP_ID
        assert about.rows["Log file"] == str(window.log_path)
        assert about.rows["Data folder"] == str(tmp_path)
        about.close()
    finally:
        window.shutdown()
        window.deleteLater()


def test_metainfo_screenshot_is_the_committed_one_and_the_readme_shows_it() -> None:
    image = ET.parse(METAINFO).getroot().find("screenshots/screenshot/image")
    assert image is not None
    url = image.text or ""
    committed = ROOT / url.split("/main/", 1)[1]
    assert committed == PACKAGING / "screenshots" / "console.png"
    shot = QImage(str(committed))
    assert (shot.width(), shot.height()) == (int(image.get("width")), int(image.get("height")))
    assert "packaging/screenshots/console.png" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("size", ICON_SIZES)
def test_icon_png_sizes_are_rendered(size: int) -> None:
    path = ROOT / "resources" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    image = QImage(str(path))
    assert (image.width(), image.height()) == (size, size)
    # The blue tile fills the middle; the corners stay transparent (rounded).
    assert image.pixelColor(size // 2, size // 5).alpha() == 255
    assert image.pixelColor(0, 0).alpha() == 0
