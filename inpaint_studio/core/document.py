"""The open photo and its editable layers.

``Document(image, picture=None, path=None)`` holds four layers, all (H, W):

- ``image``: the photo pixels, (H, W, 3|4) uint8 or uint16 (alpha and 16-bit kept);
- ``mask``: bool, True = hole to fill;
- ``sketch``: bool, guide lines for engines that use them;
- ``avoid``: bool, the sampling area: never sample from it, or (``avoid_only`` True)
  sample only from it; ``sample_exclusion()`` gives what a fill must not sample;

plus ``picture`` (opaque metadata from fileio, passed back when saving),
``path`` and ``modified`` (kept in sync by commands.History: not clean -> modified).

Layers are changed in place by commands; whoever changes pixels calls
``notify(layer, bbox)`` (``write_region`` does it for you). Listeners:

- ``listen(fn)``: ``fn(layer, bbox)`` after any change, layer in ``LAYERS``;
- ``listen_replaced(fn)``: ``fn()`` after ``replace()`` swapped in a new photo;
- both return a function that removes the listener.

Read a copy with ``region(layer, bbox)``; ``layer(name)`` is the live array.
Everything runs on the caller's thread; hand copies to worker threads.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from inpaint_studio.core.types import BBox

LAYERS = ("image", "mask", "sketch", "avoid")

ChangeFn = Callable[[str, BBox], None]


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"image must be an (H, W, 3|4) array, got {getattr(image, 'shape', type(image))}")
    if image.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"image must be uint8 or uint16, got {image.dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError("image is empty")
    return np.ascontiguousarray(image)


def _check_layer(arr: Optional[np.ndarray], shape: tuple[int, int], name: str) -> np.ndarray:
    if arr is None:
        return np.zeros(shape, dtype=bool)
    arr = np.asarray(arr)
    if arr.shape != shape:
        raise ValueError(f"{name} shape {arr.shape} does not match image {shape}")
    out: np.ndarray = np.ascontiguousarray(arr, dtype=bool).copy()
    return out


class Document:
    """Photo + mask + sketch, with change listeners."""

    def __init__(self, image: np.ndarray, picture: Any = None, path: Optional[str | Path] = None,
                 mask: Optional[np.ndarray] = None, sketch: Optional[np.ndarray] = None,
                 avoid: Optional[np.ndarray] = None) -> None:
        self._listeners: list[ChangeFn] = []
        self._replaced: list[Callable[[], None]] = []
        self._set(image, picture, path, mask, sketch, avoid)

    def _set(self, image: np.ndarray, picture: Any, path: Optional[str | Path],
             mask: Optional[np.ndarray], sketch: Optional[np.ndarray],
             avoid: Optional[np.ndarray] = None) -> None:
        self.image = _check_image(image)
        shape = self.image.shape[:2]
        self.mask = _check_layer(mask, shape, "mask")
        self.sketch = _check_layer(sketch, shape, "sketch")
        self.avoid = _check_layer(avoid, shape, "avoid")
        self.avoid_only = False  # True: ``avoid`` marks the only area to sample from
        self.picture = picture
        self.path = Path(path) if path is not None else None
        self.modified = False

    # -- geometry ---------------------------------------------------------
    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def bounds(self) -> BBox:
        return BBox(0, 0, self.width, self.height)

    # -- layers -----------------------------------------------------------
    def layer(self, name: str) -> np.ndarray:
        """The live array of a layer (edit it in place, then notify)."""
        if name not in LAYERS:
            raise ValueError(f"unknown layer '{name}'")
        array: np.ndarray = getattr(self, name)
        return array

    def sample_exclusion(self) -> Optional[np.ndarray]:
        """What a fill must never sample (a copy), or None for no restriction."""
        if not self.avoid.any():
            return None
        return ~self.avoid if self.avoid_only else self.avoid.copy()

    def region(self, name: str, bbox: BBox) -> np.ndarray:
        """Copy of a layer inside ``bbox`` (clipped to the image)."""
        part: np.ndarray = self.layer(name)[bbox.clip(self.width, self.height).slices].copy()
        return part

    def write_region(self, name: str, bbox: BBox, values: np.ndarray) -> None:
        """Write ``values`` (shaped like ``region(name, bbox)``) and notify."""
        box = bbox.clip(self.width, self.height)
        arr = self.layer(name)
        if box.empty:
            return
        arr[box.slices] = values
        self.notify(name, box)

    # -- listeners ----------------------------------------------------------
    def listen(self, fn: ChangeFn) -> Callable[[], None]:
        self._listeners.append(fn)
        return lambda: self._listeners.remove(fn) if fn in self._listeners else None

    def listen_replaced(self, fn: Callable[[], None]) -> Callable[[], None]:
        self._replaced.append(fn)
        return lambda: self._replaced.remove(fn) if fn in self._replaced else None

    def notify(self, name: str, bbox: BBox) -> None:
        """Tell listeners that ``bbox`` of layer ``name`` changed (no-op if empty)."""
        box = bbox.clip(self.width, self.height)
        if box.empty:
            return
        for fn in list(self._listeners):
            fn(name, box)

    def replace(self, image: np.ndarray, picture: Any = None, path: Optional[str | Path] = None,
                mask: Optional[np.ndarray] = None, sketch: Optional[np.ndarray] = None,
                avoid: Optional[np.ndarray] = None) -> None:
        """Swap in a new photo (fresh mask, sketch and avoid unless given); listeners kept."""
        self._set(image, picture, path, mask, sketch, avoid)
        for fn in list(self._replaced):
            fn()
