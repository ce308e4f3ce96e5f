"""Round brushes: mask brush/eraser and sketch pen/eraser, with a cursor outline."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from inpaint_studio.commands.edits import MaskStroke, SketchStroke
from inpaint_studio.core import raster
from inpaint_studio.ui.tools.base import Tool
from inpaint_studio.ui.tools.target import EditTarget

MIN_SIZE, MAX_SIZE = 1, 2000


@dataclass
class BrushSettings:
    """Shared by a brush and its eraser. ``size`` is the diameter in image pixels."""

    size: float = 40.0
    hardness: float = 1.0

    def step(self, bigger: bool) -> None:
        """`[` / `]`: about 15 % per press, at least one pixel."""
        factor = 1.15 if bigger else 1 / 1.15
        new = self.size * factor
        if abs(new - self.size) < 1:
            new = self.size + (1 if bigger else -1)
        self.size = float(min(MAX_SIZE, max(MIN_SIZE, round(new))))


class BrushTool(Tool):
    """Mask brush/eraser (``sketch=False``) or sketch pen/eraser; ``value`` False erases."""

    def __init__(self, target: EditTarget, settings: BrushSettings, name: str, value: bool,
                 sketch: bool = False) -> None:
        super().__init__(target)
        self.settings = settings
        self.name = name
        self.value = value
        self.stroke_class = SketchStroke if sketch else MaskStroke
        self.cursor = Qt.BlankCursor
        self._stroke = None
        self._last: Optional[QPointF] = None
        self._hover: Optional[QPointF] = None

    @property
    def busy(self) -> bool:
        return self._stroke is not None

    @property
    def radius(self) -> float:
        return self.settings.size / 2

    def press(self, view, pos, event) -> None:
        self._stroke = self.stroke_class.begin(self.target.document, radius=self.radius,
                                               value=self.value, hardness=self.settings.hardness)
        self._last = pos
        self._stroke.add_segment((pos.x(), pos.y()), (pos.x(), pos.y()))
        self.hover(view, pos)

    def move(self, view, pos, event) -> None:
        if self._stroke is None:
            return
        self._stroke.add_segment((self._last.x(), self._last.y()), (pos.x(), pos.y()))
        self._last = pos
        self.hover(view, pos)

    def release(self, view, pos, event) -> bool:
        if self._stroke is not None:
            if pos != self._last:
                self._stroke.add_segment((self._last.x(), self._last.y()), (pos.x(), pos.y()))
            self.target.push(self._stroke.end())
            self._stroke = None
        return False

    def cancel(self, view) -> None:
        if self._stroke is not None:
            self._stroke.cancel()
            self._stroke = None

    def key_press(self, view, event) -> bool:
        if event.key() == Qt.Key_Escape and self._stroke is not None:
            self.cancel(view)
            return True
        return False

    # ---- cursor outline ----------------------------------------------------------------
    def _outline_rect(self, view, pos: QPointF) -> QRect:
        centre = view.map_from_image(pos)
        r = self.radius * view.zoom + 3
        return QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r).toAlignedRect().adjusted(-2, -2, 2, 2)

    def hover(self, view, pos) -> None:
        if self._hover is not None:
            view.viewport().update(self._outline_rect(view, self._hover))
        self._hover = pos
        if pos is not None:
            view.viewport().update(self._outline_rect(view, pos))

    def paint(self, view, painter: QPainter) -> None:
        if self._hover is None:
            return
        centre = view.map_from_image(self._hover)
        hard = raster.effective_radius(self.radius, self.settings.hardness) * view.zoom
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setBrush(Qt.NoBrush)
        for colour, width in ((QColor(0, 0, 0, 160), 3), (QColor(255, 255, 255, 230), 1)):
            painter.setPen(QPen(colour, width))
            painter.drawEllipse(centre, max(hard, 1.5), max(hard, 1.5))
        if self.settings.hardness < 1:
            painter.setPen(QPen(QColor(255, 255, 255, 140), 1, Qt.DashLine))
            outer = self.radius * view.zoom
            painter.drawEllipse(centre, outer, outer)
        if hard < 6:  # tiny brush: add a crosshair so the cursor stays visible
            painter.setPen(QPen(QColor(255, 255, 255, 230), 1))
            painter.drawLine(QPointF(centre.x() - 8, centre.y()), QPointF(centre.x() - 3, centre.y()))
            painter.drawLine(QPointF(centre.x() + 3, centre.y()), QPointF(centre.x() + 8, centre.y()))
            painter.drawLine(QPointF(centre.x(), centre.y() - 8), QPointF(centre.x(), centre.y() - 3))
            painter.drawLine(QPointF(centre.x(), centre.y() + 3), QPointF(centre.x(), centre.y() + 8))
        painter.restore()
