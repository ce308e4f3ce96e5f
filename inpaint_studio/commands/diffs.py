"""Compact record of one layer's change inside a box.

``RegionDiff(layer, bbox, before, after)``: ``before``/``after`` are the layer's
pixels inside ``bbox`` (bool for "mask"/"sketch", uint8/uint16 for "image").
Only ``before XOR after`` is kept, cropped to the pixels that really changed,
bit-packed for bool layers and zlib-compressed (unchanged pixels cost ~nothing).
XOR is its own inverse, so ``apply(doc)`` both undoes and redoes: it requires the
layer to be in the state on the other side of the change, which a linear history
guarantees as long as every edit goes through it.

- ``diff.bbox``: tight box of the changed pixels (``diff.empty`` if none);
- ``diff.nbytes``: memory held;
- ``diff.apply(doc)``: flip the change and ``doc.notify(layer, bbox)``;
- ``RegionDiff.combine(a, b)``: one diff equal to applying a then b (same layer).
"""
from __future__ import annotations

import zlib
from typing import Optional

import numpy as np

from inpaint_studio.core.document import Document
from inpaint_studio.core.types import BBox

_OVERHEAD = 160  # rough Python object cost per diff


class RegionDiff:
    __slots__ = ("layer", "bbox", "_data", "_packed", "_zipped", "_dtype", "_shape")

    def __init__(self, layer: str, bbox: BBox, before: np.ndarray, after: np.ndarray) -> None:
        if before.shape != after.shape or before.shape[:2] != (bbox.height, bbox.width):
            raise ValueError(f"diff arrays {before.shape}/{after.shape} do not fit {bbox}")
        self.layer = layer
        self._set(bbox, np.bitwise_xor(before, after))

    def _set(self, bbox: BBox, delta: np.ndarray) -> None:
        changed: np.ndarray
        if delta.ndim == 3:
            changed = np.asarray(delta.any(axis=2))
        else:
            changed = delta if delta.dtype == bool else np.asarray(delta != 0)
        tight = BBox.of_mask(changed)
        if tight != BBox(0, 0, bbox.width, bbox.height):
            delta = delta[tight.slices]
        delta = np.ascontiguousarray(delta)
        self.bbox = BBox(bbox.x0 + tight.x0, bbox.y0 + tight.y0,
                         bbox.x0 + tight.x1, bbox.y0 + tight.y1) if not tight.empty else tight
        self._dtype = delta.dtype
        self._shape = delta.shape
        self._packed = delta.dtype == bool
        raw = np.packbits(delta).tobytes() if self._packed else delta.tobytes()
        zipped = zlib.compress(raw, 1) if raw else raw
        self._zipped = len(zipped) < len(raw)
        self._data = zipped if self._zipped else raw

    @property
    def empty(self) -> bool:
        return self.bbox.empty

    @property
    def nbytes(self) -> int:
        return len(self._data) + _OVERHEAD

    def delta(self) -> np.ndarray:
        """The XOR patch for ``bbox``."""
        raw = zlib.decompress(self._data) if self._zipped else self._data
        if self._packed:
            n = int(np.prod(self._shape))
            return np.unpackbits(np.frombuffer(raw, np.uint8), count=n).view(bool).reshape(self._shape)
        return np.frombuffer(raw, self._dtype).reshape(self._shape)

    def apply(self, doc: Document) -> None:
        if self.empty:
            return
        arr = doc.layer(self.layer)
        arr[self.bbox.slices] ^= self.delta()
        doc.notify(self.layer, self.bbox)

    @classmethod
    def combine(cls, first: "RegionDiff", second: "RegionDiff") -> "RegionDiff":
        if first.layer != second.layer:
            raise ValueError("cannot combine diffs of different layers")
        if first.empty:
            return second
        if second.empty:
            return first
        box = first.bbox.union(second.bbox)
        shape = (box.height, box.width) + tuple(first._shape[2:])
        delta = np.zeros(shape, first._dtype)
        for d in (first, second):
            b = d.bbox
            delta[b.y0 - box.y0:b.y1 - box.y0, b.x0 - box.x0:b.x1 - box.x0] ^= d.delta()
        out = cls.__new__(cls)
        out.layer = first.layer
        out._set(box, delta)
        return out

    @classmethod
    def between(cls, layer: str, bbox: BBox, before: np.ndarray, doc: Document) -> Optional["RegionDiff"]:
        """Diff from ``before`` to the layer's current pixels in ``bbox``; None if unchanged."""
        diff = cls(layer, bbox, before, doc.layer(layer)[bbox.slices])
        return None if diff.empty else diff
