"""Raster ops against brute-force references written with explicit loops."""
import math

import numpy as np
import pytest

from inpaint_studio.core import raster
from inpaint_studio.core.types import BBox


def ref_capsule(h, w, p0, p1, r):
    out = np.zeros((h, w), bool)
    ax, ay = p0
    bx, by = p1
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    for i in range(h):
        for j in range(w):
            px, py = j + 0.5, i + 0.5
            t = 0.0 if l2 == 0 else min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / l2))
            qx, qy = ax + t * dx, ay + t * dy
            out[i, j] = math.hypot(px - qx, py - qy) <= r
    return out


def ref_polygon(h, w, pts):
    """Even-odd: count edges crossed by a ray going right from each pixel centre."""
    out = np.zeros((h, w), bool)
    n = len(pts)
    for i in range(h):
        for j in range(w):
            px, py = j + 0.5, i + 0.5
            inside = False
            for k in range(n):
                (x1, y1), (x2, y2) = pts[k], pts[(k + 1) % n]
                if (y1 <= py) != (y2 <= py):
                    x = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
                    if x <= px:
                        inside = not inside
            out[i, j] = inside
    return out


def ref_dilate(mask, n):
    h, w = mask.shape
    out = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    for i in range(h):
        for j in range(w):
            out[i, j] = bool(np.any((ys - i) ** 2 + (xs - j) ** 2 <= n * n))
    return out


def ref_erode_border_is_mask(mask, n):
    h, w = mask.shape
    out = np.zeros_like(mask)
    for i in range(h):
        for j in range(w):
            ok = True
            for di in range(-n, n + 1):
                for dj in range(-n, n + 1):
                    if di * di + dj * dj > n * n:
                        continue
                    y, x = i + di, j + dj
                    if 0 <= y < h and 0 <= x < w and not mask[y, x]:
                        ok = False
            out[i, j] = ok and mask[i, j]
    return out


@pytest.mark.parametrize("seed", range(12))
def test_stamp_segment_matches_reference(seed):
    rng = np.random.default_rng(seed)
    h, w = 40, 50
    p0 = tuple(rng.uniform(-8, 58, 2))
    p1 = p0 if seed % 4 == 0 else tuple(rng.uniform(-8, 58, 2))
    r = float(rng.uniform(0.6, 12))
    layer = np.zeros((h, w), bool)
    box = raster.stamp_segment(layer, p0, p1, r)
    ref = ref_capsule(h, w, p0, p1, r)
    assert np.array_equal(layer, ref)
    assert box == BBox.of_mask(ref)


def test_stamp_segment_erases_and_leaves_the_rest():
    layer = np.ones((30, 30), bool)
    box = raster.stamp_segment(layer, (5.2, 6.1), (22.7, 19.3), 4.3, value=False)
    ref = ~ref_capsule(30, 30, (5.2, 6.1), (22.7, 19.3), 4.3)
    assert np.array_equal(layer, ref)
    assert box == BBox.of_mask(~ref)


def test_hardness_shrinks_the_hard_edge():
    layer = np.zeros((40, 40), bool)
    raster.stamp_segment(layer, (20.3, 20.2), (20.3, 20.2), 10.0, hardness=0.0)
    assert np.array_equal(layer, ref_capsule(40, 40, (20.3, 20.2), (20.3, 20.2), 5.0))
    assert raster.effective_radius(10, 0.5) == pytest.approx(7.5)


def test_segment_bbox_holds_footprint():
    layer = np.zeros((60, 60), bool)
    p0, p1 = (10.4, 50.2), (45.1, 8.9)
    loose = raster.segment_bbox(layer.shape, p0, p1, 6.2)
    tight = raster.stamp_segment(layer, p0, p1, 6.2)
    assert loose.intersect(tight) == tight
    assert not layer[:, : loose.x0].any() and not layer[: loose.y0].any()


def test_stamp_outside_image_is_empty():
    layer = np.zeros((10, 10), bool)
    assert raster.stamp_segment(layer, (-50, -50), (-40, -45), 3).empty
    assert not layer.any()


def test_stroke_polyline_is_union_of_segments():
    pts = [(3.3, 4.1), (20.2, 9.7), (12.6, 25.4)]
    layer = np.zeros((30, 30), bool)
    box = raster.stroke_polyline(layer, pts, 1.2)
    ref = ref_capsule(30, 30, pts[0], pts[1], 1.2) | ref_capsule(30, 30, pts[1], pts[2], 1.2)
    assert np.array_equal(layer, ref)
    assert box == BBox.of_mask(ref)


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("seed", range(10))
def test_fill_polygon_matches_reference(seed, dense, monkeypatch):
    if dense:  # the path taken for polygons with very many crossings
        monkeypatch.setattr(raster, "SPAN_LOOP_LIMIT", 0)
    rng = np.random.default_rng(100 + seed)
    h, w = 32, 36
    pts = [tuple(p) for p in rng.uniform(-5, 40, size=(3 + seed, 2))]  # self-intersecting too
    layer = np.zeros((h, w), bool)
    box = raster.fill_polygon(layer, pts)
    ref = ref_polygon(h, w, pts)
    assert np.array_equal(layer, ref)
    assert box == BBox.of_mask(ref)


def test_fill_polygon_subtract():
    layer = np.ones((20, 20), bool)
    pts = [(2.2, 2.7), (17.9, 4.1), (9.3, 18.6)]
    raster.fill_polygon(layer, pts, value=False)
    assert np.array_equal(layer, ~ref_polygon(20, 20, pts))


def test_fill_polygon_degenerate():
    layer = np.zeros((10, 10), bool)
    assert raster.fill_polygon(layer, [(1, 1), (5, 5)]).empty
    assert raster.fill_polygon(layer, [(1, 1), (5, 1), (9, 1)]).empty
    assert not layer.any()


def test_fill_rect_integer_corners_are_half_open():
    layer = np.zeros((10, 12), bool)
    box = raster.fill_rect(layer, 7, 6, 2, 3)  # corners in any order
    assert box == BBox(2, 3, 7, 6)
    ref = np.zeros_like(layer)
    ref[3:6, 2:7] = True
    assert np.array_equal(layer, ref)


def test_fill_rect_float_and_clipped():
    layer = np.zeros((10, 10), bool)
    box = raster.fill_rect(layer, -3.0, 8.4, 2.6, 30.0)
    ref = np.zeros_like(layer)
    for i in range(10):
        for j in range(10):
            ref[i, j] = -3.0 <= j + 0.5 < 2.6 and 8.4 <= i + 0.5 < 30
    assert np.array_equal(layer, ref)
    assert box == BBox.of_mask(ref)


def random_blobs(seed, h=28, w=30):
    rng = np.random.default_rng(seed)
    m = np.zeros((h, w), bool)
    for _ in range(3):
        raster.stamp_segment(m, rng.uniform(0, w, 2), rng.uniform(0, h, 2), rng.uniform(1, 4))
    return m


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_grow_matches_reference(n):
    m = random_blobs(n)
    before = m.copy()
    box = raster.grow(m, n)
    ref = ref_dilate(before, n)
    assert np.array_equal(m, ref)
    assert box.intersect(BBox.of_mask(m ^ before)) == BBox.of_mask(m ^ before)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_shrink_matches_reference(n):
    m = random_blobs(10 + n)
    m[:, :12] = True  # a wide band on the left border
    before = m.copy()
    box = raster.shrink(m, n)
    ref = ref_erode_border_is_mask(before, n)
    assert np.array_equal(m, ref)
    assert box.intersect(BBox.of_mask(m ^ before)) == BBox.of_mask(m ^ before)
    assert m[:, 0].all()  # outside the image counts as mask


def test_grow_shrink_noops():
    m = np.zeros((8, 8), bool)
    assert raster.grow(m, 3).empty and raster.shrink(m, 3).empty
    m[2, 2] = True
    assert raster.grow(m, 0).empty
    assert m.sum() == 1


def test_invert_and_clear():
    m = random_blobs(3)
    before = m.copy()
    assert raster.invert(m) == BBox(0, 0, 30, 28)
    assert np.array_equal(m, ~before)
    raster.invert(m)
    box = raster.clear(m)
    assert box == BBox.of_mask(before)
    assert not m.any()


def test_non_finite_coordinates_paint_nothing():
    layer = np.zeros((10, 10), bool)
    nan = float("nan")
    assert raster.stamp_segment(layer, (nan, 1), (2, 2), 3).empty
    assert raster.fill_polygon(layer, [(0, 0), (nan, 5), (5, 5)]).empty
    assert raster.fill_rect(layer, 0, 0, float("inf"), 5).empty
    assert not layer.any()


@pytest.mark.parametrize("n", [7, 70])
def test_grow_and_shrink_across_word_boundaries(n):
    m = np.zeros((16, 200), bool)
    m[3, [0, 63, 64, 130, 199]] = True
    m[10, 100:140] = True
    before = m.copy()
    raster.grow(m, n)
    assert np.array_equal(m, ref_dilate(before, n))
    band = np.ones((16, 200), bool)
    band[5, [10, 64, 127, 128, 190]] = False
    ref = ref_erode_border_is_mask(band, 6)
    raster.shrink(band, 6)
    assert np.array_equal(band, ref)


def test_thin_lines_gives_connected_one_pixel_centre_lines():
    import cv2

    layer = np.zeros((120, 220), np.uint8)
    cv2.line(layer, (10, 20), (200, 90), 1, 7)  # a pen line 7 px wide ...
    cv2.circle(layer, (70, 70), 30, 1, 5)  # ... crossing a ring
    layer = layer.astype(bool)
    before = layer.copy()
    thin = raster.thin_lines(layer)
    assert np.array_equal(layer, before)  # a new array; the input is untouched
    assert not (thin & ~layer).any()  # only ever removes
    assert thin.sum() < layer.sum() / 4
    squares = thin[:-1, :-1] & thin[1:, :-1] & thin[:-1, 1:] & thin[1:, 1:]
    assert not squares.any()  # one pixel wide
    count = cv2.connectedComponents(thin.astype(np.uint8), connectivity=8)[0]
    assert count == 2  # background + one piece, as before
    for x in (20, 150, 195):  # along the straight line, away from the ring: on its centre
        rows = np.flatnonzero(thin[:, x])
        assert 1 <= rows.size <= 2 and np.ptp(rows) <= 1  # one pixel, or two at a step
        assert abs(rows.mean() - np.flatnonzero(layer[:, x]).mean()) <= 1


def test_thin_lines_keeps_thin_lines_and_empty_layers():
    one = np.zeros((40, 60), bool)
    one[20, 5:55] = True
    one[5:35, 30] = True
    assert np.array_equal(raster.thin_lines(one), one)
    empty = np.zeros((10, 10), bool)
    assert not raster.thin_lines(empty).any()
    edge = np.zeros((30, 30), bool)
    edge[:, :4] = True  # a thick line along the image border
    thin = raster.thin_lines(edge)
    assert thin.any() and (thin.sum(1) == 1)[2:-2].all()
