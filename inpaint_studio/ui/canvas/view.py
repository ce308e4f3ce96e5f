"""The zoomable, pannable photo canvas.

Image coordinates: ``image = (view - origin) / zoom``, exact at every zoom. Only the
exposed rectangle is painted; stroke updates invalidate just their dirty box. Pan with
the scroll bars, the middle button or space+drag; zoom with the wheel (around the cursor)
or the zoom actions. Tools get press/move/release in image coordinates.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QAbstractScrollArea, QFrame

from inpaint_studio.core.types import BBox
from inpaint_studio.ui.canvas.display import DisplayImage, to_display
from inpaint_studio.ui.canvas.overlay import LayerOverlay

ZOOM_STEPS = (1 / 32, 1 / 24, 1 / 16, 1 / 12, 1 / 8, 1 / 6, 1 / 4, 1 / 3, 1 / 2, 2 / 3, 1.0,
              1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0)
MIN_ZOOM, MAX_ZOOM = ZOOM_STEPS[0], ZOOM_STEPS[-1]
BACKGROUND = QColor(43, 43, 46)
PROPOSAL_COLOUR = QColor(40, 255, 60)  # green: unlike the mask (red) and sketch (cyan)


class CanvasView(QAbstractScrollArea):
    zoom_changed = Signal(float)
    cursor_moved = Signal(object)  # (x, y) image pixel under the cursor, or None
    gesture_ended = Signal()  # a stroke/selection was finished or aborted

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.NoFrame)
        self.viewport().setMouseTracking(True)
        self.viewport().setAttribute(Qt.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.display: Optional[DisplayImage] = None
        self._pixels: Optional[np.ndarray] = None
        self._originals: list[tuple[BBox, QImage, np.ndarray]] = []  # pre-fill patches
        self.compare_mode = "off"  # "off" | "original" | "split"
        self.mask_overlay = LayerOverlay(QColor(255, 40, 90), 0.5)
        self.avoid_overlay = LayerOverlay(QColor(255, 170, 0), 0.4)  # sampling area (ui.removal)
        self.sketch_overlay = LayerOverlay(QColor(40, 220, 255), 1.0)
        self.proposal_overlay = LayerOverlay(PROPOSAL_COLOUR, 0.9)  # detected damage, not yet in the mask
        self.zoom = 1.0
        self.fit_mode = True
        self.tool = None
        self._pan_from: Optional[QPointF] = None
        self._space = False
        self._active = False
        self._held_mode = "off"

    # ---- content -------------------------------------------------------------------
    @property
    def image_size(self) -> tuple[int, int]:
        return (self.display.width, self.display.height) if self.display else (0, 0)

    def set_layers(self, pixels: Optional[np.ndarray], mask: Optional[np.ndarray],
                   sketch: Optional[np.ndarray]) -> None:
        """Show a new photo with its layers (keeps references, copies nothing but pixels)."""
        self._pixels = pixels
        self.display = DisplayImage(pixels) if pixels is not None else None
        self.mask_overlay.set_layer(mask)
        self.sketch_overlay.set_layer(sketch)
        self._originals = []
        self.fit_mode = True
        self._relayout()
        self.viewport().update()
        self.zoom_changed.emit(self.zoom)

    def add_original_patch(self, box: BBox, pixels: np.ndarray) -> None:
        """Remember pixels as they were before a fill, for the compare views.

        Patches are painted newest first, so the oldest (the photo as opened) wins.
        """
        buffer = to_display(pixels)
        fmt = QImage.Format_ARGB32 if pixels.shape[2] == 4 else QImage.Format_RGB32
        image = QImage(buffer.data, box.width, box.height, box.width * 4, fmt)
        self._originals.append((box, image, buffer))
        if self.compare_mode != "off":
            self.update_image_box(box)

    @property
    def has_original(self) -> bool:
        return bool(self._originals)

    def image_changed(self, box: Optional[BBox] = None) -> None:
        if self.display is not None:
            self.display.update(self._pixels, box)
            self.update_image_box(box)

    def mask_changed(self, box: Optional[BBox] = None) -> None:
        self.mask_overlay.update(box)
        self.update_image_box(box)

    def sketch_changed(self, box: Optional[BBox] = None) -> None:
        self.sketch_overlay.update(box)
        self.update_image_box(box)

    def set_compare_mode(self, mode: str) -> None:
        if mode != self.compare_mode:
            self.compare_mode = mode
            self.viewport().update()

    # ---- coordinates ---------------------------------------------------------------
    def origin(self) -> QPointF:
        """View position of image pixel (0, 0)'s top-left corner."""
        width, height = self.image_size
        vp = self.viewport()
        cw, ch = width * self.zoom, height * self.zoom
        ox = (vp.width() - cw) / 2 if cw <= vp.width() else -self.horizontalScrollBar().value()
        oy = (vp.height() - ch) / 2 if ch <= vp.height() else -self.verticalScrollBar().value()
        return QPointF(math.floor(ox), math.floor(oy))

    def map_to_image(self, view_point: QPointF) -> QPointF:
        o = self.origin()
        return QPointF((view_point.x() - o.x()) / self.zoom, (view_point.y() - o.y()) / self.zoom)

    def map_from_image(self, image_point: QPointF) -> QPointF:
        o = self.origin()
        return QPointF(o.x() + image_point.x() * self.zoom, o.y() + image_point.y() * self.zoom)

    def view_rect(self, box: BBox, margin: int = 2) -> QRect:
        """View rectangle (rounded outward) covering image box ``box``."""
        o, z = self.origin(), self.zoom
        x0 = math.floor(o.x() + box.x0 * z) - margin
        y0 = math.floor(o.y() + box.y0 * z) - margin
        x1 = math.ceil(o.x() + box.x1 * z) + margin
        y1 = math.ceil(o.y() + box.y1 * z) + margin
        return QRect(x0, y0, x1 - x0, y1 - y0)

    def update_image_box(self, box: Optional[BBox]) -> None:
        if box is None:
            self.viewport().update()
        elif not box.empty:
            self.viewport().update(self.view_rect(box))

    # ---- zoom and pan --------------------------------------------------------------
    def fit_zoom(self) -> float:
        width, height = self.image_size
        if not width:
            return 1.0
        vp = self.maximumViewportSize()
        return max(MIN_ZOOM, min(MAX_ZOOM, (vp.width() - 8) / width, (vp.height() - 8) / height))

    def zoom_fit(self) -> None:
        self.fit_mode = True
        self._apply_zoom(self.fit_zoom(), None)

    def set_zoom(self, zoom: float, anchor: Optional[QPointF] = None) -> None:
        """Zoom keeping the image point under ``anchor`` (view coords; default centre) fixed."""
        self.fit_mode = False
        self._apply_zoom(zoom, anchor)

    def zoom_in(self) -> None:
        self.set_zoom(next((z for z in ZOOM_STEPS if z > self.zoom * 1.001), MAX_ZOOM))

    def zoom_out(self) -> None:
        self.set_zoom(next((z for z in reversed(ZOOM_STEPS) if z < self.zoom / 1.001), MIN_ZOOM))

    def _apply_zoom(self, zoom: float, anchor: Optional[QPointF]) -> None:
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        vp = self.viewport()
        if anchor is None:
            anchor = QPointF(vp.width() / 2, vp.height() / 2)
        fixed = self.map_to_image(anchor)
        self.zoom = zoom
        self._relayout()
        # scroll so that ``fixed`` lands under ``anchor`` again
        self.horizontalScrollBar().setValue(round(fixed.x() * zoom - anchor.x()))
        self.verticalScrollBar().setValue(round(fixed.y() * zoom - anchor.y()))
        vp.update()
        self.zoom_changed.emit(zoom)

    def _relayout(self) -> None:
        width, height = self.image_size
        if self.fit_mode:
            self.zoom = self.fit_zoom()
        vp = self.viewport()
        for bar, content, page in ((self.horizontalScrollBar(), width * self.zoom, vp.width()),
                                   (self.verticalScrollBar(), height * self.zoom, vp.height())):
            bar.setPageStep(page)
            bar.setSingleStep(max(1, page // 20))
            bar.setRange(0, max(0, math.ceil(content - page)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        fit = self.fit_mode
        self._relayout()
        if fit:
            self.zoom_changed.emit(self.zoom)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().update()

    def pan_by(self, dx: float, dy: float) -> None:
        self.horizontalScrollBar().setValue(round(self.horizontalScrollBar().value() - dx))
        self.verticalScrollBar().setValue(round(self.verticalScrollBar().value() - dy))

    def wheelEvent(self, event) -> None:
        mods = event.modifiers()
        delta = event.angleDelta()
        if mods & Qt.ShiftModifier:
            self.pan_by(-(delta.y() or delta.x()), 0)
        elif mods & Qt.ControlModifier:
            self.pan_by(delta.x(), delta.y())
        elif delta.y():
            self.set_zoom(self.zoom * 1.25 ** (delta.y() / 120), event.position())
        event.accept()

    # ---- input ---------------------------------------------------------------------
    def set_tool(self, tool) -> None:
        if self.tool is not None and self._tool_active:
            self.tool.cancel(self)
            self._tool_active = False
        self.tool = tool
        self.viewport().setCursor(tool.cursor if tool is not None else Qt.ArrowCursor)
        self.viewport().update()

    @property
    def _tool_active(self) -> bool:
        return self._active

    @_tool_active.setter
    def _tool_active(self, active: bool) -> None:
        was, self._active = self._active, bool(active)
        if was and not self._active:
            self.gesture_ended.emit()

    @property
    def gesture_active(self) -> bool:
        return self._active or bool(self.tool is not None and self.tool.busy)

    def cancel_gesture(self) -> None:
        """Abort a stroke or selection in progress (before undo, fills, file changes)."""
        if self.tool is not None and (self._tool_active or self.tool.busy):
            self.tool.cancel(self)
        self._tool_active = False

    def _panning(self) -> bool:
        return self._pan_from is not None

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.ClosedHandCursor)
        elif self.tool is not None and self.display is not None and event.button() == Qt.LeftButton:
            self._tool_active = True
            self.tool.press(self, self.map_to_image(event.position()), event)
        elif self.tool is not None and self._tool_active and event.button() == Qt.RightButton:
            self.tool.cancel(self)
            self._tool_active = False
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        pos = self.map_to_image(event.position())
        if self._panning():
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.pan_by(delta.x(), delta.y())
        elif self.tool is not None and self.display is not None:
            if self._tool_active:
                self.tool.move(self, pos, event)
            else:
                self.tool.hover(self, pos)
        width, height = self.image_size
        inside = 0 <= pos.x() < width and 0 <= pos.y() < height
        self.cursor_moved.emit((int(pos.x()), int(pos.y())) if inside else None)
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self._panning() and event.button() in (Qt.MiddleButton, Qt.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.OpenHandCursor if self._space else
                                      (self.tool.cursor if self.tool else Qt.ArrowCursor))
        elif self._tool_active and event.button() == Qt.LeftButton:
            self._tool_active = self.tool.release(self, self.map_to_image(event.position()), event)
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:
        if self.tool is not None and hasattr(self.tool, "double_click"):
            self._tool_active = self.tool.double_click(self, self.map_to_image(event.position()), event)
        else:
            self.mousePressEvent(event)

    def leaveEvent(self, event) -> None:
        self.cursor_moved.emit(None)
        if self.tool is not None:
            self.tool.hover(self, None)
        super().leaveEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.OpenHandCursor)
        elif event.key() == Qt.Key_Backslash:
            if not event.isAutoRepeat():
                self._held_mode = self.compare_mode
                self.set_compare_mode("original")
        elif self.tool is not None and self.tool.key_press(self, event):
            self._tool_active = self.tool.busy
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().setCursor(self.tool.cursor if self.tool else Qt.ArrowCursor)
        elif event.key() == Qt.Key_Backslash:
            if not event.isAutoRepeat():
                self.set_compare_mode(self._held_mode)
        else:
            super().keyReleaseEvent(event)

    def event(self, event) -> bool:
        # let a busy tool have Esc/Enter/Backspace before window shortcuts see them
        if event.type() == QEvent.ShortcutOverride and self.tool is not None and self.tool.busy \
                and event.key() in (Qt.Key_Escape, Qt.Key_Return, Qt.Key_Enter, Qt.Key_Backspace):
            event.accept()
            return True
        return super().event(event)

    # ---- painting ------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self.viewport())
        exposed = event.rect()
        painter.fillRect(exposed, BACKGROUND)
        if self.display is not None:
            self._paint_image(painter, QRectF(exposed))
        else:
            painter.setPen(QColor(150, 150, 156))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.3)
            painter.setFont(font)
            painter.drawText(self.viewport().rect(), Qt.AlignCenter,
                             "Open a photo (Ctrl+O)\nor drop one here")
        painter.end()

    def _paint_image(self, painter: QPainter, exposed: QRectF) -> None:
        o, z = self.origin(), self.zoom
        width, height = self.image_size
        img_rect = QRectF((exposed.left() - o.x()) / z, (exposed.top() - o.y()) / z,
                          exposed.width() / z, exposed.height() / z)
        img_rect = img_rect.intersected(QRectF(0, 0, width, height))
        if img_rect.isEmpty():
            return
        # whole pixels, so the source and target edges stay exact
        x0, y0 = math.floor(img_rect.left()), math.floor(img_rect.top())
        x1, y1 = min(width, math.ceil(img_rect.right())), min(height, math.ceil(img_rect.bottom()))
        target = QRectF(o.x() + x0 * z, o.y() + y0 * z, (x1 - x0) * z, (y1 - y0) * z)
        if self.display.has_alpha:
            self._paint_checkers(painter, target)
        self._paint_photo(painter, self.display, x0, y0, x1, y1, target)
        split_x = None
        if self.compare_mode == "original":
            self._paint_originals(painter, None)
            self._paint_layers(painter, img_rect, o, z, mask=False)
            return
        if self.compare_mode == "split":
            split_x = round(self.viewport().width() / 2)
            self._paint_originals(painter, QRectF(0, 0, split_x, self.viewport().height()))
        self._paint_layers(painter, img_rect, o, z, mask=True)
        if split_x is not None:
            painter.setPen(QPen(QColor(255, 255, 255, 200), 1))
            painter.drawLine(split_x, 0, split_x, self.viewport().height())
        if self.tool is not None:
            self.tool.paint(self, painter)

    def _paint_originals(self, painter: QPainter, clip: Optional[QRectF]) -> None:
        if not self._originals:
            return
        painter.save()
        if clip is not None:
            painter.setClipRect(clip, Qt.IntersectClip)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, self.zoom < 1)
        o, z = self.origin(), self.zoom
        for box, image, _ in reversed(self._originals):
            painter.drawImage(QRectF(o.x() + box.x0 * z, o.y() + box.y0 * z, box.width * z, box.height * z), image)
        painter.restore()

    def _paint_layers(self, painter, img_rect, o, z, mask: bool) -> None:
        if mask:
            self.avoid_overlay.paint(painter, img_rect, z, o.x(), o.y())
            self.mask_overlay.paint(painter, img_rect, z, o.x(), o.y())
            self.proposal_overlay.paint(painter, img_rect, z, o.x(), o.y())
        self.sketch_overlay.paint(painter, img_rect, z, o.x(), o.y())

    def _paint_photo(self, painter, display, x0, y0, x1, y1, target) -> None:
        factor, image = display.level(self.zoom)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, factor > 1 or self.zoom < 1)
        source = QRectF(x0 / factor, y0 / factor, (x1 - x0) / factor, (y1 - y0) / factor)
        painter.drawImage(target, image, source)

    @staticmethod
    def _paint_checkers(painter: QPainter, target: QRectF) -> None:
        global _CHECKERS
        if _CHECKERS is None:
            _CHECKERS = QPixmap(16, 16)
            _CHECKERS.fill(QColor(200, 200, 200))
            p = QPainter(_CHECKERS)
            p.fillRect(0, 0, 8, 8, QColor(240, 240, 240))
            p.fillRect(8, 8, 8, 8, QColor(240, 240, 240))
            p.end()
        painter.fillRect(target, QBrush(_CHECKERS))


_CHECKERS: Optional[QPixmap] = None
