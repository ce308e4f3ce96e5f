"""Resampling for crops: smooth for images, conservative ("mask-safe") for masks.

A shrunk mask is True wherever any source pixel under it was True, then grown by one
pixel, so that growing the fill back to full size never blends in pixels the engine
treated as known: every originally-True pixel stays covered.
"""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from inpaint_studio.core.types import BBox


def native_scale(height: int, width: int, native_size: Optional[int]) -> float:
    """Factor (<= 1) that makes the longer side fit ``native_size``; never upscales."""
    if not native_size or max(height, width) <= native_size:
        return 1.0
    return native_size / max(height, width)


def scaled_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """(height, width) after scaling, at least 1 x 1, never above the scaled bound."""
    return max(1, int(height * scale)), max(1, int(width * scale))


def resize_image(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an (H, W, C) uint8 image: area filter to shrink, bilinear to grow.

    Bilinear (two taps per axis) keeps a grown fill inside the one-pixel safety ring
    that ``resize_mask`` adds, so hole pixels never mix in known-context colours.
    """
    if image.shape[:2] == (height, width):
        same: np.ndarray = image.copy()
        return same
    shrink = height * width < image.shape[0] * image.shape[1]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interp)


def resize_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a bool mask conservatively: True wherever any source pixel was True.

    Shrinking takes the area average > 0 and grows the result by one pixel; growing
    uses the same rule, so a round trip covers every originally-True pixel.
    """
    if mask.shape == (height, width):
        same: np.ndarray = mask.copy()
        return same
    src = mask.astype(np.float32)
    if height * width < mask.shape[0] * mask.shape[1]:
        small = cv2.resize(src, (width, height), interpolation=cv2.INTER_AREA) > 0
        return cv2.dilate(small.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return cv2.resize(src, (width, height), interpolation=cv2.INTER_LINEAR) > 0


def resize_part(image: np.ndarray, height: int, width: int, box: BBox,
                interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """``cv2.resize(image, (width, height))[box.slices]`` without resizing the rest:
    the same pixel-centre mapping, computed for ``box`` only (borders replicated)."""
    sy, sx = image.shape[0] / height, image.shape[1] / width
    ys = ((np.arange(box.y0, box.y1, dtype=np.float32) + 0.5) * sy - 0.5)
    xs = ((np.arange(box.x0, box.x1, dtype=np.float32) + 0.5) * sx - 0.5)
    map_x = np.broadcast_to(xs[None, :], (box.height, box.width))
    map_y = np.broadcast_to(ys[:, None], (box.height, box.width))
    out = cv2.remap(image, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y), interpolation,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.reshape((box.height, box.width) + image.shape[2:])
