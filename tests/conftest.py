"""Shared fixtures. Qt runs offscreen; a test that leaves a QThread running fails."""
from __future__ import annotations

import os
import sys
import weakref
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent / "workers"))  # fake_engines

import pytest  # noqa: E402

_started_threads: "weakref.WeakSet" = weakref.WeakSet()


def _track_qthreads() -> None:
    try:
        from PySide6.QtCore import QThread
    except ImportError:  # Qt-free parts of the suite still run
        return
    if getattr(QThread.start, "_tracked", False):
        return
    original = QThread.start

    def start(self, *args, **kwargs):
        _started_threads.add(self)
        return original(self, *args, **kwargs)

    start._tracked = True
    QThread.start = start


_track_qthreads()


@pytest.fixture(autouse=True)
def no_qthread_left_running():
    """Fail any test that leaves a QThread it started still running."""
    yield
    running = []
    for thread in list(_started_threads):
        try:
            alive = thread.isRunning()
        except RuntimeError:  # C++ object already deleted
            continue
        if alive:
            running.append(thread.objectName() or repr(thread))
            thread.quit()
            thread.wait(5000)
    _started_threads.clear()
    if running:
        pytest.fail(f"test left QThread(s) running: {', '.join(running)}")
