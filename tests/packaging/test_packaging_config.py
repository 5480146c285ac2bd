"""The build configuration keeps up with the code: packages in the wheel, Qt in the bundle."""

from __future__ import annotations

import ast
import importlib.util
import sys
import tomllib
from pathlib import Path

import PySide6

from tests.packaging.conftest import PACKAGING, ROOT

_spec = importlib.util.spec_from_file_location("qt_trim", PACKAGING / "hooks" / "qt_trim.py")
assert _spec is not None
assert _spec.loader is not None
qt_trim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(qt_trim)


def _spec_list(name: str) -> list[str]:
    tree = ast.parse((PACKAGING / "acs-console.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"{name} is not in the spec")


def _qt_modules_imported() -> set[str]:
    found = set()
    for path in (ROOT / "console").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            found |= {n.split(".")[1] for n in names if n.startswith("PySide6.Qt")}
    return found


def test_the_bundle_carries_exactly_the_qt_modules_the_code_imports() -> None:
    used = _qt_modules_imported()
    assert used == set(_spec_list("QT_MODULES"))
    assert not used & set(_spec_list("UNUSED_QT"))


def test_the_wheel_lists_every_package_and_resource_folder() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    code = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "console").rglob("__init__.py")
    }
    resources = ROOT / "resources"
    data = {"console.resources_data"} | {
        "console.resources_data." + ".".join(p.relative_to(resources).parts)
        for p in resources.rglob("*")
        if p.is_dir() and all(part.isidentifier() for part in p.relative_to(resources).parts)
    }
    assert listed == code | data


def test_qt_trim_keeps_the_desktop_plugins_and_drops_the_rest() -> None:
    plugins = Path(PySide6.__file__).parent / "Qt" / "plugins"
    shipped = {
        f"{p.parent.name}/{p.name}"
        for folder in ("platforms", "platformthemes", "imageformats", "iconengines")
        for p in (plugins / folder).glob("*")
    }
    kept = {name for name in shipped if qt_trim.keep(str(plugins / name))}
    if sys.platform.startswith("linux"):
        assert (
            kept
            == {
                "platforms/libqxcb.so",
                "platforms/libqwayland.so",
                "platforms/libqoffscreen.so",
                "platformthemes/libqxdgdesktopportal.so",
                "imageformats/libqsvg.so",
                "iconengines/libqsvgicon.so",
            }
            & shipped
        )
        assert "platforms/libqxcb.so" in kept
    translations = Path(PySide6.__file__).parent / "Qt" / "translations" / "qtbase_de.qm"
    assert not qt_trim.keep(str(translations))
    assert qt_trim.keep(str(Path(PySide6.__file__).parent / "Qt" / "lib" / "libQt6Gui.so.6"))
