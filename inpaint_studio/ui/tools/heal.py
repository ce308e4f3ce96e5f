"""Spot healing (H): paint over a speck or scratch; on release what was painted is filled.

The stroke paints the mask as usual, but is not pushed: ``target.heal(stroke, footprint)``
fills the footprint (the pixels this stroke covered, also where the mask already was) and
pushes stroke + fill as one step, or the editor undoes the stroke if it cannot fill.
"""
from __future__ import annotations

import numpy as np

from inpaint_studio.core import raster
from inpaint_studio.ui.tools.brush import BrushSettings, BrushTool
from inpaint_studio.ui.tools.target import EditTarget


class HealTool(BrushTool):
    def __init__(self, target: EditTarget, settings: BrushSettings) -> None:
        super().__init__(target, settings, "heal", True)
        self._points: list[tuple[float, float]] = []

    def press(self, view, pos, event) -> None:
        if self.target.filling:
            self.target.show_status("Wait for the fill to finish before healing.", 3000)
            return
        super().press(view, pos, event)
        self._points = [(pos.x(), pos.y())]

    def move(self, view, pos, event) -> None:
        if self._stroke is not None:
            self._points.append((pos.x(), pos.y()))
        super().move(view, pos, event)

    def release(self, view, pos, event) -> bool:
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return False
        if pos != self._last:
            stroke.add_segment((self._last.x(), self._last.y()), (pos.x(), pos.y()))
            self._points.append((pos.x(), pos.y()))
        footprint = self.footprint(self.target.document.mask.shape)
        done = stroke.end()
        if done is not None or footprint.any():  # a dab on mask already there still heals it
            self.target.heal(done, footprint)
        return False

    def footprint(self, shape) -> np.ndarray:
        """The pixels the stroke covered: the same stamps on an empty layer."""
        out = np.zeros(shape, bool)
        pts, r, h = self._points, self.radius, self.settings.hardness
        raster.stamp_segment(out, pts[0], pts[0], r, True, h)
        for a, b in zip(pts[:-1], pts[1:]):
            raster.stamp_segment(out, a, b, r, True, h)
        return out
