"""Small shared value types."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from inpaint_studio.core.errors import Cancelled


@dataclass(frozen=True)
class BBox:
    """Half-open pixel box: columns x0..x1-1, rows y0..y1-1."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def empty(self) -> bool:
        return self.x1 <= self.x0 or self.y1 <= self.y0

    @property
    def area(self) -> int:
        return 0 if self.empty else self.width * self.height

    @property
    def slices(self) -> tuple[slice, slice]:
        """Index a (H, W, ...) array: ``arr[box.slices]``."""
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def union(self, other: "BBox") -> "BBox":
        if self.empty:
            return other
        if other.empty:
            return self
        return BBox(min(self.x0, other.x0), min(self.y0, other.y0),
                    max(self.x1, other.x1), max(self.y1, other.y1))

    def intersect(self, other: "BBox") -> "BBox":
        return BBox(max(self.x0, other.x0), max(self.y0, other.y0),
                    min(self.x1, other.x1), min(self.y1, other.y1))

    def grow(self, margin: int) -> "BBox":
        return BBox(self.x0 - margin, self.y0 - margin, self.x1 + margin, self.y1 + margin)

    def clip(self, width: int, height: int) -> "BBox":
        return self.intersect(BBox(0, 0, width, height))

    @staticmethod
    def of_mask(mask: np.ndarray) -> "BBox":
        """Tight box around the True pixels of a 2-D mask (empty box if none)."""
        rows = np.flatnonzero(mask.any(axis=1))
        if rows.size == 0:
            return BBox(0, 0, 0, 0)
        cols = np.flatnonzero(mask.any(axis=0))
        return BBox(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


ProgressFn = Callable[[float, str], None]
"""progress(fraction in 0..1, short message)."""


class CancelToken:
    """Cooperative cancel flag, safe to set from any thread."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise Cancelled if cancel() was called."""
        if self._event.is_set():
            raise Cancelled()


def check_cancel(cancel: Optional[CancelToken]) -> None:
    if cancel is not None:
        cancel.check()


def no_progress(fraction: float, message: str = "") -> None:
    """A progress callback that ignores everything."""
