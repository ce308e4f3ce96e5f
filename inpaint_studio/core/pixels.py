"""Bit depths: the one place where 16-bit pixels become 8-bit and back (numpy only).

One rounding rule everywhere (screen, saving to an 8-bit format, masks, engines):
``to8`` gives the *nearest* 8-bit value, ``floor(x * 255 / 65535 + 0.5)``, computed exactly
in integers as ``(x + 128) // 257``. A 16-bit value is never exactly halfway between two
8-bit steps (that would need ``2x + 257`` divisible by 514), so no tie rule is needed.
``to16`` scales by 257 (0 -> 0, 255 -> 65535), and ``to8(to16(v)) == v`` for every 8-bit v.
The 8-bit value k covers the 16-bit values ``257k - 128 ... 257k + 128``.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray


def to8(pixels: ArrayLike) -> NDArray[np.uint8]:
    """uint8 or uint16 -> uint8 (nearest value); uint8 comes back as it is, not copied."""
    arr = np.asarray(pixels)
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype != np.uint16:
        raise TypeError(f"pixels must be uint8 or uint16, got {arr.dtype}")
    return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)


def to16(pixels: ArrayLike) -> NDArray[np.uint16]:
    """uint8 or uint16 -> uint16 (x 257: full range onto full range); uint16 as it is."""
    arr = np.asarray(pixels)
    if arr.dtype == np.uint16:
        return arr
    if arr.dtype != np.uint8:
        raise TypeError(f"pixels must be uint8 or uint16, got {arr.dtype}")
    out = arr.astype(np.uint16)
    out *= np.uint16(257)
    return out


def to_dtype(pixels: ArrayLike, dtype: DTypeLike) -> NDArray[np.generic]:
    """uint8/uint16 pixels in ``dtype`` (uint8 or uint16), by ``to8``/``to16``."""
    if np.dtype(dtype) == np.uint16:
        return to16(pixels)
    if np.dtype(dtype) == np.uint8:
        return to8(pixels)
    raise TypeError(f"pixel dtype must be uint8 or uint16, got {np.dtype(dtype)}")


def as_channels(pixels: ArrayLike) -> NDArray[np.generic]:
    """(H, W), (H, W, 1|3|4) uint8/uint16 -> (H, W, 3|4); ValueError for anything else."""
    arr = np.asarray(pixels)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or arr.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"pixels must be (H, W[, 3|4]) uint8 or uint16, got {arr.dtype} {arr.shape}")
    if arr.shape[2] == 1:
        arr = arr[..., [0, 0, 0]]
    return arr


def to_rgb8(pixels: ArrayLike) -> NDArray[np.uint8]:
    """(H, W[, 3|4]) uint8/uint16 -> contiguous RGB uint8 (H, W, 3): alpha dropped, ``to8``."""
    return np.ascontiguousarray(to8(as_channels(pixels)[..., :3]))
