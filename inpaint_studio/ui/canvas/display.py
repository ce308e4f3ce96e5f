"""A display copy of the photo (QImage, 8-bit) plus a half-size pyramid for zoomed-out views.

Only the changed box is reconverted when pixels change (e.g. after a fill).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage, QPainter

from inpaint_studio.core.pixels import to8
from inpaint_studio.core.types import BBox

MIN_LEVEL_SIDE = 256


def to_display(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 3|4) uint8/uint16 -> (H, W, 4) uint8 in QImage's 32-bit BGRA byte order.

    16-bit pixels are shown by ``core.pixels.to8``, the rounding a save to JPEG uses.
    """
    if pixels.dtype in (np.uint8, np.uint16):
        pixels = to8(pixels)
    else:
        pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    out = np.empty(pixels.shape[:2] + (4,), np.uint8)
    out[..., 0] = pixels[..., 2]
    out[..., 1] = pixels[..., 1]
    out[..., 2] = pixels[..., 0]
    out[..., 3] = pixels[..., 3] if pixels.shape[2] == 4 else 255
    return out


class DisplayImage:
    """Full-resolution QImage of a photo array plus smooth 1/2, 1/4, ... levels."""

    def __init__(self, pixels: np.ndarray) -> None:
        self.height, self.width = pixels.shape[:2]
        self.has_alpha = pixels.ndim == 3 and pixels.shape[2] == 4
        self._buffer = to_display(pixels)
        fmt = QImage.Format_ARGB32 if self.has_alpha else QImage.Format_RGB32
        self.image = QImage(self._buffer.data, self.width, self.height, self.width * 4, fmt)
        self._levels: dict[int, QImage] = {}

    def update(self, pixels: np.ndarray, box: Optional[BBox] = None) -> None:
        """Reconvert ``box`` (all if None) from ``pixels`` and refresh the pyramid there."""
        if box is None:
            box = BBox(0, 0, self.width, self.height)
        box = box.clip(self.width, self.height)
        if box.empty:
            return
        self._buffer[box.slices] = to_display(pixels[box.slices])
        for factor, level in self._levels.items():
            self._refresh_level(factor, level, box)

    def level(self, zoom: float) -> tuple[int, QImage]:
        """The coarsest level still at least as sharp as ``zoom`` (factor 1 = full size)."""
        factor = 1
        while zoom * factor * 2 <= 1.0 and min(self.width, self.height) // (factor * 2) >= MIN_LEVEL_SIDE:
            factor *= 2
        if factor == 1:
            return 1, self.image
        if factor not in self._levels:
            self._levels[factor] = self._scaled(QRect(0, 0, self.width, self.height), factor)
        return factor, self._levels[factor]

    def _scaled(self, rect: QRect, factor: int) -> QImage:
        w, h = max(1, rect.width() // factor), max(1, rect.height() // factor)
        src = self.image if rect == QRect(0, 0, self.width, self.height) else self.image.copy(rect)
        return src.scaled(w, h, Qt.IgnoreAspectRatio, Qt.SmoothTransformation).convertToFormat(
            QImage.Format_ARGB32_Premultiplied)

    def _refresh_level(self, factor: int, level: QImage, box: BBox) -> None:
        x0, y0 = box.x0 // factor * factor, box.y0 // factor * factor
        x1 = min(-(-box.x1 // factor) * factor, level.width() * factor)
        y1 = min(-(-box.y1 // factor) * factor, level.height() * factor)
        if x1 <= x0 or y1 <= y0:
            return
        patch = self._scaled(QRect(x0, y0, x1 - x0, y1 - y0), factor)
        painter = QPainter(level)
        painter.setCompositionMode(QPainter.CompositionMode_Source)
        painter.drawImage(x0 // factor, y0 // factor, patch)
        painter.end()
