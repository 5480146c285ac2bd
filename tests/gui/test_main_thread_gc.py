"""Reference cycles holding Qt objects are collected on the GUI thread, never by a worker.

A worker thread that allocates (the recogniser, an audio source) used to trigger Python's
automatic collection itself, destroying a window's leftover QObjects off the GUI thread:
"QObject::~QObject: Timers cannot be stopped from another thread", then a crash later on.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication

from console.ui.application import make_application
from console.ui.main_thread_gc import MainThreadCollector
from tests.gui.conftest import wait_until


class _Leftover:
    """What a closed window can leave behind: a QObject with a live timer, in a cycle."""

    def __init__(self) -> None:
        self.obj = QObject()
        self.obj.startTimer(60_000)  # destroying a QObject with a timer off its thread is refused
        self.me = self


def _busy_worker(keep: list[list[int]]) -> None:
    """Allocate like a busy decoder: thousands of live containers, far past gen0's threshold."""
    for i in range(20_000):
        keep.append([i])


async def test_a_cycle_dropped_while_a_worker_allocates_is_collected_on_the_gui_thread(
    app: QApplication, main_thread_gc: MainThreadCollector
) -> None:
    gc.collect()  # start from empty generations, so only this test's objects are young
    destroyed_on: list[str] = []
    leftover = _Leftover()
    leftover.obj.destroyed.connect(
        lambda: destroyed_on.append(threading.current_thread().name),
        Qt.ConnectionType.DirectConnection,
    )
    ref = weakref.ref(leftover)
    del leftover

    kept: list[list[int]] = []
    worker = threading.Thread(target=_busy_worker, args=(kept,), name="busy-worker")
    worker.start()
    await asyncio.to_thread(worker.join)
    # While the loop waited for the worker, the GUI thread's collector may already have run
    # (it ticks every 0.5 s, and a loaded machine makes the worker slow): the cycle may be
    # gone by now, but only ever destroyed on the GUI thread, never by the allocating worker.
    main = threading.main_thread().name
    assert destroyed_on in ([], [main]), f"destroyed on {destroyed_on}, not on {main}"

    await wait_until(lambda: ref() is None, timeout=5, what="the cycle collected")
    assert destroyed_on == [main]
    assert sum(main_thread_gc.collections) >= 1
    del kept


def test_the_application_collects_on_its_own_thread(
    app: QApplication, main_thread_gc: MainThreadCollector
) -> None:
    made = make_application()
    collectors = made.findChildren(MainThreadCollector)
    assert collectors == [main_thread_gc]  # one per application, however often it is made
    assert main_thread_gc.running
    assert not gc.isenabled()  # no thread starts a collection by allocating

    kept = [[i] for i in range(gc.get_threshold()[0] + 100)]  # a collection is due
    assert main_thread_gc.check() is not None
    assert gc.get_count()[0] < gc.get_threshold()[0]  # and done
    del kept


def test_stopping_hands_collection_back_to_python(app: QApplication) -> None:
    enabled = gc.isenabled()
    gc.enable()
    collector = MainThreadCollector()
    try:
        collector.start()
        assert not gc.isenabled()
        assert collector.running
        leftover = _Leftover()
        ref = weakref.ref(leftover)
        del leftover
        collector.stop()  # collects once, here, then lets Python collect again
        assert ref() is None
        assert gc.isenabled()
        assert not collector.running
    finally:
        if not enabled:
            gc.disable()
        collector.deleteLater()
