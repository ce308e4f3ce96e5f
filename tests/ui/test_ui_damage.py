"""Old photos in the editor: detect scratches & dust (overlay, slider, apply, undo),
the thin-mask engine choice and the heal brush."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from inpaint_studio.commands.edits import RectSelect
from inpaint_studio.core import raster
from inpaint_studio.ui.damage_detect import STEP_TEXT

WAIT = 30000


def old_photo(w=240, h=180, seed=1) -> np.ndarray:
    """Sepia, smooth with grain, bright scratches and dark specks of falling contrast."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    g = 90 + 60 * np.sin(x / 37.0) + 40 * np.cos(y / 29.0) + rng.normal(0, 2.0, (h, w))
    for i, c in enumerate((40, 24, 16, 11, 8, 6)):
        line = np.zeros((h, w), np.uint8)
        cv2.line(line, (20 + i * 35, 10), (35 + i * 35, h - 40), 1, 2)
        g = g + c * line
    for i, c in enumerate((50, 35, 25, 18, 13, 9, 7, 5)):
        dot = np.zeros((h, w), np.uint8)
        cv2.circle(dot, (15 + i * 28, 160), 2, 1, -1)
        g = g - c * dot
    return np.clip(np.stack([g * 1.05, g, g * 0.85], 2), 0, 255).astype(np.uint8)


@pytest.fixture
def old(window, tmp_path):
    path = tmp_path / "old.png"
    Image.fromarray(old_photo()).save(path)
    assert window.open_path(path)
    return window


def green_pixels(win) -> int:
    """Pixels of the painted canvas that show the proposal overlay (the photo is sepia:
    never green)."""
    image = win.canvas.viewport().grab().toImage().convertToFormat(QImage.Format_RGB32)
    arr = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    b, g, r = (arr[..., i].astype(int) for i in range(3))
    return int(np.count_nonzero((g > r + 60) & (g > b + 60)))


def start_detection(qtbot, win):
    with qtbot.waitSignal(win.damage.proposal_changed, timeout=WAIT):
        win.act.detect_damage.trigger()
    assert win.damage.dock.isVisible()


def set_sensitivity(qtbot, win, value: int) -> np.ndarray:
    with qtbot.waitSignal(win.damage.proposal_changed, timeout=WAIT):
        win.damage.panel.slider.setValue(value)
    return win.damage.proposal.copy()


def test_detect_adjust_apply_undo(qtbot, old):
    win, doc = old, old.document
    win.history.push(RectSelect.apply(doc, 5, 5, 40, 30))  # some mask already there
    before, steps = doc.mask.copy(), list(win.history.steps)
    start_detection(qtbot, win)
    proposals, shown = {}, {}
    for value in (10, 50, 90):
        proposals[value] = set_sensitivity(qtbot, win, value)
        shown[value] = green_pixels(win)
    low, mid, high = proposals[10], proposals[50], proposals[90]
    # higher sensitivity only adds, on screen too
    assert not (low & ~mid).any() and not (mid & ~high).any()
    assert high.sum() > low.sum() and high.any()
    assert shown[10] <= shown[50] <= shown[90] and shown[90] > shown[10]
    assert (shown[10] == 0) == (not low.any())
    assert doc.mask.sum() == before.sum()  # nothing applied yet
    qtbot.mouseClick(win.damage.panel.apply_button, Qt.LeftButton)
    assert np.array_equal(doc.mask, before | high)
    assert win.history.steps == steps + [STEP_TEXT]
    assert green_pixels(win) == 0 and not win.damage.dock.isVisible()
    win.undo()
    assert np.array_equal(doc.mask, before) and win.history.steps[:win.history.index] == steps
    win.redo()
    assert np.array_equal(doc.mask, before | high)


def test_cancel_removes_the_overlay_and_changes_nothing(qtbot, old):
    win = old
    start_detection(qtbot, win)
    set_sensitivity(qtbot, win, 90)
    assert green_pixels(win) > 0
    qtbot.mouseClick(win.damage.panel.cancel_button, Qt.LeftButton)
    assert green_pixels(win) == 0 and not win.damage.dock.isVisible()
    assert not win.document.mask.any() and win.history.steps == []


def test_max_width_analyses_again(qtbot, old):
    win = old
    start_detection(qtbot, win)
    first = win.damage.analysis
    with qtbot.waitSignal(win.damage.proposal_changed, timeout=WAIT):
        win.damage.panel.width_spin.setValue(3)
    assert win.damage.analysis is not first and win.damage.analysis.max_width == 3


def test_another_photo_closes_detection(qtbot, old, photo):
    win = old
    start_detection(qtbot, win)
    set_sensitivity(qtbot, win, 90)
    assert win.open_path(photo[0])
    assert not win.damage.active and win.canvas.proposal_overlay.tile_count == 0  # (a green photo)


def thin_mask(doc) -> None:
    doc.mask[60:63, 30:150] = True
    doc.notify("mask", doc.bounds)


def test_thin_mask_fills_with_telea_unless_an_engine_was_chosen(qtbot, old):
    win, doc = old, old.document
    thin_mask(doc)
    with qtbot.waitSignal(win.service.finished, timeout=WAIT):
        win.run_fill()
        said = win.statusBar().currentMessage()
    assert said.startswith("Thin mask: filling with Telea")
    assert win.history.steps == ["Fill (Telea (fast))"] and not doc.mask.any()
    win.engine_panel.set_engine("flat")  # the user's choice wins from now on
    thin_mask(doc)
    with qtbot.waitSignal(win.service.finished, timeout=WAIT):
        win.run_fill()
    assert win.history.steps[-1] == "Fill (Flat)"


def dab_points(win):
    """View points of a short drag across the brightest scratch (x ~ 20-35 in the photo)."""
    canvas = win.canvas
    pts = [(18.0, 50.0), (32.0, 52.0)]
    return [canvas.map_from_image(type(canvas.origin())(x, y)).toPoint() for x, y in pts]


def image_points(win, view):
    o, z = win.canvas.origin(), win.canvas.zoom
    return [((p.x() - o.x()) / z, (p.y() - o.y()) / z) for p in view]


def heal_drag(qtbot, win, view):
    vp = win.canvas.viewport()
    qtbot.mousePress(vp, Qt.LeftButton, Qt.NoModifier, view[0])
    qtbot.mouseMove(vp, view[1])
    qtbot.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, view[1])


def test_heal_dab_fills_at_once_as_one_step(qtbot, old):
    win, doc = old, old.document
    win.history.push(RectSelect.apply(doc, 150, 5, 200, 30))  # unrelated mask stays
    image0, mask0, steps = doc.image.copy(), doc.mask.copy(), list(win.history.steps)
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key_H)
    assert win.canvas.tool is win.tools["tool_heal"]
    win.tools["tool_heal"].settings.size = 8.0
    view = dab_points(win)
    pts = image_points(win, view)
    footprint = np.zeros_like(doc.mask)
    raster.stamp_segment(footprint, pts[0], pts[0], 4.0)
    raster.stamp_segment(footprint, pts[0], pts[1], 4.0)
    heal_drag(qtbot, win, view)
    qtbot.waitUntil(lambda: win.history.steps[-1:] == ["Heal"] and not win.filling, timeout=WAIT)
    assert win.history.steps == steps + ["Heal"]
    changed = (doc.image != image0).any(axis=2)
    assert changed[footprint].mean() > 0.5  # the scratch under the dab is gone
    assert not changed[~footprint].any()  # nothing else moved
    assert np.array_equal(doc.mask, mask0)  # the dab's mask was used up, the rest kept
    win.undo()
    assert np.array_equal(doc.image, image0) and np.array_equal(doc.mask, mask0)
    assert win.history.steps[:win.history.index] == steps


def test_cancelled_heal_takes_the_stroke_back(qtbot, old):
    import fake_engines

    win, doc = old, old.document
    win.engine_panel.set_engine("slow")
    win.select_tool("tool_heal")
    image0 = doc.image.copy()
    heal_drag(qtbot, win, dab_points(win))
    assert win.filling and doc.mask.any() and win.fill_progress.isVisible()
    assert fake_engines.SlowEngine.started.wait(10)
    with qtbot.waitSignal(win.service.cancelled, timeout=WAIT):
        win.cancel_fill()
    assert not doc.mask.any() and np.array_equal(doc.image, image0) and win.history.steps == []
