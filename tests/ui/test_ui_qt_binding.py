"""Guard against a Qt binding that corrupts Python's reference counts.

PySide6 6.12.0 drops a reference to None on every call of a void method under
Python 3.11, so a long painting session ends in 'deallocating None'.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage, QPainter


def test_void_calls_keep_none_refcount(qtbot):
    timer = QTimer()
    image = QImage(8, 8, QImage.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(2000):
        timer.setInterval(5)
        painter.save()
        painter.restore()
    after = sys.getrefcount(None)
    painter.end()
    assert abs(after - before) < 100, f"None lost {before - after} references in 6000 void calls"
