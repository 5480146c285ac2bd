# PyInstaller's own hook for this module, with Qt trimmed to what the console uses (qt_trim.py).
from PyInstaller.utils.hooks.qt import add_qt6_dependencies
from qt_trim import trimmed

hiddenimports, binaries, datas = trimmed(*add_qt6_dependencies(__file__))
