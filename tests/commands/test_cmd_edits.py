"""Each edit command: what it paints, and undo/redo restore bit-identical layers."""
import numpy as np
import pytest

from inpaint_studio.commands.edits import ApplyFill, Lasso, MaskOp, MaskStroke, RectSelect, SketchStroke
from inpaint_studio.core import raster
from inpaint_studio.core.document import Document
from inpaint_studio.core.errors import UserError
from inpaint_studio.core.types import BBox

H, W = 300, 400  # spans several stroke tiles


def make_doc(dtype=np.uint8):
    rng = np.random.default_rng(7)
    doc = Document(rng.integers(0, 250, (H, W, 3)).astype(dtype))
    raster.fill_rect(doc.mask, 50, 60, 120, 200)  # some existing mask
    raster.stroke_polyline(doc.sketch, [(10, 10), (390, 290)], 1.0)
    return doc


def snapshot(doc):
    return doc.image.copy(), doc.mask.copy(), doc.sketch.copy()


def same(doc, snap):
    return all(np.array_equal(a, b) for a, b in zip(snapshot(doc), snap))


def check_undo_redo(doc, cmd, before):
    after = snapshot(doc)
    assert not same(doc, before)
    cmd.undo(doc)
    assert same(doc, before)
    cmd.redo(doc)
    assert same(doc, after)
    cmd.undo(doc)
    assert same(doc, before)


STROKE = [(20.5, 30.2), (140.1, 170.7), (141.0, 171.0), (380.3, 40.9), (380.3, 40.9)]


@pytest.mark.parametrize("cls,layer,value,text", [
    (MaskStroke, "mask", True, "Brush stroke"), (MaskStroke, "mask", False, "Eraser stroke"),
    (SketchStroke, "sketch", True, "Sketch line"), (SketchStroke, "sketch", False, "Sketch erase")])
def test_stroke_paints_segments_and_undoes(cls, layer, value, text):
    doc = make_doc()
    before = snapshot(doc)
    expected = doc.layer(layer).copy()
    seen = []
    doc.listen(lambda name, box: seen.append((name, box)))
    stroke = cls.begin(doc, radius=14.0, value=value)
    boxes = [stroke.add_segment(a, b) for a, b in zip(STROKE[:-1], STROKE[1:])]
    for a, b in zip(STROKE[:-1], STROKE[1:]):
        raster.stamp_segment(expected, a, b, 14.0, value)
    assert np.array_equal(doc.layer(layer), expected)
    assert seen == [(layer, b) for b in boxes if not b.empty]
    cmd = stroke.end()
    assert cmd is stroke and cmd.text == text
    changed = BBox.of_mask(doc.layer(layer) != before[("image", "mask", "sketch").index(layer)])
    assert cmd.bbox == changed
    check_undo_redo(doc, cmd, before)


def test_stroke_without_change_is_none_and_cancel_restores():
    doc = make_doc()
    before = snapshot(doc)
    stroke = MaskStroke.begin(doc, 5, value=False)
    stroke.add_segment((300, 250), (310, 260))  # nothing to erase there
    assert stroke.end() is None
    stroke = MaskStroke.begin(doc, 30)
    stroke.add_segment((10, 10), (390, 290))
    seen = []
    doc.listen(lambda name, box: seen.append(box))
    stroke.cancel()
    assert same(doc, before)
    assert seen == [BBox(0, 0, W, H)]
    assert stroke.add_segment((1, 1), (20, 20)).empty and stroke.end() is None
    assert same(doc, before)


def test_stroke_goes_stale_when_the_document_is_replaced():
    doc = make_doc()
    stroke = MaskStroke.begin(doc, 5)
    stroke.add_segment((10, 10), (50, 50))
    doc.replace(np.zeros((20, 20, 3), np.uint8))
    assert not stroke.active
    assert stroke.add_segment((1, 1), (5, 5)).empty
    stroke.cancel()
    assert stroke.end() is None and not doc.mask.any()


def test_stroke_hardness_and_outside_segments():
    doc = make_doc()
    stroke = MaskStroke.begin(doc, 20, hardness=0.0)
    assert stroke.add_segment((-100, -100), (-90, -90)).empty
    box = stroke.add_segment((250.3, 250.2), (250.3, 250.2))
    ref = np.zeros((H, W), bool)
    raster.stamp_segment(ref, (250.3, 250.2), (250.3, 250.2), 10.0)
    assert box == BBox.of_mask(ref) and doc.mask[ref].all()


@pytest.mark.parametrize("add", [True, False])
def test_lasso(add):
    doc = make_doc()
    before = snapshot(doc)
    pts = [(30.5, 40.2), (200.7, 80.1), (90.3, 250.9), (60.2, 100.0)]
    cmd = Lasso.apply(doc, pts, add=add)
    expected = before[1].copy()
    raster.fill_polygon(expected, pts, add)
    assert np.array_equal(doc.mask, expected)
    assert cmd.text == ("Lasso add" if add else "Lasso subtract")
    check_undo_redo(doc, cmd, before)
    assert Lasso.apply(doc, pts, add=add, text="Polygon lasso").text == "Polygon lasso"


def test_rect_select():
    doc = make_doc()
    before = snapshot(doc)
    cmd = RectSelect.apply(doc, 300.2, 10.7, 150.6, 100.1, add=True)
    expected = before[1].copy()
    raster.fill_rect(expected, 150.6, 10.7, 300.2, 100.1)
    assert np.array_equal(doc.mask, expected) and cmd.text == "Rectangle add"
    check_undo_redo(doc, cmd, before)
    assert RectSelect.apply(doc, 250, 250, 260, 260, add=False) is None  # nothing to remove


@pytest.mark.parametrize("op,n,text", [("clear", 0, "Clear mask"), ("invert", 0, "Invert mask"),
                                       ("grow", 4, "Grow mask 4 px"), ("shrink", 3, "Shrink mask 3 px")])
def test_mask_ops(op, n, text):
    doc = make_doc()
    before = snapshot(doc)
    cmd = MaskOp.apply(doc, op, n)
    expected = before[1].copy()
    getattr(raster, op)(*((expected, n) if n else (expected,)))
    assert np.array_equal(doc.mask, expected) and cmd.text == text
    check_undo_redo(doc, cmd, before)


def test_clear_sketch_and_import():
    doc = make_doc()
    before = snapshot(doc)
    cmd = MaskOp.apply(doc, "clear", layer="sketch")
    assert cmd.text == "Clear sketch" and not doc.sketch.any()
    check_undo_redo(doc, cmd, before)
    new = np.zeros((H, W), bool)
    new[200:250, 300:390] = True
    cmd = MaskOp.apply(doc, "import", mask=new)
    assert np.array_equal(doc.mask, new) and cmd.text == "Import mask"
    check_undo_redo(doc, cmd, before)
    with pytest.raises(UserError, match="10x5"):
        MaskOp.apply(doc, "import", mask=np.zeros((5, 10), bool))
    with pytest.raises(ValueError):
        MaskOp.apply(doc, "blur")
    doc.mask[:] = False
    assert MaskOp.apply(doc, "clear") is None and MaskOp.apply(doc, "grow", 3) is None


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("full", [True, False])
def test_apply_fill_writes_box_and_clears_mask(dtype, full):
    doc = make_doc(dtype)
    before = snapshot(doc)
    box = BBox.of_mask(doc.mask)
    result = doc.image.copy()
    result[doc.mask] = 1000 if dtype == np.uint16 else 100
    cmd = ApplyFill.apply(doc, result if full else result[box.slices], box, engine="Telea")
    assert cmd.text == "Fill (Telea)"
    assert np.array_equal(doc.image, result) and not doc.mask.any()
    assert np.array_equal(doc.sketch, before[2])
    check_undo_redo(doc, cmd, before)


def test_apply_fill_used_mask_and_sketch():
    doc = make_doc()
    used = doc.mask.copy()
    raster.fill_rect(doc.mask, 300, 200, 350, 250)  # painted during the fill
    before = snapshot(doc)
    box = BBox.of_mask(used)
    result = doc.image.copy()
    result[used] = 0
    cmd = ApplyFill.apply(doc, result, box, used_mask=used, clear_sketch=True)
    assert np.array_equal(doc.mask, before[1] & ~used)
    assert np.array_equal(doc.sketch, before[2] & ~used)
    check_undo_redo(doc, cmd, before)
    with pytest.raises(ValueError):
        ApplyFill.apply(doc, result[:10, :10], box)
    with pytest.raises(ValueError):
        ApplyFill.apply(doc, result.astype(np.uint16), box)
