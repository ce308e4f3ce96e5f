"""A bool layer (mask or sketch) drawn as coloured tiles; only dirty tiles are rebuilt.

Tiles exist only where the layer has pixels, so memory follows the painted area.
Opacity is applied when drawing, so changing it costs nothing.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from inpaint_studio.core.types import BBox

TILE = 256


class LayerOverlay:
    def __init__(self, color: QColor, opacity: float = 0.5, visible: bool = True) -> None:
        self.color = QColor(color)
        self.opacity = opacity
        self.visible = visible
        self._tiles: dict[tuple[int, int], tuple[np.ndarray, QImage]] = {}
        self._layer: Optional[np.ndarray] = None

    @property
    def tile_count(self) -> int:
        return len(self._tiles)

    def set_layer(self, layer: Optional[np.ndarray]) -> None:
        """Attach a (H, W) bool array and rebuild every tile."""
        self._layer = layer
        self._tiles.clear()
        if layer is not None:
            self.update(BBox(0, 0, layer.shape[1], layer.shape[0]))

    def set_color(self, color: QColor) -> None:
        self.color = QColor(color)
        self.set_layer(self._layer)

    def _argb(self) -> np.uint32:
        c = self.color
        return np.uint32((255 << 24) | (c.red() << 16) | (c.green() << 8) | c.blue())

    def update(self, box: Optional[BBox]) -> None:
        """Re-render the tiles touching ``box`` from the attached layer."""
        layer = self._layer
        if layer is None:
            return
        height, width = layer.shape
        box = BBox(0, 0, width, height) if box is None else box.clip(width, height)
        if box.empty:
            return
        argb = self._argb()
        for ty in range(box.y0 // TILE, (box.y1 - 1) // TILE + 1):
            for tx in range(box.x0 // TILE, (box.x1 - 1) // TILE + 1):
                tile_box = BBox(tx * TILE, ty * TILE, min((tx + 1) * TILE, width), min((ty + 1) * TILE, height))
                part = tile_box.intersect(box)
                region = layer[part.slices]
                tile = self._tiles.get((tx, ty))
                if tile is None:
                    if not region.any():
                        continue
                    tile = self._new_tile(tile_box)
                    self._tiles[(tx, ty)] = tile
                local = (slice(part.y0 - tile_box.y0, part.y1 - tile_box.y0),
                         slice(part.x0 - tile_box.x0, part.x1 - tile_box.x0))
                tile[0][local] = np.where(region, argb, np.uint32(0))
                if part == tile_box and not region.any():
                    del self._tiles[(tx, ty)]

    @staticmethod
    def _new_tile(box: BBox) -> tuple[np.ndarray, QImage]:
        buf = np.zeros((box.height, box.width), np.uint32)
        image = QImage(buf.data, box.width, box.height, box.width * 4, QImage.Format_ARGB32_Premultiplied)
        return buf, image

    def paint(self, painter: QPainter, image_rect: QRectF, zoom: float, origin_x: float, origin_y: float) -> None:
        """Draw tiles meeting ``image_rect`` (image coordinates) with the view transform."""
        if not self.visible or not self._tiles:
            return
        painter.save()
        painter.setOpacity(self.opacity)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
        tx0, ty0 = int(max(0, image_rect.left()) // TILE), int(max(0, image_rect.top()) // TILE)
        tx1, ty1 = int(image_rect.right() // TILE), int(image_rect.bottom() // TILE)
        for (tx, ty), (buf, image) in self._tiles.items():
            if tx0 <= tx <= tx1 and ty0 <= ty <= ty1:
                target = QRectF(origin_x + tx * TILE * zoom, origin_y + ty * TILE * zoom,
                                image.width() * zoom, image.height() * zoom)
                painter.drawImage(target, image)
        painter.restore()
