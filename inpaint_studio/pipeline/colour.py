"""Low-frequency colour correction of a fill against its surroundings.

The fill's colour just inside the hole border is compared with the known colour just
outside it (both averaged along the border with a wide Gaussian, so texture and noise
cancel out). The difference is spread smoothly over the hole as a membrane (harmonic)
interpolation and added to the fill: a gradient-domain blend of the fill's own detail
onto the surrounding colours. Everything is solved on a block-averaged copy of the hole's
neighbourhood, since the correction is smooth by construction. Only hole pixels change.
"""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from inpaint_studio.core.types import BBox
from inpaint_studio.pipeline.resize import resize_part

WORK_SIZE = 256  # blocks are the smallest integer size that fits the crop's long side in this
BAND = 1  # work-grid blocks on each side of the hole border that are compared
SIGMA = 2.0  # Gaussian along the border, in blocks (tuned on the training photos)
LIMIT = 40.0  # largest correction per channel (0-255): wrong content gets a tint, not a smear


def membrane(values: np.ndarray, fixed: np.ndarray, iterations: int = 40) -> np.ndarray:
    """Harmonic interpolation: smooth float32 (H, W, C) field equal to ``values`` where
    ``fixed`` is True (free borders). Coarse-to-fine Jacobi, so the cost is linear."""
    values = values.astype(np.float32, copy=False)
    h, w = fixed.shape
    if not fixed.any():
        return np.zeros_like(values)
    field: np.ndarray
    if min(h, w) <= 8:
        field = np.broadcast_to(values[fixed].mean(axis=0), values.shape).copy()
    else:
        ch, cw = (h + 1) // 2, (w + 1) // 2
        weight = fixed.astype(np.float32)
        wsum = cv2.resize(weight, (cw, ch), interpolation=cv2.INTER_AREA)
        vsum = cv2.resize(values * weight[..., None], (cw, ch), interpolation=cv2.INTER_AREA)
        vsum = vsum.reshape(ch, cw, -1)
        coarse_fixed = wsum > 0
        coarse = np.zeros_like(vsum)
        coarse[coarse_fixed] = vsum[coarse_fixed] / wsum[coarse_fixed][:, None]
        field = cv2.resize(membrane(coarse, coarse_fixed, iterations), (w, h),
                           interpolation=cv2.INTER_LINEAR).reshape(values.shape)
    kernel = np.array([[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], np.float32)
    pinned = values[fixed]
    for _ in range(iterations):
        field = cv2.filter2D(field, -1, kernel, borderType=cv2.BORDER_REPLICATE).reshape(values.shape)
        field[fixed] = pinned
    return field


def _norm_blur(values: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    num = cv2.GaussianBlur(values * weight[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    return num / np.maximum(den, 1e-6)[..., None], den


def _blocks(a: np.ndarray, f: int) -> np.ndarray:
    """Mean over f x f blocks (the array's sides are multiples of f)."""
    if f == 1:
        return a.astype(np.float32)
    h, w = a.shape[:2]
    out = cv2.resize(a.astype(np.float32), (w // f, h // f), interpolation=cv2.INTER_AREA)
    return out.reshape((h // f, w // f) + a.shape[2:])


def match_colour(image: np.ndarray, hole: np.ndarray, filled: np.ndarray, *,
                 exclude: Optional[np.ndarray] = None, band: int = BAND,
                 sigma: float = SIGMA, limit: float = LIMIT) -> np.ndarray:
    """Return ``filled`` (uint8 (H, W, 3)) with its low-frequency colour inside ``hole``
    pulled towards ``image``'s colour around the hole. ``exclude`` (bool) marks known
    pixels not to trust (other holes, avoid areas). Inputs are not modified. The border
    differences, and so the correction, are clipped to +-``limit`` per channel.

    The work grid has f x f blocks (f the smallest integer that fits the crop's long side
    in ``WORK_SIZE``) and covers only the hole's box grown by the reach of the blur.
    """
    out: np.ndarray = filled.copy()
    if not hole.any():
        return out
    h, w = hole.shape
    f = max(1, -(-max(h, w) // WORK_SIZE))
    hb = BBox.of_mask(hole)
    reach = (band + 2 + int(np.ceil(3 * sigma))) * f
    area = hb.grow(reach).clip(w, h)
    x0, y0 = area.x0 // f * f, area.y0 // f * f  # blocks aligned to the crop's grid
    rh, rw = -(-(area.y1 - y0) // f) * f, -(-(area.x1 - x0) // f) * f
    pad = ((0, y0 + rh - area.y1), (0, x0 + rw - area.x1))
    sl = (slice(y0, area.y1), slice(x0, area.x1))
    known = ~hole[sl] if exclude is None else ~hole[sl] & ~exclude[sl]
    # Padding counts as neither known nor hole; only whole (unmixed) blocks count on each side.
    w_known = _blocks(np.pad(known, pad), f)
    w_fill = _blocks(np.pad(hole[sl], pad), f)
    k_small = w_known > 0.999
    f_small = w_fill > 0.999
    if not k_small.any() or not f_small.any():
        return out
    img_small = _blocks(np.pad(image[sl], pad + ((0, 0),), mode="edge"), f)
    fill_small = _blocks(np.pad(filled[sl], pad + ((0, 0),), mode="edge"), f)
    near = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
    hole_small = w_fill > 0
    outer = k_small & (cv2.dilate(hole_small.astype(np.uint8), near) > 0)
    inner = f_small & (cv2.dilate((w_fill < 1).astype(np.uint8), near) > 0)
    if not outer.any() or not inner.any():
        return out
    known_mean, _ = _norm_blur(img_small, outer.astype(np.float32), sigma)
    fill_mean, fill_den = _norm_blur(fill_small, inner.astype(np.float32), sigma)
    # Pin the difference on the outer ring, where a fill border is close enough to compare.
    pin = outer & (fill_den > 1e-3 * fill_den.max())
    if not pin.any():
        return out
    diff = np.zeros_like(img_small)
    diff[pin] = np.clip(known_mean[pin] - fill_mean[pin], -limit, limit)
    correction = membrane(diff, pin)
    # only the hole's box is resized back up and applied
    box = BBox(hb.x0 - x0, hb.y0 - y0, hb.x1 - x0, hb.y1 - y0)
    big = resize_part(correction, rh, rw, box, cv2.INTER_LINEAR)
    fixed = cv2.add(filled[hb.slices], big, dtype=cv2.CV_8U)  # rounds and saturates
    np.copyto(out[hb.slices], fixed, where=hole[hb.slices][..., None])
    return out
