"""Composite an engine's RGB uint8 fill into the original image.

Only pixels with alpha > 0 change; alpha 1 (the hole) takes the fill exactly, the
optional feather band ramps down outside the hole. Extra channels (alpha) never change.
uint16 images get the fill scaled by 257 (0..255 -> 0..65535, ``core.pixels.to16``).
"""
from __future__ import annotations

import re
from typing import Optional, Union

import cv2
import numpy as np

from inpaint_studio.core.errors import BadInput
from inpaint_studio.core.pixels import to_dtype
from inpaint_studio.core.settings import MAX_FEATHER
from inpaint_studio.core.types import BBox

Feather = Union[int, str]  # pixels 0..MAX_FEATHER, or "auto" (auto_feather)


def parse_feather(value: object, what: str = "feather") -> Feather:
    """``value`` as a feather: a whole number of pixels from 0 to ``MAX_FEATHER`` (an int
    or a string of digits) or "auto"; BadInput naming ``what`` otherwise."""
    if value == "auto":
        return "auto"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pixels: Optional[int] = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value):
        pixels = int(value)
    else:
        pixels = None
    if pixels is None or not 0 <= pixels <= MAX_FEATHER:
        raise BadInput(f"{what} must be a number of pixels from 0 to {MAX_FEATHER} or auto, "
                       f"got '{value}'")
    return pixels


def feather_alpha(hole: np.ndarray, feather: int) -> np.ndarray:
    """float32 weights: 1 in the hole, 1 - d / (feather + 1) at distance d outside it.

    So the band is the pixels closer than ``feather + 1`` to the hole (exact Euclidean
    distance); ``feather_band`` gives the same set without computing distances.
    """
    if feather <= 0 or not hole.any():
        return hole.astype(np.float32)
    dist = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    alpha: np.ndarray = np.clip(1.0 - dist / (feather + 1.0), 0.0, 1.0).astype(np.float32)
    return alpha


def feather_band(hole: np.ndarray, feather: int) -> np.ndarray:
    """Hole plus every pixel closer than ``feather + 1`` to it (where feather_alpha > 0)."""
    if feather <= 0:
        band: np.ndarray = hole.copy()
        return band
    r = int(feather) + 1
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    disk = (x * x + y * y < r * r).astype(np.uint8)
    out = np.zeros_like(hole)
    area = BBox.of_mask(hole).grow(r).clip(hole.shape[1], hole.shape[0])
    if not area.empty:
        out[area.slices] = cv2.dilate(hole[area.slices].astype(np.uint8), disk).astype(bool)
    return out


AUTO_FEATHER_PIXELS = 400  # feather "auto": one pixel of blend per this many of the long side


def auto_feather(height: int, width: int) -> int:
    """Blend band for a photo of this size: 0 below 200 px, 2 at 1000 px, 10 at 4000 px."""
    return int(round(max(height, width) / AUTO_FEATHER_PIXELS))


def composite(base: np.ndarray, fill: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """New copy of ``base`` (H, W, 3|4) with ``fill`` (H, W, 3 uint8) blended by ``alpha``.

    ``alpha`` is bool or float in 0..1 (H, W). Pixels with alpha 0 are bit-identical.
    """
    out: np.ndarray = base.copy()
    if alpha.dtype == np.bool_:
        full, part = alpha, np.zeros_like(alpha)
    else:
        full, part = alpha >= 1.0, (alpha > 0) & (alpha < 1.0)
    src = to_dtype(fill, base.dtype)
    out[..., :3][full] = src[full]
    if part.any():
        a = alpha[part][:, None]
        mixed = base[..., :3][part] * (1.0 - a) + src[part] * a
        out[..., :3][part] = np.rint(mixed).astype(base.dtype)
    return out
