"""Shipped resources are found from a source checkout, a bundle and an override, by one module;
the operator's folders follow the platform unless --data-dir says otherwise."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console import resources
from console.emulator.scenario import available_scenarios, load_scenario, scenarios_dir
from tests.packaging.conftest import ROOT


@pytest.fixture(autouse=True)
def fresh_lookup() -> Iterator[None]:
    resources.resource_root.cache_clear()
    yield
    resources.resource_root.cache_clear()


def test_source_checkout_uses_the_top_level_resources_folder() -> None:
    assert resources.resource_root() == ROOT / "resources"
    assert resources.resource_path("icons", "app.svg").read_text().startswith("<svg")


def test_icons_themes_and_scenarios_all_come_from_the_one_lookup() -> None:
    from console.ui import icons, theme

    root = resources.resource_root()
    assert root / "icons" == icons.ICON_DIR
    assert root / "themes" / "console.qss" == theme._QSS
    assert scenarios_dir() == root / "scenarios"
    assert {"support-call", "multilingual", "conference"} <= set(available_scenarios())


def test_a_bundle_uses_its_own_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "_internal"
    shutil.copytree(ROOT / "resources", bundle / "resources")
    # The changed copy proves which one was read.
    (bundle / "resources" / "scenarios" / "support-call.json").rename(
        bundle / "resources" / "scenarios" / "bundled-call.json"
    )
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert resources.resource_root() == bundle / "resources"
    assert "bundled-call" in available_scenarios()
    assert load_scenario("bundled-call").participants


def test_a_folder_without_the_resources_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "resources" / "icons").mkdir(parents=True)  # someone else's "resources"
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resource_root() == ROOT / "resources"


def test_the_environment_can_point_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(resources.RESOURCES_ENV, str(tmp_path))
    assert resources.resource_path("themes", "console.qss") == tmp_path / "themes" / "console.qss"


def test_data_dir_puts_logs_and_saves_under_it(tmp_path: Path) -> None:
    assert resources.log_dir(tmp_path) == tmp_path / "logs"
    assert resources.default_save_dir(tmp_path) == tmp_path / "transcripts"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG folders are Linux's")
def test_platform_folders_follow_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "Docs"))
    assert resources.log_dir(None) == tmp_path / "state" / "acs-console" / "log"
    assert resources.default_save_dir(None) == tmp_path / "Docs" / "ACS Transcripts"
