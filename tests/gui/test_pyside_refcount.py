"""Guard against PySide6 builds that leak references to None from void methods.

PySide6 6.12.0 on Python 3.11 (where None is not immortal) decremented None's reference count
on calls to methods returning None; a long session then aborted with "Fatal Python error:
none_dealloc". The window makes such calls constantly, so run ~20,000 of them in a
subprocess (an abort must not take the test run down) and check None's count holds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtGui import QTextCursor
    from PySide6.QtWidgets import QApplication, QLabel, QPlainTextEdit

    app = QApplication([])
    label = QLabel()
    edit = QPlainTextEdit()
    cursor = QTextCursor(edit.document())
    before = sys.getrefcount(None)
    for i in range(4000):
        label.setText(str(i))             # void
        label.setVisible(False)           # void
        edit.setReadOnly(bool(i & 1))     # void
        cursor.insertText("x")            # void
        app.processEvents()               # void
    after = sys.getrefcount(None)
    print(before, after, flush=True)
    """
)


def test_void_qt_calls_do_not_leak_none_references() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "none_dealloc" not in proc.stderr
    before, after = (int(v) for v in proc.stdout.split())
    # A leak shows as a drop of about one per call (20,000); allow ordinary churn.
    assert before - after < 500, (before, after)
