"""Smart selection: drag a box around an object (or Shift+drag to scribble on it) and its
outline is found (pipeline.segment, GrabCut) and added to the mask, grown by a few pixels.
Alt or Ctrl subtracts. One undo step per gesture."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QApplication

from inpaint_studio.commands.sampling import PaintRegion
from inpaint_studio.core import raster
from inpaint_studio.pipeline.segment import select_object
from inpaint_studio.ui.tools.base import Tool, subtract_modifier
from inpaint_studio.ui.tools.selection import ADD_COLOUR, SUB_COLOUR, _preview_pens
from inpaint_studio.ui.tools.target import EditTarget

SCRIBBLE_RADIUS = 3.0  # view pixels


class SmartSelectTool(Tool):
    name = "smart select"

    def __init__(self, target: EditTarget) -> None:
        super().__init__(target)
        self.points: list[QPointF] = []
        self.scribble = False
        self.subtract = False
        self.last_message = ""

    @property
    def busy(self) -> bool:
        return bool(self.points)

    def press(self, view, pos, event) -> None:
        self.subtract = subtract_modifier(event)
        self.scribble = bool(event.modifiers() & Qt.ShiftModifier)
        self.points = [pos]

    def move(self, view, pos, event) -> None:
        if self.points:
            if self.scribble:
                self.points.append(pos)
            else:
                self.points[1:] = [pos]
            view.viewport().update()

    def release(self, view, pos, event) -> bool:
        if not self.points:
            return False
        points, self.points = self.points + [pos], []
        view.viewport().update()
        self.select(points, self.scribble, self.subtract, radius=SCRIBBLE_RADIUS / view.zoom)
        return False

    def select(self, points, scribble: bool, subtract: bool, radius: float = 2.0) -> None:
        """Find the object from a box (first and last point) or a scribble; push one step."""
        doc = self.target.document
        xy = [(p.x(), p.y()) for p in points]
        marks = None
        box = None
        if scribble:
            marks = np.zeros(doc.mask.shape, bool)
            raster.stroke_polyline(marks, xy, max(radius, 1.0))
        else:
            (x0, y0), (x1, y1) = xy[0], xy[-1]
            box = (x0, y0, x1, y1)
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            found, part = select_object(doc.image, box=box, scribble=marks)
        finally:
            QApplication.restoreOverrideCursor()
        if found.empty:
            self.last_message = "Smart select found nothing: drag a box around the object."
        else:
            self.target.push(PaintRegion.apply(doc, found, part, add=not subtract,
                                               text="Smart select"))
            self.last_message = ""
        self.target.show_status(self.last_message, 4000)

    def cancel(self, view) -> None:
        self.points = []
        view.viewport().update()

    def key_press(self, view, event) -> bool:
        if event.key() == Qt.Key_Escape and self.points:
            self.cancel(view)
            return True
        return False

    def paint(self, view, painter: QPainter) -> None:
        if not self.points:
            return
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        colour = SUB_COLOUR if self.subtract else ADD_COLOUR
        if self.scribble:
            path = QPainterPath(view.map_from_image(self.points[0]))
            for p in self.points[1:]:
                path.lineTo(view.map_from_image(p))
            painter.setPen(QPen(QColor(0, 0, 0, 170), 2 * SCRIBBLE_RADIUS + 2, Qt.SolidLine, Qt.RoundCap))
            painter.drawPath(path)
            painter.setPen(QPen(colour, 2 * SCRIBBLE_RADIUS, Qt.SolidLine, Qt.RoundCap))
            painter.drawPath(path)
        else:
            rect = QRectF(view.map_from_image(self.points[0]),
                          view.map_from_image(self.points[-1])).normalized()
            for pen in _preview_pens(self.subtract):
                painter.setPen(pen)
                painter.drawRect(rect)
        painter.restore()

