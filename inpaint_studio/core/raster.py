"""Painting on bool (H, W) layers, in place, touching only the dirty box.

Coordinates are float image coordinates (x right, y down); pixel (row i, col j)
covers [j, j+1) x [i, i+1) and is hit when its centre (j + 0.5, i + 0.5) is inside
the shape. Every function writes into ``layer`` and returns the ``BBox`` of the
pixels it may have changed (empty box when none).

- ``stamp_segment(layer, p0, p1, radius, value=True, hardness=1.0)``: round brush
  swept from p0 to p1 (a capsule). A bool layer cannot hold a soft edge, so the
  hard edge sits where a linear soft brush reaches 50%: ``radius * (1 + hardness) / 2``
  (hardness 1 -> full radius, 0 -> half radius); the UI may preview the soft edge.
  Returns the tight box of the brush footprint.
- ``segment_bbox(shape, p0, p1, radius, hardness=1.0)``: a box that surely holds
  that footprint, computed without painting (for taking undo snapshots first).
- ``stroke_polyline(layer, points, radius, value=True)``: consecutive segments.
- ``fill_polygon(layer, points, value=True)``: even-odd rule (Qt's default fill
  rule, so a QPainterPath preview matches). Returns the tight box of the inside.
- ``fill_rect(layer, x0, y0, x1, y1, value=True)``: pixels whose centres lie in
  the rectangle (integer corners give the half-open box x0..x1-1, y0..y1-1);
  ``rect_bbox(shape, x0, y0, x1, y1)`` is that box.
- ``polygon_bbox(shape, points)``: a box holding the polygon's pixels.
- ``grow(mask, n)`` / ``shrink(mask, n)``: dilate / erode by a disc of radius n
  (Euclidean, centre to centre), on the mask's box + n only, 64 pixels per
  machine word. Shrink treats outside the image as mask, so a hole touching the
  border stays on the border.
- ``invert(mask)``, ``clear(mask)``.
- ``thin_lines(mask)``: a new layer with each line thinned to its one-pixel centre line.

Non-finite coordinates paint nothing.
"""
from __future__ import annotations

import math
from typing import Sequence, Union

import numpy as np
from numpy.typing import ArrayLike

from inpaint_studio.core.types import BBox

Point = Union[Sequence[float], np.ndarray]  # (x, y) in image coordinates

EMPTY = BBox(0, 0, 0, 0)
MIN_RADIUS = 0.5
SPAN_LOOP_LIMIT = 100_000  # polygon crossings filled span by span below this


def effective_radius(radius: float, hardness: float = 1.0) -> float:
    """Radius of the hard bool edge painted for a brush of this size and hardness."""
    h = min(max(float(hardness), 0.0), 1.0)
    return max(float(radius) * (1.0 + h) / 2.0, MIN_RADIUS)


def segment_bbox(shape: Sequence[int], p0: Point, p1: Point, radius: float, hardness: float = 1.0) -> BBox:
    """Box (clipped to ``shape`` = (H, W, ...)) holding the capsule's footprint."""
    r = effective_radius(radius, hardness)
    x0, y0 = float(p0[0]), float(p0[1])
    x1, y1 = float(p1[0]), float(p1[1])
    if not all(map(math.isfinite, (x0, y0, x1, y1, r))):
        return EMPTY
    box = BBox(math.floor(min(x0, x1) - r), math.floor(min(y0, y1) - r),
               math.ceil(max(x0, x1) + r) + 1, math.ceil(max(y0, y1) + r) + 1)
    return box.clip(int(shape[1]), int(shape[0]))


def _write_spans(layer: np.ndarray, box: BBox, lo: np.ndarray, hi: np.ndarray, value: bool) -> BBox:
    """Set cols lo[k]..hi[k]-1 (relative to box) of each row k of ``box``; return tight box."""
    rows = np.flatnonzero(hi > lo)
    if rows.size == 0:
        return EMPTY
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    lo, hi = lo[r0:r1], hi[r0:r1]
    c0, c1 = int(lo[hi > lo].min()), int(hi[hi > lo].max())
    small = np.int16 if box.width < 2**15 else np.int64  # narrow ints compare faster
    cols = np.arange(c0, c1, dtype=small)
    inside = (cols >= lo.astype(small)[:, None]) & (cols < hi.astype(small)[:, None])
    tight = BBox(box.x0 + c0, box.y0 + r0, box.x0 + c1, box.y0 + r1)
    sub = layer[tight.slices]
    if value:
        sub |= inside
    else:
        sub &= ~inside
    return tight


def _span_of(a: float, b: np.ndarray, lo_val: float, hi_val: float,
             lo: np.ndarray, hi: np.ndarray) -> None:
    """Narrow [lo, hi] per row to the x with lo_val <= a*x + b <= hi_val (a scalar)."""
    if abs(a) < 1e-12:
        bad = (b < lo_val) | (b > hi_val)
        lo[bad] = np.inf
        hi[bad] = -np.inf
        return
    xa = (lo_val - b) / a
    xb = (hi_val - b) / a
    np.maximum(lo, np.minimum(xa, xb), out=lo)
    np.minimum(hi, np.maximum(xa, xb), out=hi)


def stamp_segment(layer: np.ndarray, p0: Point, p1: Point, radius: float, value: bool = True,
                  hardness: float = 1.0) -> BBox:
    """Paint the capsule of radius ``effective_radius`` around segment p0-p1."""
    box = segment_bbox(layer.shape, p0, p1, radius, hardness)
    if box.empty:
        return EMPTY
    r = effective_radius(radius, hardness)
    ax, ay = float(p0[0]), float(p0[1])
    bx, by = float(p1[0]), float(p1[1])
    yc = np.arange(box.y0, box.y1, dtype=np.float64) + 0.5
    lo = np.full(yc.shape, np.inf)
    hi = np.full(yc.shape, -np.inf)
    # Row slices of the two end discs; the capsule is convex, so the union of
    # the pieces' intervals on a row is one interval.
    for cx, cy in ((ax, ay), (bx, by)):
        h2 = r * r - (yc - cy) ** 2
        ok = h2 >= 0
        h = np.sqrt(np.where(ok, h2, 0.0))
        np.minimum(lo, np.where(ok, cx - h, np.inf), out=lo)
        np.maximum(hi, np.where(ok, cx + h, -np.inf), out=hi)
    dx, dy = bx - ax, by - ay
    length = math.hypot(dx, dy)
    if length > 1e-9:
        # Rectangle swept by the segment: 0 <= t <= L along, |s| <= r across.
        ux, uy = dx / length, dy / length
        rlo = np.full(yc.shape, -np.inf)
        rhi = np.full(yc.shape, np.inf)
        _span_of(ux, (yc - ay) * uy - ax * ux, 0.0, length, rlo, rhi)
        _span_of(-uy, (yc - ay) * ux + ax * uy, -r, r, rlo, rhi)
        has = rhi >= rlo
        np.minimum(lo, np.where(has, rlo, np.inf), out=lo)
        np.maximum(hi, np.where(has, rhi, -np.inf), out=hi)
    # Pixel j is in when lo <= j + 0.5 <= hi.
    # (lo, hi are +-inf on empty rows; clip turns those into empty spans.)
    jlo = np.clip(np.ceil(lo - 0.5) - box.x0, 0, box.width).astype(np.int64)
    jhi = np.clip(np.floor(hi - 0.5) + 1 - box.x0, 0, box.width).astype(np.int64)
    return _write_spans(layer, box, jlo, jhi, bool(value))


def stroke_polyline(layer: np.ndarray, points: ArrayLike, radius: float, value: bool = True,
                    hardness: float = 1.0) -> BBox:
    """Stamp every segment of a polyline (one point paints a dot)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return EMPTY
    if len(pts) == 1:
        return stamp_segment(layer, pts[0], pts[0], radius, value, hardness)
    box = EMPTY
    for a, b in zip(pts[:-1], pts[1:]):
        box = box.union(stamp_segment(layer, a, b, radius, value, hardness))
    return box


def polygon_bbox(shape: Sequence[int], points: ArrayLike) -> BBox:
    """Box (clipped to ``shape``) holding every pixel the polygon may cover."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3 or not np.isfinite(pts).all():
        return EMPTY
    box = BBox(math.floor(pts[:, 0].min()), math.floor(pts[:, 1].min()),
               math.ceil(pts[:, 0].max()) + 1, math.ceil(pts[:, 1].max()) + 1)
    return box.clip(int(shape[1]), int(shape[0]))


def fill_polygon(layer: np.ndarray, points: ArrayLike, value: bool = True) -> BBox:
    """Even-odd scanline fill of the closed polygon ``points`` ((N, 2) x, y)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    box = polygon_bbox(layer.shape, pts)
    if box.empty:
        return EMPTY
    xa, ya = pts[:, 0], pts[:, 1]
    xb, yb = np.roll(xa, -1), np.roll(ya, -1)
    # Rows whose centre y satisfies min(ya,yb) <= y < max(ya,yb) cross the edge.
    ymin, ymax = np.minimum(ya, yb), np.maximum(ya, yb)
    r0 = np.clip(np.ceil(ymin - 0.5), box.y0, box.y1).astype(np.int64)
    r1 = np.clip(np.ceil(ymax - 0.5), box.y0, box.y1).astype(np.int64)
    count = r1 - r0
    keep = count > 0
    if not keep.any():
        return EMPTY
    xa, ya, xb, yb, r0, count = xa[keep], ya[keep], xb[keep], yb[keep], r0[keep], count[keep]
    edge = np.repeat(np.arange(len(r0)), count)
    starts = np.cumsum(count) - count
    rows = r0[edge] + (np.arange(int(count.sum())) - starts[edge])
    yc = rows + 0.5
    t = (yc - ya[edge]) / (yb[edge] - ya[edge])
    xc = xa[edge] + t * (xb[edge] - xa[edge])
    col = np.clip(np.ceil(xc - 0.5) - box.x0, 0, box.width).astype(np.int64)
    rows = rows - box.y0
    if len(col) <= SPAN_LOOP_LIMIT:
        return _fill_spans(layer, box, rows, col, bool(value))
    # Many crossings: a crossing toggles every pixel whose centre is at or right of it.
    w1 = box.width + 1
    toggles = np.zeros((box.height, w1), dtype=np.uint8)
    np.add.at(toggles.reshape(-1), rows * w1 + col, 1)
    inside = (np.cumsum(toggles, axis=1, dtype=np.uint8)[:, :box.width] & 1).astype(bool)
    tight = BBox.of_mask(inside)
    if tight.empty:
        return EMPTY
    inside = inside[tight.slices]
    tight = BBox(tight.x0 + box.x0, tight.y0 + box.y0, tight.x1 + box.x0, tight.y1 + box.y0)
    sub = layer[tight.slices]
    if value:
        sub |= inside
    else:
        sub &= ~inside
    return tight


def _fill_spans(layer: np.ndarray, box: BBox, rows: np.ndarray, col: np.ndarray, value: bool) -> BBox:
    """Even-odd fill from crossings: after sorting, pairs of crossings in a row bound a span."""
    order = np.lexsort((col, rows))
    rows, col = rows[order].reshape(-1, 2), col[order].reshape(-1, 2)
    keep = col[:, 1] > col[:, 0]
    rows, starts, ends = rows[keep, 0], col[keep, 0], col[keep, 1]
    if rows.size == 0:
        return EMPTY
    tight = BBox(box.x0 + int(starts.min()), box.y0 + int(rows.min()),
                 box.x0 + int(ends.max()), box.y0 + int(rows.max()) + 1)
    sub = layer[box.slices]
    for r, s, e in zip(rows.tolist(), starts.tolist(), ends.tolist()):
        sub[r, s:e] = value
    return tight


def rect_bbox(shape: Sequence[int], x0: float, y0: float, x1: float, y1: float) -> BBox:
    """The pixels ``fill_rect`` sets: centres in [min x, max x) x [min y, max y)."""
    if not all(map(math.isfinite, (x0, y0, x1, y1))):
        return EMPTY
    lx, hx = min(x0, x1), max(x0, x1)
    ly, hy = min(y0, y1), max(y0, y1)
    return BBox(math.ceil(lx - 0.5), math.ceil(ly - 0.5),
                math.ceil(hx - 0.5), math.ceil(hy - 0.5)).clip(int(shape[1]), int(shape[0]))


def fill_rect(layer: np.ndarray, x0: float, y0: float, x1: float, y1: float,
              value: bool = True) -> BBox:
    """Set pixels whose centres lie in [min x, max x) x [min y, max y)."""
    box = rect_bbox(layer.shape, x0, y0, x1, y1)
    if box.empty:
        return EMPTY
    layer[box.slices] = bool(value)
    return box


_WORD = np.dtype("<u8")  # masks are dilated as rows of 64-pixel words, pixel x = bit x % 64


def _pack(a: np.ndarray) -> np.ndarray:
    words = (a.shape[1] + 63) // 64
    packed = np.packbits(a, axis=1, bitorder="little")
    out = np.zeros((a.shape[0], words * 8), np.uint8)
    out[:, :packed.shape[1]] = packed
    return out.view(_WORD)


def _or_shifted(dst: np.ndarray, src: np.ndarray, s: int) -> None:
    """dst |= src moved by s pixels along rows (s > 0: right, s < 0: left), zero fill.

    Bits pushed past the row's last pixel land in padding and are dropped on unpack.
    """
    q, r = divmod(abs(s), 64)
    n = src.shape[1]
    if q >= n:
        return
    lo, hi = np.uint64(r), np.uint64(64 - r)
    if s > 0:
        dst[:, q:] |= src[:, :n - q] << lo
        if r and q + 1 < n:
            dst[:, q + 1:] |= src[:, :n - q - 1] >> hi
    else:
        dst[:, :n - q] |= src[:, q:] >> lo
        if r and q + 1 < n:
            dst[:, :n - q - 1] |= src[:, q + 1:] << hi


def _dilate(src: np.ndarray, n: int) -> np.ndarray:
    """Dilate a 2-D bool array by a disc of radius n (outside counts as False)."""
    h, w = src.shape
    if n <= 0:
        copy: np.ndarray = src.copy()
        return copy
    packed = _pack(src)
    out = packed.copy()
    horiz = packed.copy()
    # Half-width of the disc on row offset dy; widths grow as |dy| shrinks, so
    # the row-dilated copy is widened step by step while dy walks to 0.
    widths = [int(math.isqrt(n * n - dy * dy)) for dy in range(n + 1)]
    cur = 0
    for dy in range(n, -1, -1):
        while cur < widths[dy]:
            cur += 1
            _or_shifted(horiz, packed, cur)
            _or_shifted(horiz, packed, -cur)
        if dy == 0:
            out |= horiz
        elif dy < h:
            out[dy:] |= horiz[:-dy]
            out[:-dy] |= horiz[dy:]
    return np.unpackbits(out.view(np.uint8), axis=1, count=w, bitorder="little").view(bool)


def grow(mask: np.ndarray, n: int) -> BBox:
    """Dilate ``mask`` in place by a disc of radius ``n`` pixels."""
    n = int(n)
    src = BBox.of_mask(mask)
    if n <= 0 or src.empty:
        return EMPTY
    box = src.grow(n).clip(mask.shape[1], mask.shape[0])
    mask[box.slices] = _dilate(mask[box.slices], n)
    return box


def shrink(mask: np.ndarray, n: int) -> BBox:
    """Erode ``mask`` in place by a disc of radius ``n``; outside the image counts as mask."""
    n = int(n)
    src = BBox.of_mask(mask)
    if n <= 0 or src.empty:
        return EMPTY
    box = src.grow(n).clip(mask.shape[1], mask.shape[0])
    # Pad with mask (True) where the window was cut by the image border.
    pad = ((src.y0 - n < 0) * n, (src.y1 + n > mask.shape[0]) * n,
           (src.x0 - n < 0) * n, (src.x1 + n > mask.shape[1]) * n)
    window = np.pad(mask[box.slices], ((pad[0], pad[1]), (pad[2], pad[3])), constant_values=True)
    eaten = _dilate(~window, n)[pad[0]:pad[0] + box.height, pad[2]:pad[2] + box.width]
    mask[box.slices] &= ~eaten
    return src


def invert(mask: np.ndarray) -> BBox:
    np.logical_not(mask, out=mask)
    return BBox(0, 0, mask.shape[1], mask.shape[0])


def clear(mask: np.ndarray) -> BBox:
    box = BBox.of_mask(mask)
    if not box.empty:
        mask[box.slices] = False
    return box


def thin_lines(mask: np.ndarray) -> np.ndarray:
    """The one-pixel-wide centre lines of ``mask`` (Zhang-Suen thinning, 8-connected), as a
    new bool array; lines stay connected and keep their ends. Work is limited to the box
    of the mask."""
    out = np.zeros(mask.shape, bool)
    box = BBox.of_mask(mask)
    if box.empty:
        return out
    img = np.pad(mask[box.slices], 1)
    core = img[1:-1, 1:-1]
    changed = True
    while changed:
        changed = False
        for first in (True, False):
            n, ne, e, se = img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:]
            s, sw, w, nw = img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2]
            ring = (n, ne, e, se, s, sw, w, nw, n)
            count = sum(p.astype(np.uint8) for p in ring[:8])
            rises = sum((~a & b).astype(np.uint8) for a, b in zip(ring[:-1], ring[1:]))
            if first:
                side = ~(n & e & s) & ~(e & s & w)
            else:
                side = ~(n & e & w) & ~(n & s & w)
            remove = core & (count >= 2) & (count <= 6) & (rises == 1) & side
            if remove.any():
                core[remove] = False
                changed = True
    out[box.slices] = core
    return out
