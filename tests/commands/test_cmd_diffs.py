"""RegionDiff: XOR patches, tight boxes, compact storage."""
import numpy as np
import pytest

from inpaint_studio.commands.diffs import RegionDiff
from inpaint_studio.core.document import Document
from inpaint_studio.core.types import BBox


def doc_with(h=40, w=50, dtype=np.uint8):
    rng = np.random.default_rng(1)
    return Document(rng.integers(0, 250, (h, w, 3)).astype(dtype))


def test_bool_diff_flips_both_ways_and_is_tight():
    doc = doc_with()
    box = BBox(5, 5, 45, 35)
    before = doc.region("mask", box)
    doc.mask[10:12, 20:30] = True
    diff = RegionDiff("mask", box, before, doc.region("mask", box))
    assert diff.bbox == BBox(20, 10, 30, 12)
    after = doc.mask.copy()
    diff.apply(doc)
    assert not doc.mask.any()
    diff.apply(doc)
    assert np.array_equal(doc.mask, after)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_image_diff_round_trip(dtype):
    doc = doc_with(dtype=dtype)
    orig = doc.image.copy()
    box = BBox(0, 0, 50, 40)
    before = doc.region("image", box)
    doc.image[3:9, 7:8, 1] = 12345 if dtype == np.uint16 else 3
    diff = RegionDiff.between("image", box, before, doc)
    assert diff.bbox == BBox.of_mask((doc.image != orig).any(axis=2))
    edited = doc.image.copy()
    seen = []
    doc.listen(lambda layer, b: seen.append((layer, b)))
    diff.apply(doc)
    assert np.array_equal(doc.image, orig) and doc.image.dtype == dtype
    assert seen == [("image", diff.bbox)]
    diff.apply(doc)
    assert np.array_equal(doc.image, edited)


def test_unchanged_gives_none_and_empty():
    doc = doc_with()
    box = BBox(0, 0, 10, 10)
    assert RegionDiff.between("mask", box, doc.region("mask", box), doc) is None
    assert RegionDiff("mask", box, doc.region("mask", box), doc.region("mask", box)).empty


def test_large_bool_diff_is_compact():
    before = np.zeros((2000, 3000), bool)
    after = before.copy()
    yy, xx = np.mgrid[:2000, :3000]
    after[(yy - 1000) ** 2 + (xx - 1500) ** 2 < 900 ** 2] = True
    diff = RegionDiff("mask", BBox(0, 0, 3000, 2000), before, after)
    assert diff.nbytes < after.size / 8 / 20  # far below even bit-packing


def test_combine_equals_applying_both():
    doc = doc_with()
    b1, b2 = BBox(0, 0, 20, 20), BBox(10, 10, 40, 30)
    start = doc.mask.copy()
    before = doc.region("mask", b1)
    doc.mask[2:15, 3:18] = True
    d1 = RegionDiff.between("mask", b1, before, doc)
    before = doc.region("mask", b2)
    doc.mask[12:28, 11:39] ^= True
    d2 = RegionDiff.between("mask", b2, before, doc)
    end = doc.mask.copy()
    both = RegionDiff.combine(d1, d2)
    both.apply(doc)
    assert np.array_equal(doc.mask, start)
    both.apply(doc)
    assert np.array_equal(doc.mask, end)
    with pytest.raises(ValueError):
        RegionDiff.combine(d1, RegionDiff("sketch", b1, np.zeros((20, 20), bool), np.ones((20, 20), bool)))


def test_shape_mismatch_raises():
    with pytest.raises(ValueError):
        RegionDiff("mask", BBox(0, 0, 4, 4), np.zeros((4, 4), bool), np.zeros((4, 5), bool))
