"""Split a hole mask into regions, each with a context crop box.

Connected components (8-connectivity) whose context crops overlap substantially are
merged so that nearby holes share one crop and one engine call.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from inpaint_studio.core.types import BBox

MARGIN_FACTOR = 0.75  # context margin as a fraction of the hole's longer side
MARGIN_CAP = 384  # the size-based part of the margin never exceeds this
MERGE_OVERLAP = 0.3  # merge when crops share this fraction of the smaller crop


@dataclass(frozen=True, eq=False)
class Region:
    """One fill job: ``mask`` (bool, crop-sized) marks this region's hole pixels."""

    crop: BBox
    hole_box: BBox
    mask: np.ndarray


def default_margin(hole_box: BBox, min_context: int) -> int:
    """Context margin around a hole: max(min_context, 0.75 x its longer side, capped)."""
    size = max(hole_box.width, hole_box.height)
    return max(int(min_context), min(MARGIN_CAP, int(round(MARGIN_FACTOR * size))))


def _fit(lo: int, hi: int, size: int) -> tuple[int, int]:
    length = hi - lo
    if length >= size:
        return 0, size
    if lo < 0:
        return 0, length
    if hi > size:
        return size - length, size
    return lo, hi


def context_box(hole_box: BBox, margin: int, width: int, height: int) -> BBox:
    """Grow ``hole_box`` by ``margin``; at image borders shift it inward keeping its size."""
    grown = hole_box.grow(margin)
    x0, x1 = _fit(grown.x0, grown.x1, width)
    y0, y1 = _fit(grown.y0, grown.y1, height)
    return BBox(x0, y0, x1, y1)


def _crops(boxes: np.ndarray, min_context: int, margin: Optional[int], width: int,
           height: int) -> np.ndarray:
    out = np.empty_like(boxes)
    for i, b in enumerate(boxes):
        hb = BBox(*map(int, b))
        m = default_margin(hb, min_context) if margin is None else int(margin)
        c = context_box(hb, m, width, height)
        out[i] = (c.x0, c.y0, c.x1, c.y1)
    return out


def _merge_pairs(crops: np.ndarray) -> np.ndarray:
    """Group index per crop after one round of merging substantially overlapping crops."""
    n = len(crops)
    x0, y0, x1, y1 = (crops[:, k] for k in range(4))
    area = (x1 - x0) * (y1 - y0)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for start in range(0, n, 512):  # row chunks keep memory small for many specks
        rows = slice(start, min(n, start + 512))
        iw = np.minimum(x1[rows, None], x1[None, :]) - np.maximum(x0[rows, None], x0[None, :])
        ih = np.minimum(y1[rows, None], y1[None, :]) - np.maximum(y0[rows, None], y0[None, :])
        inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
        close = inter >= MERGE_OVERLAP * np.minimum(area[rows, None], area[None, :])
        for i, j in zip(*np.nonzero(close)):
            ri, rj = root(int(i) + start), root(int(j))
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    return np.array([root(i) for i in range(n)])


def find_regions(hole: np.ndarray, min_context: int = 32,
                 margin: Optional[int] = None) -> list[Region]:
    """Regions of a bool (H, W) hole mask, in reading order of their hole boxes.

    ``margin`` overrides the default context margin (see ``default_margin``).
    """
    height, width = hole.shape
    area = BBox.of_mask(hole)  # label only the part with holes (much faster on big photos)
    if area.empty:
        return []
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        hole[area.slices].astype(np.uint8), connectivity=8)
    st = stats[1:]
    x0, y0 = st[:, 0] + area.x0, st[:, 1] + area.y0
    boxes = np.stack([x0, y0, x0 + st[:, 2], y0 + st[:, 3]], axis=1)
    groups = [[i + 1] for i in range(count - 1)]
    while True:
        crops = _crops(boxes, min_context, margin, width, height)
        if len(boxes) == 1:
            break
        roots = _merge_pairs(crops)
        if len(set(roots.tolist())) == len(boxes):
            break
        merged_boxes, merged_groups = [], []
        for r in sorted(set(roots.tolist())):
            members = np.flatnonzero(roots == r)
            sub = boxes[members]
            merged_boxes.append((sub[:, 0].min(), sub[:, 1].min(), sub[:, 2].max(), sub[:, 3].max()))
            merged_groups.append([lab for m in members for lab in groups[m]])
        boxes, groups = np.array(merged_boxes), merged_groups
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][1], boxes[i][0]))
    regions = []
    for i in order:
        crop = BBox(*map(int, crops[i]))
        lut = np.zeros(count, dtype=bool)
        lut[groups[i]] = True
        mask = np.zeros((crop.height, crop.width), dtype=bool)
        part = crop.intersect(area)
        mask[part.y0 - crop.y0:part.y1 - crop.y0, part.x0 - crop.x0:part.x1 - crop.x0] = lut[
            labels[part.y0 - area.y0:part.y1 - area.y0, part.x0 - area.x0:part.x1 - area.x0]]
        regions.append(Region(crop, BBox(*map(int, boxes[i])), mask))
    return regions
