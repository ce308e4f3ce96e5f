"""Pad crops on the bottom/right to a multiple of the engine's ``pad_multiple``.

The image and the hole/avoid masks are mirrored the same way, so a padded pixel is
hole exactly when its mirror source is: object pixels never show up as known context.
The sketch is padded with False (no guide lines in the padding).
"""
from __future__ import annotations

from typing import Optional

import numpy as np


def padded_size(height: int, width: int, multiple: int) -> tuple[int, int]:
    m = max(1, int(multiple))
    return -(-height // m) * m, -(-width // m) * m


def pad_to(array: np.ndarray, height: int, width: int, mirror: bool = True) -> np.ndarray:
    """Pad a 2-D or 3-D array on the bottom/right to (height, width)."""
    ph, pw = height - array.shape[0], width - array.shape[1]
    if ph == 0 and pw == 0:
        return array
    spec = [(0, ph), (0, pw)] + [(0, 0)] * (array.ndim - 2)
    if mirror:
        return np.pad(array, spec, mode="symmetric")
    return np.pad(array, spec, mode="constant")


def pad_inputs(image: np.ndarray, hole: np.ndarray, sketch: Optional[np.ndarray],
               avoid: Optional[np.ndarray], multiple: int
               ) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]:
    """Pad image/hole/sketch/avoid to a multiple; returns the four padded arrays."""
    h, w = hole.shape
    ph, pw = padded_size(h, w, multiple)
    return (pad_to(image, ph, pw), pad_to(hole, ph, pw),
            None if sketch is None else pad_to(sketch, ph, pw, mirror=False),
            None if avoid is None else pad_to(avoid, ph, pw))


def unpad(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Undo ``pad_to``: the top-left (height, width) part."""
    return array[:height, :width]
