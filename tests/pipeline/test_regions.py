"""Hole regions: components, merging of nearby holes, context crops at borders."""
from __future__ import annotations

import numpy as np

from inpaint_studio.core.types import BBox
from inpaint_studio.pipeline.regions import context_box, default_margin, find_regions


def test_separate_holes_give_separate_regions_with_own_masks():
    hole = np.zeros((400, 400), bool)
    hole[20:30, 20:30] = True
    hole[300:340, 250:260] = True
    regions = find_regions(hole, min_context=16)
    assert [r.hole_box for r in regions] == [BBox(20, 20, 30, 30), BBox(250, 300, 260, 340)]
    for r in regions:
        assert r.mask.shape == (r.crop.height, r.crop.width)
        assert r.mask.sum() == hole[r.crop.slices].sum()  # each crop holds only its own hole
    total = np.zeros_like(hole)
    for r in regions:
        total[r.crop.slices] |= r.mask
    assert np.array_equal(total, hole)


def test_crop_is_hole_box_plus_margin():
    hole = np.zeros((400, 400), bool)
    hole[180:200, 150:190] = True  # 40 wide, 20 high
    (region,) = find_regions(hole, min_context=8)
    m = default_margin(BBox(150, 180, 190, 200), 8)
    assert m == 30  # 0.75 x longer side
    assert region.crop == BBox(150 - m, 180 - m, 190 + m, 200 + m)
    (region,) = find_regions(hole, min_context=8, margin=5)
    assert region.crop == BBox(145, 175, 195, 205)
    assert default_margin(BBox(0, 0, 2, 2), 64) == 64  # min_context wins for small holes
    assert default_margin(BBox(0, 0, 5000, 10), 8) == 384  # capped


def test_diagonal_neighbours_are_one_component():
    hole = np.zeros((50, 50), bool)
    hole[10, 10] = hole[11, 11] = True
    assert len(find_regions(hole, 4)) == 1


def test_nearby_holes_share_one_crop():
    hole = np.zeros((300, 300), bool)
    hole[100:120, 100:120] = True
    hole[100:120, 126:146] = True  # 6 px gap: crops overlap almost entirely
    (region,) = find_regions(hole, min_context=16)
    assert region.hole_box == BBox(100, 100, 146, 120)
    assert region.mask.sum() == hole.sum()


def test_crops_shift_inward_at_borders_keeping_size():
    assert context_box(BBox(0, 0, 10, 10), 20, 100, 80) == BBox(0, 0, 50, 50)
    assert context_box(BBox(95, 75, 100, 80), 10, 100, 80) == BBox(75, 55, 100, 80)
    # wider than the image: the whole width
    assert context_box(BBox(40, 40, 60, 50), 100, 100, 80) == BBox(0, 0, 100, 80)
    hole = np.zeros((200, 300), bool)
    hole[0:10, 290:300] = True
    (region,) = find_regions(hole, min_context=32, margin=32)
    assert region.crop == BBox(300 - 74, 0, 300, 74)


def test_empty_hole_has_no_regions():
    assert find_regions(np.zeros((20, 20), bool)) == []
