"""Freehand lasso, polygon lasso and rectangle. Plain gesture adds; Alt or Ctrl subtracts."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

from inpaint_studio.commands.edits import Lasso, RectSelect
from inpaint_studio.ui.tools.base import Tool, subtract_modifier
from inpaint_studio.ui.tools.target import EditTarget

ADD_COLOUR = QColor(255, 255, 255)
SUB_COLOUR = QColor(255, 170, 60)


def _preview_pens(subtract: bool):
    return (QPen(QColor(0, 0, 0, 170), 3),
            QPen(SUB_COLOUR if subtract else ADD_COLOUR, 1, Qt.DashLine))


class _PathTool(Tool):
    """Shared state: image-space points and the damage rectangle of the preview."""

    def __init__(self, target: EditTarget) -> None:
        super().__init__(target)
        self.points: list[QPointF] = []
        self.subtract = False
        self._cursor_pos: Optional[QPointF] = None

    @property
    def busy(self) -> bool:
        return bool(self.points)

    def _view_polygon(self, view) -> QPolygonF:
        return QPolygonF([view.map_from_image(p) for p in self._preview_points()])

    def _preview_points(self) -> list[QPointF]:
        return self.points

    def _damage(self, view) -> None:
        if self.points:
            rect = self._view_polygon(view).boundingRect().toAlignedRect().adjusted(-4, -4, 4, 4)
            view.viewport().update(rect)

    def _commit(self, view) -> None:
        pts = [(p.x(), p.y()) for p in self.points]
        self._damage(view)
        self.points = []
        if len(pts) >= 3:
            self.target.push(Lasso.apply(self.target.document, pts, add=not self.subtract))

    def cancel(self, view) -> None:
        self._damage(view)
        self.points = []

    def paint(self, view, painter: QPainter) -> None:
        if not self.points:
            return
        polygon = self._view_polygon(view)
        path = QPainterPath()
        path.addPolygon(polygon)
        path.closeSubpath()
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        fill = QColor(SUB_COLOUR if self.subtract else ADD_COLOUR)
        fill.setAlpha(40)
        painter.fillPath(path, fill)
        for pen in _preview_pens(self.subtract):
            painter.setPen(pen)
            painter.drawPath(path)
        painter.restore()


class LassoTool(_PathTool):
    name = "lasso"

    def press(self, view, pos, event) -> None:
        self.subtract = subtract_modifier(event)
        self.points = [pos]

    def move(self, view, pos, event) -> None:
        if not self.points:
            return
        last = self.points[-1]
        if abs(pos.x() - last.x()) * view.zoom + abs(pos.y() - last.y()) * view.zoom >= 1.5:
            self._damage(view)
            self.points.append(pos)
            self._damage(view)

    def release(self, view, pos, event) -> bool:
        if self.points:
            self.points.append(pos)
            self._commit(view)
        return False

    def key_press(self, view, event) -> bool:
        if event.key() == Qt.Key_Escape and self.points:
            self.cancel(view)
            return True
        return False


class PolygonTool(_PathTool):
    """Click to add corners; double-click or Enter closes; Backspace removes the last."""

    name = "polygon"

    def _preview_points(self) -> list[QPointF]:
        return self.points + ([self._cursor_pos] if self._cursor_pos is not None else [])

    def press(self, view, pos, event) -> None:
        if not self.points:
            self.subtract = subtract_modifier(event)
        self._damage(view)
        self.points.append(pos)
        self._cursor_pos = None
        self._damage(view)

    def move(self, view, pos, event) -> None:
        self._damage(view)
        self._cursor_pos = pos
        self._damage(view)

    def release(self, view, pos, event) -> bool:
        return bool(self.points)

    def double_click(self, view, pos, event) -> bool:
        self._cursor_pos = None
        self._commit(view)
        return False

    def cancel(self, view) -> None:
        super().cancel(view)
        self._cursor_pos = None

    def key_press(self, view, event) -> bool:
        key = event.key()
        if not self.points:
            return False
        if key in (Qt.Key_Return, Qt.Key_Enter):
            self._cursor_pos = None
            self._commit(view)
        elif key == Qt.Key_Escape:
            self.cancel(view)
        elif key == Qt.Key_Backspace:
            self._damage(view)
            self.points.pop()
        else:
            return False
        return True


class RectTool(Tool):
    name = "rect"

    def __init__(self, target: EditTarget) -> None:
        super().__init__(target)
        self.start: Optional[QPointF] = None
        self.end: Optional[QPointF] = None
        self.subtract = False

    @property
    def busy(self) -> bool:
        return self.start is not None

    def _view_rect(self, view) -> QRectF:
        return QRectF(view.map_from_image(self.start), view.map_from_image(self.end)).normalized()

    def _damage(self, view) -> None:
        if self.start is not None:
            view.viewport().update(self._view_rect(view).toAlignedRect().adjusted(-4, -4, 4, 4))

    def press(self, view, pos, event) -> None:
        self.subtract = subtract_modifier(event)
        self.start = self.end = pos

    def move(self, view, pos, event) -> None:
        if self.start is not None:
            self._damage(view)
            self.end = pos
            self._damage(view)

    def release(self, view, pos, event) -> bool:
        if self.start is not None:
            self._damage(view)
            start, self.start, self.end = self.start, None, None
            self.target.push(RectSelect.apply(self.target.document, start.x(), start.y(),
                                              pos.x(), pos.y(), add=not self.subtract))
        return False

    def cancel(self, view) -> None:
        self._damage(view)
        self.start = self.end = None

    def key_press(self, view, event) -> bool:
        if event.key() == Qt.Key_Escape and self.start is not None:
            self.cancel(view)
            return True
        return False

    def paint(self, view, painter: QPainter) -> None:
        if self.start is None:
            return
        rect = self._view_rect(view)
        painter.save()
        fill = QColor(SUB_COLOUR if self.subtract else ADD_COLOUR)
        fill.setAlpha(40)
        painter.fillRect(rect, fill)
        for pen in _preview_pens(self.subtract):
            painter.setPen(pen)
            painter.drawRect(rect)
        painter.restore()
