"""Undoable edits for object removal: the sampling area ("avoid" layer) and smart selections.

- ``AvoidStroke``: brush/eraser stroke on the avoid layer (like MaskStroke);
- ``SampleMode.apply(doc, only)``: switch between "exclude the painted area" and "sample
  only from the painted area"; a painted layer is inverted so the area a fill may sample
  stays the same (an empty one stays empty); one step, None if already in that mode;
- ``PaintRegion.apply(doc, box, part, add=True, text=..., layer="mask")``: add (or, with
  ``add=False``, subtract) the bool ``part`` (box-sized) to a layer; None if nothing changed.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from inpaint_studio.commands.diffs import RegionDiff
from inpaint_studio.commands.edits import DiffCommand, Stroke, _edit
from inpaint_studio.core import raster
from inpaint_studio.core.document import Document
from inpaint_studio.core.types import BBox


class AvoidStroke(Stroke):
    LAYER = "avoid"
    TEXTS = ("Sampling area erase", "Sampling area stroke")


class SampleMode(DiffCommand):
    """The mode flag flip plus the (possible) inversion of the layer."""

    def __init__(self, text: str, diffs: Sequence[RegionDiff], only: bool) -> None:
        super().__init__(text, diffs)
        self.only = only

    @classmethod
    def apply(cls, doc: Document, only: bool) -> Optional["SampleMode"]:
        only = bool(only)
        if doc.avoid_only == only:
            return None
        diffs = []
        if doc.avoid.any():
            diffs.append(_edit(doc, "avoid", doc.bounds, raster.invert))
        doc.avoid_only = only
        doc.notify("avoid", doc.bounds)  # the overlay's colour follows the mode
        return cls("Sample only from painted area" if only else "Exclude painted area from sampling",
                   [d for d in diffs if d is not None], only)

    def _flag(self, doc: Document, only: bool) -> None:
        doc.avoid_only = only
        doc.notify("avoid", doc.bounds)

    def undo(self, doc: Document) -> None:
        super().undo(doc)
        self._flag(doc, not self.only)

    def redo(self, doc: Document) -> None:
        super().redo(doc)
        self._flag(doc, self.only)


class PaintRegion(DiffCommand):
    @classmethod
    def apply(cls, doc: Document, box: BBox, part: np.ndarray, add: bool = True, text: str = "Selection",
              layer: str = "mask") -> Optional["PaintRegion"]:
        part = np.asarray(part, dtype=bool)
        if part.shape != (box.height, box.width):
            raise ValueError(f"region {part.shape} does not fit {box}")
        clipped = box.clip(doc.width, doc.height)
        if clipped.empty or not part.any():
            return None
        local = part[clipped.y0 - box.y0:clipped.y1 - box.y0, clipped.x0 - box.x0:clipped.x1 - box.x0]

        def paint(arr: np.ndarray) -> BBox:
            view = arr[clipped.slices]
            if add:
                view |= local
            else:
                view &= ~local
            return clipped

        diff = _edit(doc, layer, clipped, paint)
        if diff is None or diff.empty:
            return None
        return cls(f"{text} {'add' if add else 'subtract'}", [diff])
