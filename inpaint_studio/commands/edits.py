"""Undoable edits of a Document. Each one is applied when built, then pushed.

Every command has ``text`` (shown in the history panel), ``undo(doc)``,
``redo(doc)``, ``nbytes``, ``merge_id`` and ``merge(other) -> bool`` (Qt's
QUndoCommand vocabulary; History.push does NOT call redo, the edit is already done).
Builders return None when nothing changed (push(None) is ignored).

Interactive strokes (mask brush/eraser, sketch pen/eraser)::

    stroke = MaskStroke.begin(doc, radius=20, value=True, hardness=1.0)
    box = stroke.add_segment(p0, p1)   # paints, notifies doc, returns dirty box
    ...                                # (a click is add_segment(p, p))
    history.push(stroke.end())         # one step; None if nothing changed
    # or stroke.cancel() to put the pixels back

After end()/cancel(), or once the document was replaced, the stroke is dead:
add_segment returns an empty box, end() returns None, cancel() does nothing.

One-shot edits (all paint, notify and return the command or None):

- ``Lasso.apply(doc, points, add=True, text=None)``: freehand or polygon lasso;
- ``RectSelect.apply(doc, x0, y0, x1, y1, add=True)``;
- ``MaskOp.apply(doc, op, n=0, mask=None, layer="mask")``, op in "clear",
  "invert", "grow", "shrink", "import" (import needs ``mask``; repeated
  grow/shrink steps merge into one);
- ``ApplyFill.apply(doc, image, bbox, engine="PatchMatch", used_mask=None,
  clear_sketch=False)``: writes ``image[bbox]`` (a full-size result or a
  bbox-sized patch) into the photo and clears the used mask (all of it when
  None), plus the sketch under it if asked, as one step;
- ``Macro(text, commands)``: several applied commands as one step.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
from numpy.typing import ArrayLike

from inpaint_studio.commands.diffs import RegionDiff
from inpaint_studio.core import raster
from inpaint_studio.core.document import Document
from inpaint_studio.core.errors import UserError
from inpaint_studio.core.types import BBox

TILE = 128  # stroke undo snapshots are taken per tile of this size


class Command:
    """Base: an applied edit that can be undone and redone."""

    text: str = ""
    merge_id: Optional[str] = None

    def undo(self, doc: Document) -> None:
        raise NotImplementedError

    def redo(self, doc: Document) -> None:
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        return 0

    def merge(self, other: "Command") -> bool:
        """Absorb ``other`` (pushed right after self); False if it cannot."""
        return False


class DiffCommand(Command):
    """A command stored as region diffs."""

    def __init__(self, text: str, diffs: Sequence[RegionDiff]) -> None:
        self.text = text
        self.diffs = [d for d in diffs if not d.empty]

    @property
    def bbox(self) -> BBox:
        box = BBox(0, 0, 0, 0)
        for d in self.diffs:
            box = box.union(d.bbox)
        return box

    @property
    def nbytes(self) -> int:
        return sum(d.nbytes for d in self.diffs) + 200

    def undo(self, doc: Document) -> None:
        for d in reversed(self.diffs):
            d.apply(doc)

    def redo(self, doc: Document) -> None:
        for d in self.diffs:
            d.apply(doc)

    def merge(self, other: Command) -> bool:
        if self.merge_id is None or other.merge_id != self.merge_id or not isinstance(other, DiffCommand):
            return False
        by_layer: dict[str, RegionDiff] = {}
        for d in self.diffs + other.diffs:  # XOR diffs commute
            by_layer[d.layer] = RegionDiff.combine(by_layer[d.layer], d) if d.layer in by_layer else d
        self.diffs = [d for d in by_layer.values() if not d.empty]
        self._merged(other)
        return True

    def _merged(self, other: Command) -> None:
        """Update text etc. after a merge."""


def _edit(doc: Document, layer: str, box: BBox, paint: Callable[[np.ndarray], BBox]) -> Optional[RegionDiff]:
    """Snapshot ``box`` of a layer, run ``paint(array)``, notify, return the diff."""
    box = box.clip(doc.width, doc.height)
    if box.empty:
        return None
    before = doc.region(layer, box)
    dirty = paint(doc.layer(layer))
    doc.notify(layer, dirty)
    return RegionDiff.between(layer, box, before, doc)


# -- strokes -------------------------------------------------------------------


class Stroke(DiffCommand):
    """A brush stroke built while the user drags; see MaskStroke/SketchStroke."""

    LAYER = "mask"
    TEXTS = ("Eraser stroke", "Brush stroke")  # (value False, value True)

    def __init__(self, doc: Document, radius: float, value: bool = True, hardness: float = 1.0) -> None:
        super().__init__(self.TEXTS[bool(value)], [])
        self.doc = doc
        self.radius = float(radius)
        self.value = bool(value)
        self.hardness = float(hardness)
        self.dirty = BBox(0, 0, 0, 0)
        self._tiles: Optional[dict[tuple[int, int], np.ndarray]] = {}
        self._arr: Optional[np.ndarray] = doc.layer(self.LAYER)  # a replaced document: stale

    def _live(self) -> bool:
        if self._tiles is not None and self.doc.layer(self.LAYER) is not self._arr:
            self._tiles = None  # the photo was replaced under the stroke: drop it
        return self._tiles is not None

    @classmethod
    def begin(cls, doc: Document, radius: float, value: bool = True, hardness: float = 1.0) -> "Stroke":
        return cls(doc, radius, value, hardness)

    @property
    def active(self) -> bool:
        return self._live()

    def add_segment(self, p0: raster.Point, p1: raster.Point) -> BBox:
        """Paint from p0 to p1 (image coords); notify the document; return the dirty box."""
        if not self._live():
            return BBox(0, 0, 0, 0)
        arr, tiles = self._arr, self._tiles
        assert arr is not None and tiles is not None  # live
        loose = raster.segment_bbox(arr.shape, p0, p1, self.radius, self.hardness)
        if loose.empty:
            return loose
        for ty in range(loose.y0 // TILE, (loose.y1 - 1) // TILE + 1):
            for tx in range(loose.x0 // TILE, (loose.x1 - 1) // TILE + 1):
                if (ty, tx) not in tiles:
                    tiles[ty, tx] = arr[ty * TILE:(ty + 1) * TILE, tx * TILE:(tx + 1) * TILE].copy()
        box = raster.stamp_segment(arr, p0, p1, self.radius, self.value, self.hardness)
        self.dirty = self.dirty.union(box)
        self.doc.notify(self.LAYER, box)
        return box

    def end(self) -> Optional["Stroke"]:
        """Finish: return self as one undo step, or None if no pixel changed."""
        if not self._live():
            return None
        arr, tiles = self._arr, self._tiles
        assert arr is not None and tiles is not None  # live
        diffs = []
        for (ty, tx), before in tiles.items():
            box = BBox(tx * TILE, ty * TILE, tx * TILE + before.shape[1], ty * TILE + before.shape[0])
            if not box.intersect(self.dirty).empty:
                diffs.append(RegionDiff(self.LAYER, box, before, arr[box.slices]))
        self._tiles = None
        self.diffs = [d for d in diffs if not d.empty]
        self._arr = None
        return self if self.diffs else None

    def cancel(self) -> None:
        """Put back the pixels painted so far; the stroke is then dead."""
        if not self._live():
            return
        arr, tiles = self._arr, self._tiles
        assert arr is not None and tiles is not None  # live
        for (ty, tx), before in tiles.items():
            arr[ty * TILE:ty * TILE + before.shape[0], tx * TILE:tx * TILE + before.shape[1]] = before
        self._tiles, self._arr = None, None
        self.doc.notify(self.LAYER, self.dirty)


class MaskStroke(Stroke):
    LAYER = "mask"
    TEXTS = ("Eraser stroke", "Brush stroke")


class SketchStroke(Stroke):
    LAYER = "sketch"
    TEXTS = ("Sketch erase", "Sketch line")


# -- one-shot mask edits --------------------------------------------------------


class Lasso(DiffCommand):
    @classmethod
    def apply(cls, doc: Document, points: ArrayLike, add: bool = True,
              text: Optional[str] = None) -> Optional["Lasso"]:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        box = raster.polygon_bbox(doc.mask.shape, pts)
        diff = _edit(doc, "mask", box, lambda m: raster.fill_polygon(m, pts, add))
        if diff is None:
            return None
        return cls(text or ("Lasso add" if add else "Lasso subtract"), [diff])


class RectSelect(DiffCommand):
    @classmethod
    def apply(cls, doc: Document, x0: float, y0: float, x1: float, y1: float,
              add: bool = True) -> Optional["RectSelect"]:
        box = raster.rect_bbox(doc.mask.shape, x0, y0, x1, y1)
        diff = _edit(doc, "mask", box, lambda m: raster.fill_rect(m, x0, y0, x1, y1, add))
        if diff is None:
            return None
        return cls("Rectangle add" if add else "Rectangle subtract", [diff])


class MaskOp(DiffCommand):
    OPS = ("clear", "invert", "grow", "shrink", "import")

    def __init__(self, text: str, diffs: Sequence[RegionDiff], op: str, n: int, layer: str) -> None:
        super().__init__(text, diffs)
        self.op, self.n, self.layer = op, n, layer
        self.merge_id = f"{layer}:{op}" if op in ("grow", "shrink") else None

    @staticmethod
    def describe(op: str, n: int, layer: str) -> str:
        what = "mask" if layer == "mask" else "sketch"
        if op in ("grow", "shrink"):
            return f"{op.capitalize()} {what} {n} px"
        return f"{op.capitalize()} {what}"

    @classmethod
    def apply(cls, doc: Document, op: str, n: int = 0, mask: Optional[np.ndarray] = None,
              layer: str = "mask") -> Optional["MaskOp"]:
        if op not in cls.OPS:
            raise ValueError(f"unknown mask op '{op}'")
        n = int(n)
        arr = doc.layer(layer)
        used = BBox.of_mask(arr)
        if op == "grow":
            box, paint = used.grow(n), lambda m: raster.grow(m, n)
        elif op == "shrink":
            box, paint = used, lambda m: raster.shrink(m, n)
        elif op == "clear":
            box, paint = used, raster.clear
        elif op == "invert":
            box, paint = doc.bounds, raster.invert
        else:
            if mask is None or np.shape(mask) != arr.shape:
                raise UserError(f"the mask is {_size(mask)} but the photo is "
                                f"{doc.width}x{doc.height}")
            new = np.asarray(mask, dtype=bool)
            box = used.union(BBox.of_mask(new))

            def paint(m: np.ndarray) -> BBox:
                m[box.slices] = new[box.slices]
                return box
        diff = _edit(doc, layer, box, paint)
        if diff is None:
            return None
        return cls(cls.describe(op, n, layer), [diff], op, n, layer)

    def _merged(self, other: Command) -> None:
        assert isinstance(other, MaskOp)  # merge_id matches only MaskOps
        self.n += other.n
        self.text = self.describe(self.op, self.n, self.layer)


def _size(mask: Optional[np.ndarray]) -> str:
    shape: tuple[int, ...] = np.shape(mask) if mask is not None else ()
    return f"{shape[1]}x{shape[0]}" if len(shape) >= 2 else "missing"


class ApplyFill(DiffCommand):
    @classmethod
    def apply(cls, doc: Document, image: np.ndarray, bbox: BBox, engine: str = "PatchMatch",
              used_mask: Optional[np.ndarray] = None, clear_sketch: bool = False) -> Optional["ApplyFill"]:
        box = bbox.clip(doc.width, doc.height)
        if image.shape[:2] == (doc.height, doc.width):
            patch = image[box.slices]
        elif image.shape[:2] == (box.height, box.width):
            patch = image
        else:
            raise ValueError(f"fill result {image.shape} fits neither the photo nor {box}")
        if patch.shape[2:] != doc.image.shape[2:] or patch.dtype != doc.image.dtype:
            raise ValueError(f"fill result {patch.shape} {patch.dtype} does not match the photo")
        found: list[Optional[RegionDiff]] = []
        if not box.empty:
            found.append(_edit(doc, "image", box, lambda a: _write(a, box, patch)))
        used = doc.mask if used_mask is None else np.asarray(used_mask, dtype=bool)
        clear = BBox.of_mask(used)
        keep = ~used[clear.slices]
        layers = ("mask", "sketch") if clear_sketch else ("mask",)
        for name in layers:
            found.append(_edit(doc, name, clear, lambda m: _clear(m, clear, keep)))
        diffs = [d for d in found if d is not None]
        return cls(f"Fill ({engine})", diffs) if diffs else None


def _write(arr: np.ndarray, box: BBox, patch: np.ndarray) -> BBox:
    arr[box.slices] = patch
    return box


def _clear(m: np.ndarray, box: BBox, keep: np.ndarray) -> BBox:
    m[box.slices] &= keep
    return box


def touches(cmd: Command, layer: str) -> bool:
    """Whether a command changed ``layer`` (unknown kinds of command: assumed so)."""
    if isinstance(cmd, DiffCommand):
        return any(d.layer == layer for d in cmd.diffs)
    if isinstance(cmd, Macro):
        return any(touches(c, layer) for c in cmd.commands)
    return True


class Macro(Command):
    """Several already-applied commands as one step (undone last-first)."""

    def __init__(self, text: str, commands: Sequence[Command]) -> None:
        self.text = text
        self.commands = [c for c in commands if c is not None]

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.commands) + 100

    def undo(self, doc: Document) -> None:
        for c in reversed(self.commands):
            c.undo(doc)

    def redo(self, doc: Document) -> None:
        for c in self.commands:
            c.redo(doc)
