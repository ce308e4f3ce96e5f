"""Smart selection: an object's mask from a box or a scribble (OpenCV GrabCut, no model).

``select_object(image, box=None, scribble=None, halo=None) -> (BBox, mask)``

- ``box``: (x0, y0, x1, y1) around the object; ``scribble``: (H, W) bool strokes on it
  (sure foreground). Either or both.
- GrabCut runs on a crop around the box, shrunk to at most ``WORK_SIDE`` pixels; the
  edge is then refined at full resolution in a thin band (each band pixel joins the side
  whose local mean colour it is closer to); small islands go, small holes are closed,
  and the result is grown by ``halo`` pixels (default ``halo_for(shape)``).
- Returns the crop's box in image coordinates and a bool mask of that box's size
  (an empty box if nothing was found). The input is never modified.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import cv2
import numpy as np

from inpaint_studio.core import raster
from inpaint_studio.core.errors import UserError
from inpaint_studio.core.pixels import to_rgb8
from inpaint_studio.core.types import BBox

WORK_SIDE = 320  # GrabCut's working size (long side of the crop)
ITERATIONS = 5
MIN_BOX = 4  # a smaller box (image pixels) is refused


def halo_for(shape: tuple[int, ...]) -> int:
    """Pixels to grow a selection by: 3 px, more on big photos (8 px at 6000 px)."""
    return max(3, round(max(shape[:2]) / 750))


def _crop_box(box: BBox, width: int, height: int) -> BBox:
    margin = max(12, round(0.15 * max(box.width, box.height)))
    return box.grow(margin).clip(width, height)


def _grabcut(small: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """GrabCut labels -> soft foreground (float32 0/1)."""
    if not ((seeds == cv2.GC_BGD) | (seeds == cv2.GC_PR_BGD)).any():
        seeds[[0, -1], :] = cv2.GC_BGD  # a box over the whole crop: the rim is background
        seeds[:, [0, -1]] = cv2.GC_BGD
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    try:  # no rect: GrabCut starts from the seeds (OpenCV's stubs insist on one)
        cv2.grabCut(small, seeds, None, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK)  # type: ignore[call-overload]
    except cv2.error:  # one colour everywhere: GrabCut cannot model it
        pass
    soft: np.ndarray = ((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)).astype(np.float32)
    return soft


def _refine(rgb: np.ndarray, coarse: np.ndarray, scale: float) -> np.ndarray:
    """Full-resolution edge: band pixels join the side with the nearer local mean colour."""
    fg = coarse >= 0.5
    r = max(2, math.ceil(1.5 / scale))  # band half-width covers one working pixel
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    sure_fg = cv2.erode(fg.astype(np.uint8), kernel).astype(bool)
    sure_bg = cv2.erode((~fg).astype(np.uint8), kernel).astype(bool)
    band = ~(sure_fg | sure_bg)
    if not band.any() or not sure_fg.any() or not sure_bg.any():
        return fg
    img = rgb.astype(np.float32)
    sigma = 3.0 * r

    def local_mean(sure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = cv2.GaussianBlur(sure.astype(np.float32), (0, 0), sigma)
        s = cv2.GaussianBlur(img * sure[..., None], (0, 0), sigma)
        return s / np.maximum(w, 1e-6)[..., None], w

    mean_fg, w_fg = local_mean(sure_fg)
    mean_bg, w_bg = local_mean(sure_bg)
    d_fg = np.sum((img - mean_fg) ** 2, axis=2)
    d_bg = np.sum((img - mean_bg) ** 2, axis=2)
    known = (w_fg > 1e-3) & (w_bg > 1e-3)
    out = fg.copy()
    pick = band & known
    out[pick] = d_fg[pick] < d_bg[pick]
    smooth: np.ndarray = cv2.medianBlur(out.astype(np.uint8), 3).astype(bool)
    return smooth


def _clean(mask: np.ndarray, keep: Optional[np.ndarray]) -> np.ndarray:
    """Drop islands (keep those touching ``keep`` or >= 20 % of the largest); close
    holes under 5 % of the object."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    wanted = np.zeros(count, bool)
    wanted[1:] = areas >= 0.2 * areas.max()
    if keep is not None:
        wanted[np.unique(labels[keep & mask])] = True
    wanted[0] = False
    out: np.ndarray = wanted[labels]
    holes = ~out
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), connectivity=4)
    h, w = out.shape
    limit = 0.05 * out.sum()
    for i in range(1, count):
        x, y, bw, bh, area = stats[i]
        if area < limit and x > 0 and y > 0 and x + bw < w and y + bh < h:
            out[labels == i] = True
    return out


def select_object(image: np.ndarray, box: Optional[Sequence[float]] = None,
                  scribble: Optional[np.ndarray] = None, halo: Optional[int] = None) -> tuple[BBox, np.ndarray]:
    height, width = image.shape[:2]
    if scribble is not None and np.shape(scribble) != (height, width):
        raise UserError("the scribble does not match the photo's size")
    marks = BBox.of_mask(scribble) if scribble is not None else BBox(0, 0, 0, 0)
    from_box = box is not None
    area: Optional[BBox] = None
    if box is not None:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        area = BBox(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)).clip(width, height)
    elif not marks.empty:  # scribble only: look around it
        area = marks.grow(max(16, round(0.6 * max(marks.width, marks.height)))).clip(width, height)
    if area is None or area.width < MIN_BOX or area.height < MIN_BOX:
        return BBox(0, 0, 0, 0), np.zeros((0, 0), bool)
    crop = _crop_box(area, width, height)
    rgb = to_rgb8(image[crop.slices])
    scale = min(1.0, WORK_SIDE / max(crop.width, crop.height))
    sw, sh = max(1, round(crop.width * scale)), max(1, round(crop.height * scale))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else rgb.copy()
    seeds = np.full((sh, sw), cv2.GC_BGD, np.uint8)
    inner = [(area.x0 - crop.x0) * scale, (area.y0 - crop.y0) * scale,
             (area.x1 - crop.x0) * scale, (area.y1 - crop.y0) * scale]
    bx0, by0 = int(math.floor(inner[0])), int(math.floor(inner[1]))
    bx1, by1 = int(math.ceil(inner[2])), int(math.ceil(inner[3]))
    local = None
    if scribble is not None and scribble[crop.slices].any():
        local = np.ascontiguousarray(scribble[crop.slices])
        # a box says "the object is in here"; around a scribble alone nothing is known
        seeds[by0:by1, bx0:bx1] = cv2.GC_PR_FGD if from_box else cv2.GC_PR_BGD
        small_marks = cv2.resize(local.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST)
        seeds[small_marks > 0] = cv2.GC_FGD
    else:
        seeds[by0:by1, bx0:bx1] = cv2.GC_PR_FGD
    coarse = _grabcut(small, seeds)
    if scale < 1:
        coarse = cv2.resize(coarse, (crop.width, crop.height), interpolation=cv2.INTER_LINEAR)
    mask = _refine(rgb, coarse, scale)
    if from_box:  # the object lies inside the box
        inside = np.zeros_like(mask)
        inside[area.y0 - crop.y0:area.y1 - crop.y0, area.x0 - crop.x0:area.x1 - crop.x0] = True
        mask &= inside
    mask = _clean(mask, local)
    if not mask.any():
        return BBox(0, 0, 0, 0), np.zeros((0, 0), bool)
    grow = halo_for(image.shape) if halo is None else max(0, int(halo))
    if grow:
        out_box = BBox.of_mask(mask).grow(grow + 1)
        out_box = BBox(out_box.x0 + crop.x0, out_box.y0 + crop.y0, out_box.x1 + crop.x0,
                       out_box.y1 + crop.y0).clip(width, height)
        full = np.zeros((out_box.height, out_box.width), bool)
        src = out_box.intersect(crop)
        full[src.y0 - out_box.y0:src.y1 - out_box.y0, src.x0 - out_box.x0:src.x1 - out_box.x0] = \
            mask[src.y0 - crop.y0:src.y1 - crop.y0, src.x0 - crop.x0:src.x1 - crop.x0]
        raster.grow(full, grow)
        return out_box, full
    return crop, mask
