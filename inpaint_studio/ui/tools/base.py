"""Tool protocol used by CanvasView. Positions are QPointF in image coordinates.

``press``/``move``/``release`` drive one gesture; ``release`` (and ``double_click``)
return True while the gesture goes on (the polygon lasso), False once it is done.
Each finished gesture pushes exactly one step onto the editor's history. A tool sees the
editor only through an ``EditTarget`` (ui.tools.target), never the window.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainter

from inpaint_studio.ui.tools.target import EditTarget


class Tool:
    name = "tool"
    cursor = Qt.CrossCursor

    def __init__(self, target: EditTarget) -> None:
        self.target = target

    @property
    def busy(self) -> bool:
        return False

    def press(self, view, pos: QPointF, event) -> None:
        pass

    def move(self, view, pos: QPointF, event) -> None:
        pass

    def release(self, view, pos: QPointF, event) -> bool:
        return False

    def hover(self, view, pos: Optional[QPointF]) -> None:
        pass

    def cancel(self, view) -> None:
        pass

    def key_press(self, view, event) -> bool:
        """Handle a key; True if used."""
        return False

    def paint(self, view, painter: QPainter) -> None:
        """Draw previews (view coordinates) over the layers."""


def subtract_modifier(event) -> bool:
    return bool(event.modifiers() & (Qt.AltModifier | Qt.ControlModifier))
