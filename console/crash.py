"""Crash capture: nothing that goes wrong leaves no trace.

- An exception nobody caught (in the main thread, in a Qt slot, in a worker thread) is logged
  with its traceback, instead of going to a stderr nobody reads.
- A native crash (a segfault in Qt or a native library, an abort) is written by
  :mod:`faulthandler` into a crash file in the log folder, with every thread's Python stack.
- At the next start a crash file left behind is reported once (:meth:`CrashCapture.previous`),
  then renamed so it is not reported again, and kept for whoever diagnoses it.

No Qt here: the window routes Qt's own messages into logging (``console/ui/qtlog.py``).
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

log = logging.getLogger(__name__)

# A live process's fault file; renamed to REPORTED_PREFIX… once a crash in it was reported.
FAULT_PREFIX = "faults-"
REPORTED_PREFIX = "crash-"


@dataclass(frozen=True, slots=True)
class PreviousCrash:
    path: Path  # where the report is kept
    at: float  # when the crashed process last wrote to it

    @property
    def text(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.at))
        return (
            f"The console stopped unexpectedly ({when}). What it was doing is in {self.path}; "
            "any call in progress was autosaved and is offered for recovery."
        )


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (another user's), or we cannot tell: leave its file alone
    return True


class CrashCapture:
    """Installed once per process by the window's entry point (and the self-test)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / f"{FAULT_PREFIX}{os.getpid()}.log"
        self._file: IO[str] | None = None
        self.previous: list[PreviousCrash] = []

    @classmethod
    def install(cls, directory: Path) -> CrashCapture:
        capture = cls(directory)
        capture.previous = capture._collect_previous()
        capture._enable_faulthandler()
        sys.excepthook = capture._excepthook
        threading.excepthook = capture._thread_excepthook
        return capture

    def _collect_previous(self) -> list[PreviousCrash]:
        """Fault files of processes that are gone: the non-empty ones were crashes."""
        found = []
        try:
            candidates = sorted(self.directory.glob(f"{FAULT_PREFIX}*.log"))
        except OSError:
            return []
        for path in candidates:
            pid = path.stem.removeprefix(FAULT_PREFIX)
            if not pid.isdigit() or _pid_alive(int(pid)):
                continue
            try:
                st = path.stat()
                if st.st_size == 0:
                    path.unlink()
                    continue
                stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(st.st_mtime))
                kept = path.with_name(f"{REPORTED_PREFIX}{stamp}-{pid}.log")
                path.rename(kept)
            except OSError as exc:
                log.warning("crash file %s unreadable: %s", path, exc)
                continue
            log.error("the previous run crashed; its report is %s", kept)
            found.append(PreviousCrash(kept, st.st_mtime))
        return found

    def _enable_faulthandler(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Kept open for the life of the process: faulthandler writes to its descriptor
            # from a signal handler, where nothing can be opened.
            self._file = self.path.open("w", encoding="utf-8")
        except OSError as exc:
            log.warning(
                "no crash file in %s (%s); native crashes go to stderr", self.directory, exc
            )
            faulthandler.enable(all_threads=True)
            return
        faulthandler.enable(self._file, all_threads=True)

    def close(self) -> None:
        """A clean exit: the empty fault file goes."""
        if self._file is None:
            return
        faulthandler.disable()
        self._file.close()
        self._file = None
        try:
            if self.path.stat().st_size == 0:
                self.path.unlink()
        except OSError:
            pass

    def record_fatal(self, exc: BaseException) -> None:
        """An exception ended the application: log it and keep it as a crash report."""
        log.critical("the console stopped on an error", exc_info=exc)
        if self._file is not None:
            import traceback

            traceback.print_exception(exc, file=self._file)
            self._file.flush()

    @staticmethod
    def _excepthook(
        kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        # Uncaught in the main thread, or raised in a Qt slot (PySide6 reports it here and
        # carries on): into the log with its traceback, and to stderr as before.
        if not issubclass(kind, KeyboardInterrupt):
            log.error("uncaught exception", exc_info=(kind, exc, tb))
        sys.__excepthook__(kind, exc, tb)

    @staticmethod
    def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
        log.error("uncaught exception in %s", name, exc_info=exc_info)  # type: ignore[arg-type]
