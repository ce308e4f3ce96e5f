"""Mask and sketch tools driven by synthetic mouse events at a non-1 zoom."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from inpaint_studio.core import raster


def image_point(canvas, view_point: QPoint) -> tuple[float, float]:
    """The documented mapping: image = (view - origin) / zoom."""
    o = canvas.origin()
    return ((view_point.x() - o.x()) / canvas.zoom, (view_point.y() - o.y()) / canvas.zoom)


def drag(qtbot, canvas, points, modifier=Qt.NoModifier):
    vp = canvas.viewport()
    qtbot.mousePress(vp, Qt.LeftButton, modifier, points[0])
    for p in points[1:]:
        qtbot.mouseMove(vp, p)
    qtbot.mouseRelease(vp, Qt.LeftButton, modifier, points[-1])


@pytest.fixture
def zoomed(opened):
    opened.canvas.set_zoom(1.75)
    assert opened.canvas.zoom == 1.75
    return opened


def test_mapping_is_exact(zoomed):
    canvas = zoomed.canvas
    for vx, vy in ((0, 0), (37, 91), (311, 200)):
        got = canvas.map_to_image(QPointF(vx, vy))
        assert (got.x(), got.y()) == image_point(canvas, QPoint(vx, vy))
        back = canvas.map_from_image(got)
        assert (back.x(), back.y()) == pytest.approx((vx, vy))


def test_brush_stroke_sets_exactly_the_raster_pixels(qtbot, zoomed):
    win, canvas = zoomed, zoomed.canvas
    win.select_tool("tool_brush")
    win.brush.size, win.brush.hardness = 9.0, 1.0
    o = canvas.origin()
    view = [QPoint(int(o.x()) + x, int(o.y()) + y) for x, y in ((30, 40), (61, 47), (95, 80), (120, 81))]
    drag(qtbot, canvas, view)
    expected = np.zeros_like(win.document.mask)
    pts = [image_point(canvas, p) for p in view]
    raster.stamp_segment(expected, pts[0], pts[0], 4.5)
    for a, b in zip(pts[:-1], pts[1:]):
        raster.stamp_segment(expected, a, b, 4.5)
    assert expected.sum() > 100
    assert np.array_equal(win.document.mask, expected)
    assert win.history.steps == ["Brush stroke"]
    # the eraser removes exactly its own footprint, as one more step
    win.select_tool("tool_eraser")
    drag(qtbot, canvas, view[1:3])
    pts = [image_point(canvas, p) for p in view[1:3]]
    raster.stamp_segment(expected, pts[0], pts[0], 4.5, value=False)
    raster.stamp_segment(expected, pts[0], pts[1], 4.5, value=False)
    assert np.array_equal(win.document.mask, expected)
    assert win.history.steps == ["Brush stroke", "Eraser stroke"]


def test_overlay_matches_mask_after_stroke(qtbot, zoomed):
    win, canvas = zoomed, zoomed.canvas
    o = canvas.origin()
    drag(qtbot, canvas, [QPoint(int(o.x()) + 20, int(o.y()) + 20), QPoint(int(o.x()) + 200, int(o.y()) + 90)])
    shown = np.zeros_like(win.document.mask)
    for (tx, ty), (buf, _) in canvas.mask_overlay._tiles.items():
        from inpaint_studio.ui.canvas.overlay import TILE

        shown[ty * TILE:ty * TILE + buf.shape[0], tx * TILE:tx * TILE + buf.shape[1]] = buf != 0
    assert np.array_equal(shown, win.document.mask)


def test_lasso_add_then_subtract(qtbot, zoomed):
    win, canvas = zoomed, zoomed.canvas
    win.select_tool("tool_lasso")
    o = canvas.origin()
    big = [QPoint(int(o.x()) + x, int(o.y()) + y) for x, y in ((20, 20), (180, 25), (190, 150), (30, 160))]
    drag(qtbot, canvas, big)
    expected = np.zeros_like(win.document.mask)
    raster.fill_polygon(expected, [image_point(canvas, p) for p in big] + [image_point(canvas, big[-1])])
    assert np.array_equal(win.document.mask, expected)
    small = [QPoint(int(o.x()) + x, int(o.y()) + y) for x, y in ((60, 60), (120, 62), (110, 120))]
    drag(qtbot, canvas, small, Qt.AltModifier)
    raster.fill_polygon(expected, [image_point(canvas, p) for p in small] + [image_point(canvas, small[-1])],
                        value=False)
    assert np.array_equal(win.document.mask, expected)
    assert 0 < win.document.mask.sum() < (expected | True).sum()
    assert win.history.steps == ["Lasso add", "Lasso subtract"]


def test_polygon_lasso_with_clicks_and_enter(qtbot, zoomed):
    win, canvas = zoomed, zoomed.canvas
    win.select_tool("tool_polygon")
    o = canvas.origin()
    corners = [QPoint(int(o.x()) + x, int(o.y()) + y) for x, y in ((40, 30), (200, 40), (150, 170))]
    vp = canvas.viewport()
    for p in corners:
        qtbot.mouseClick(vp, Qt.LeftButton, Qt.NoModifier, p)
    assert win.document.mask.sum() == 0  # nothing until closed
    qtbot.keyClick(canvas, Qt.Key_Return)
    expected = np.zeros_like(win.document.mask)
    raster.fill_polygon(expected, [image_point(canvas, p) for p in corners])
    assert np.array_equal(win.document.mask, expected)
    assert win.history.steps == ["Lasso add"]


def test_rectangle_add_and_ctrl_subtract(qtbot, zoomed):
    win, canvas = zoomed, zoomed.canvas
    win.select_tool("tool_rect")
    o = canvas.origin()
    a, b = QPoint(int(o.x()) + 10, int(o.y()) + 15), QPoint(int(o.x()) + 150, int(o.y()) + 120)
    drag(qtbot, canvas, [a, b])
    expected = np.zeros_like(win.document.mask)
    raster.fill_rect(expected, *image_point(canvas, a), *image_point(canvas, b))
    assert np.array_equal(win.document.mask, expected)
    c, d = QPoint(int(o.x()) + 40, int(o.y()) + 40), QPoint(int(o.x()) + 60, int(o.y()) + 70)
    drag(qtbot, canvas, [c, d], Qt.ControlModifier)
    raster.fill_rect(expected, *image_point(canvas, c), *image_point(canvas, d), value=False)
    assert np.array_equal(win.document.mask, expected)
    assert win.history.steps == ["Rectangle add", "Rectangle subtract"]


def test_sketch_pen_paints_sketch_layer_only(qtbot, zoomed):
    win, canvas = zoomed, zoomed.canvas
    win.select_tool("tool_sketch")
    o = canvas.origin()
    drag(qtbot, canvas, [QPoint(int(o.x()) + 10, int(o.y()) + 10), QPoint(int(o.x()) + 100, int(o.y()) + 10)])
    assert win.document.sketch.sum() > 0 and win.document.mask.sum() == 0
    assert win.history.steps == ["Sketch line"]


def test_right_click_aborts_a_stroke(qtbot, zoomed):
    win, canvas = zoomed, zoomed.canvas
    vp = canvas.viewport()
    o = canvas.origin()
    qtbot.mousePress(vp, Qt.LeftButton, Qt.NoModifier, QPoint(int(o.x()) + 30, int(o.y()) + 30))
    qtbot.mouseMove(vp, QPoint(int(o.x()) + 90, int(o.y()) + 30))
    assert win.document.mask.any()
    qtbot.mousePress(vp, Qt.RightButton, Qt.NoModifier, QPoint(int(o.x()) + 90, int(o.y()) + 30))
    qtbot.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, QPoint(int(o.x()) + 90, int(o.y()) + 30))
    assert not win.document.mask.any()
    assert win.history.steps == []


def test_bracket_keys_change_brush_size(qtbot, opened):
    win = opened
    win.select_tool("tool_brush")
    start = win.brush.size
    win.act.brush_bigger.trigger()
    assert win.brush.size > start and win.size_spin.value() == round(win.brush.size)
    win.act.brush_smaller.trigger()
    win.act.brush_smaller.trigger()
    assert win.brush.size < start
    assert win.act.brush_bigger.shortcut().toString() == "]"
    assert win.act.brush_smaller.shortcut().toString() == "["
