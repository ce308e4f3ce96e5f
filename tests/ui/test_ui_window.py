"""The editor window: undo/redo of every step kind, history panel, fills, files."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt

import fake_engines
from inpaint_studio import fileio
from inpaint_studio.commands.edits import ApplyFill, MaskStroke, SketchStroke
from inpaint_studio.core.errors import UserError
from inpaint_studio.core.types import BBox
from inpaint_studio.ui.dialogs import dialogs
from photos import make_photo


def state(doc):
    return doc.image.copy(), doc.mask.copy(), doc.sketch.copy()


def assert_state(doc, expected):
    for got, want in zip(state(doc), expected):
        assert np.array_equal(got, want)


def stroke(win, cls, points, radius=5, value=True):
    s = cls.begin(win.document, radius=radius, value=value)
    for a, b in zip(points[:-1], points[1:]):
        s.add_segment(a, b)
    win.history.push(s.end())


def change_photo(win, value, box=(5, 5, 10, 10)):
    """Change some photo pixels as a fill would (one undo step)."""
    doc = win.document
    image = doc.image.copy()
    x0, y0, x1, y1 = box
    image[y0:y1, x0:x1] = value
    win.history.push(ApplyFill.apply(doc, image, BBox(*box)))


def fill_and_wait(qtbot, win, engine, signal="finished", timeout=20000):
    win.engine_panel.set_engine(engine)
    assert win.engine_panel.engine == engine
    with qtbot.waitSignal(getattr(win.service, signal), timeout=timeout) as blocker:
        win.act.run.trigger()
    return blocker


def test_undo_redo_every_step_kind(qtbot, opened, monkeypatch):
    win, doc = opened, opened.document
    monkeypatch.setattr(dialogs, "ask_grow", lambda parent: 3)
    snapshots = [state(doc)]
    steps = [
        lambda: stroke(win, MaskStroke, [(10, 10), (60, 30)]),
        lambda: stroke(win, MaskStroke, [(20, 10), (40, 25)], value=False),
        lambda: stroke(win, SketchStroke, [(5, 90), (150, 95)], radius=2),
        lambda: win.mask_op("invert"),
        lambda: win.mask_op("invert"),
        lambda: win.act.grow_mask.trigger(),
        lambda: win.mask_op("shrink", 2),
        lambda: fill_and_wait(qtbot, win, "flat"),
        lambda: stroke(win, MaskStroke, [(100, 60), (120, 70)]),
        lambda: win.act.clear_mask.trigger(),
        lambda: win.act.clear_sketch.trigger(),
    ]
    for step in steps:
        step()
        snapshots.append(state(doc))
        assert win.history.index == len(snapshots) - 1
    assert "Fill (Flat)" in win.history.steps
    assert not np.array_equal(snapshots[-1][0], snapshots[0][0])  # the fill changed pixels
    for expected in reversed(snapshots[:-1]):
        win.act.undo.trigger()
        assert_state(doc, expected)
    assert not win.act.undo.isEnabled() and not doc.modified
    for expected in snapshots[1:]:
        win.act.redo.trigger()
        assert_state(doc, expected)
    assert doc.modified


def test_history_panel_jumps_to_a_step(qtbot, opened):
    win, doc = opened, opened.document
    snapshots = [state(doc)]
    for y in (10, 40, 70):
        stroke(win, MaskStroke, [(10, y), (90, y)])
        snapshots.append(state(doc))
    panel = win.history_panel.list
    assert [panel.item(i).text() for i in range(panel.count())] == ["Opened photo"] + ["Brush stroke"] * 3
    rect = panel.visualItemRect(panel.item(1))
    qtbot.mouseClick(panel.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    assert win.history.index == 1
    assert_state(doc, snapshots[1])
    win.history_panel.goto(3)
    assert_state(doc, snapshots[3])
    win.history_panel.goto(0)
    assert_state(doc, snapshots[0])


def test_patchmatch_fill_changes_only_the_hole(qtbot, window, tmp_path):
    path = tmp_path / "small.png"
    make_photo(path, 72, 56, seed=3)
    win = window
    assert win.open_path(path)
    doc = win.document
    before = doc.image.copy()
    hole = np.zeros_like(doc.mask)
    hole[20:32, 26:44] = True
    doc.write_region("mask", doc.bounds, hole)
    win.engine_panel.set_params({"iterations": 2, "patch_size": 5})
    fill_and_wait(qtbot, win, "patchmatch", timeout=60000)
    changed = (doc.image != before).any(axis=2)
    assert changed.any()
    assert not changed[~hole].any()
    assert not doc.mask.any()
    assert win.history.steps == ["Fill (PatchMatch)"]
    assert win.engine_panel.run_button.isEnabled()
    win.act.undo.trigger()
    assert np.array_equal(doc.image, before) and np.array_equal(doc.mask, hole)


def test_cancel_mid_run_leaves_document_unchanged(qtbot, opened):
    win, doc = opened, opened.document
    stroke(win, MaskStroke, [(30, 30), (80, 60)], radius=8)
    before, steps = state(doc), win.history.steps
    win.engine_panel.set_engine("slow")
    with qtbot.waitSignal(win.service.progress, timeout=10000):
        win.act.run.trigger()
    assert win.engine_panel.cancel_button.isEnabled() and not win.act.run.isEnabled()
    # painting goes on while the fill runs
    qtbot.mouseMove(win.canvas.viewport(), QPoint(50, 50))
    with qtbot.waitSignal(win.service.cancelled, timeout=10000):
        win.engine_panel.cancel_button.click()
    assert_state(doc, before)
    assert win.history.steps == steps
    assert win.engine_panel.run_button.isEnabled() and not win.fill_progress.isVisible()
    assert "cancelled" in win.engine_panel.status.text()


def test_engine_error_shows_message_and_changes_nothing(qtbot, opened, messages):
    win, doc = opened, opened.document
    stroke(win, MaskStroke, [(30, 30), (80, 60)], radius=8)
    before, steps = state(doc), win.history.steps
    fill_and_wait(qtbot, win, "broken", signal="failed")
    assert messages == [("Fill failed", "RuntimeError: kernel exploded")]
    assert_state(doc, before)
    assert win.history.steps == steps and win.engine_panel.run_button.isEnabled()


def test_run_with_empty_mask_does_nothing(qtbot, opened):
    win = opened
    win.act.run.trigger()
    assert not win.service.busy
    assert "mask" in win.engine_panel.status.text().lower()


def test_open_save_round_trip_through_actions(qtbot, window, photo, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    path, pixels = photo
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    window.act.open.trigger()
    doc = window.document
    assert np.array_equal(doc.image, pixels) and window.windowTitle().startswith("photo.png")
    stroke(window, MaskStroke, [(20, 20), (70, 40)], radius=6)
    fill_and_wait(qtbot, window, "flat")
    assert doc.modified

    # Save on the opened file asks once; "Save As…" keeps the original untouched
    out = tmp_path / "edited.png"
    asked = []
    monkeypatch.setattr(dialogs, "ask_overwrite_original", lambda p, n: asked.append(n) or "save_as")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    window.act.save.trigger()
    assert asked == ["photo.png"]
    assert np.array_equal(np.asarray(Image.open(path)), pixels)
    assert np.array_equal(fileio.load_image(out).pixels, doc.image)
    assert not doc.modified and doc.path == out
    # the new file is ours: Save writes it without asking
    stroke(window, MaskStroke, [(100, 80), (120, 90)], radius=4)
    fill_and_wait(qtbot, window, "flat")
    window.act.save.trigger()
    assert asked == ["photo.png"]
    assert np.array_equal(fileio.load_image(out).pixels, doc.image)
    assert str(out.resolve()) == window.files.recent_files()[0]


def test_saving_shows_a_busy_cursor_and_message_then_restores_them(qtbot, opened, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen, warnings = [], []
    real_save = fileio.save_image

    def spy(path, *args, **kwargs):
        cursor = QApplication.overrideCursor()
        seen.append((cursor.shape() if cursor else None, opened.statusBar().currentMessage()))
        if path.name == "bad.png":
            raise UserError(f"{path}: cannot write here")
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(fileio, "save_image", spy)
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append(
        (QApplication.overrideCursor(), text)))
    assert opened.files._write(tmp_path / "good.png")
    assert seen[-1] == (Qt.CursorShape.WaitCursor, "Saving good.png…")
    assert QApplication.overrideCursor() is None and opened.statusBar().currentMessage() == "Saved good.png"
    assert not opened.files._write(tmp_path / "bad.png")
    assert seen[-1] == (Qt.CursorShape.WaitCursor, "Saving bad.png…")
    assert warnings == [(None, f"{tmp_path / 'bad.png'}: cannot write here")]  # normal cursor over the message
    assert QApplication.overrideCursor() is None and (tmp_path / "good.png").is_file()


def test_overwrite_original_asked_once_and_jpeg_quality_once(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "shot.jpg"
    Image.fromarray(np.full((40, 50, 3), 120, np.uint8)).save(path, quality=90)
    assert window.open_path(path)
    asked, qualities = [], []
    monkeypatch.setattr(dialogs, "ask_overwrite_original", lambda p, n: asked.append(n) or "overwrite")
    monkeypatch.setattr(dialogs, "ask_jpeg_quality", lambda p, default=95: qualities.append(1) or 80)
    window.act.save.trigger()  # nothing changed: nothing written, nothing asked
    assert asked == [] and qualities == []
    for value in (10, 20):
        change_photo(window, value)  # a mask stroke alone would not need a save
        window.act.save.trigger()
        assert not window.document.modified
    assert asked == ["shot.jpg"] and qualities == [1]
    assert fileio.load_image(path).pixels.shape == (40, 50, 3)


def test_mask_export_import_round_trip(qtbot, opened, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    win, doc = opened, opened.document
    stroke(win, MaskStroke, [(20, 20), (100, 70)], radius=9)
    mask = doc.mask.copy()
    out = tmp_path / "mask.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    win.act.export_mask.trigger()
    win.act.clear_mask.trigger()
    assert not doc.mask.any()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(out), "")))
    win.act.import_mask.trigger()
    assert np.array_equal(doc.mask, mask)
    assert win.history.steps[-1] == "Import mask"


def test_bad_file_shows_one_line_error(qtbot, window, tmp_path, messages):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    assert not window.open_path(bad)
    assert len(messages) == 1 and "broken.jpg" in messages[0][1] and "\n" not in messages[0][1]
    assert window.document is None


def test_close_with_unsaved_changes_asks(qtbot, opened, monkeypatch):
    win = opened
    answers = ["cancel", "discard"]
    monkeypatch.setattr(dialogs, "ask_unsaved", lambda p, n: answers.pop(0))
    stroke(win, MaskStroke, [(20, 20), (60, 40)])
    assert win.maybe_save() and len(answers) == 2  # a mask alone is not saved with the photo
    assert not win.isWindowModified()
    change_photo(win, 0)
    assert win.isWindowModified()
    assert not win.close()
    assert win.isVisible() and answers == ["discard"]
    assert win.close()
    assert answers == []


def test_hold_backslash_shows_original(qtbot, opened, photo):
    win, canvas = opened, opened.canvas
    pixels = photo[1]
    win.engine_panel.colour_check.setChecked(False)  # keep the engine's black
    stroke(win, MaskStroke, [(20, 20), (60, 40)], radius=8)
    fill_and_wait(qtbot, win, "flat", timeout=10000)  # paints the hole black
    stroke(win, MaskStroke, [(30, 20), (70, 40)], radius=8)
    fill_and_wait(qtbot, win, "flat")  # a second fill over the first: the opened photo still wins
    win.act.show_mask.setChecked(False)
    canvas.set_zoom(2.0)

    def shown(x, y):
        view = canvas.map_from_image(QPointF(x + 0.5, y + 0.5)).toPoint()
        colour = canvas.viewport().grab().toImage().pixelColor(view)
        return colour.red(), colour.green(), colour.blue()

    assert shown(40, 30) == (0, 0, 0)
    qtbot.keyPress(canvas, Qt.Key_Backslash)
    assert canvas.compare_mode == "original"
    assert shown(40, 30) == tuple(pixels[30, 40])
    qtbot.keyRelease(canvas, Qt.Key_Backslash)
    assert canvas.compare_mode == "off"
    assert shown(40, 30) == (0, 0, 0)
    win.act.split.trigger()
    assert canvas.compare_mode == "split"
    canvas.grab()  # paints both halves without error


def test_split_view_shows_the_original_on_the_left(qtbot, opened, photo):
    win, canvas = opened, opened.canvas
    pixels = photo[1]
    height, width = pixels.shape[:2]
    win.engine_panel.colour_check.setChecked(False)  # keep the engine's black
    stroke(win, MaskStroke, [(4, height // 2), (width - 5, height // 2)], radius=6)  # a band
    fill_and_wait(qtbot, win, "flat")
    win.act.show_mask.setChecked(False)
    win.act.split.trigger()
    assert canvas.compare_mode == "split"
    shot = canvas.viewport().grab().toImage()
    middle = canvas.viewport().width() / 2
    y = height // 2
    left = right = 0
    for x in range(8, width - 8):
        view = canvas.map_from_image(QPointF(x + 0.5, y + 0.5))
        if abs(view.x() - middle) < 3:
            continue  # the divider line
        colour = shot.pixelColor(view.toPoint())
        got = (colour.red(), colour.green(), colour.blue())
        if view.x() < middle:
            assert got == tuple(pixels[y, x]), x
            left += 1
        else:
            assert got == (0, 0, 0), x
            right += 1
    assert left > 10 and right > 10  # both halves were looked at


def test_settings_remembered(qtbot, opened, tmp_path):
    from PySide6.QtCore import QSettings

    from inpaint_studio.ui.main_window import MainWindow

    win = opened
    win.engine_panel.set_engine("telea")
    win.brush.size = 77
    assert not win.engine_panel.colour_match  # off by default
    assert win.engine_panel.feather == 0  # only masked pixels change by default
    win.engine_panel.colour_check.setChecked(True)
    win.save_settings()
    again = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat),
                       service=win.service)
    try:
        assert again.engine_panel.engine == "telea"
        assert again.brush.size == 77
        assert again.engine_panel.colour_match
    finally:
        again.deleteLater()


def test_help_lists_every_shortcut(qtbot, window):
    help_dialog = dialogs.HelpDialog(window)
    keys = {help_dialog.table.item(r, 1).text() for r in range(help_dialog.table.rowCount())}
    for action in window.act.all():
        for seq in action.shortcuts():
            assert any(seq.toString() in k.split(", ") for k in keys), seq.toString()
    help_dialog.deleteLater()


def test_choosing_a_not_ready_engine_asks_for_weights_and_keeps_the_current_one(qtbot, window, monkeypatch):
    from inpaint_studio.engines import registry
    from inpaint_studio.ui.panels.engine_panel import EnginePanel

    real = registry.readiness
    monkeypatch.setattr(registry, "readiness", lambda name: registry.Readiness(False, "weights missing")
                        if name == "telea" else real(name))
    panel = EnginePanel()
    index = panel.engine_combo.findData("telea")
    assert panel.engine_combo.itemText(index).endswith("(not ready)")
    assert "needs weight files" in panel.engine_combo.itemData(index, Qt.ToolTipRole)
    assert not panel.set_engine("telea") and not panel.is_ready("telea")
    before = panel.engine
    with qtbot.waitSignal(panel.setup_requested) as blocker:
        panel.engine_combo.setCurrentIndex(index)  # as a click in the list does
    assert blocker.args == ["telea"] and panel.engine == before
    panel.deleteLater()


def test_main_window_does_not_import_torch(tmp_path):
    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtCore import QSettings\n"
        "from inpaint_studio.app import make_application\n"
        "app = make_application()\n"
        "from inpaint_studio.ui.main_window import MainWindow\n"
        f"w = MainWindow(QSettings(r'{tmp_path / 's.ini'}', QSettings.IniFormat)); w.show()\n"
        "app.processEvents(); w.close()\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_fill_finishing_mid_stroke_waits_for_the_stroke(qtbot, opened):
    win, doc, canvas = opened, opened.document, opened.canvas
    stroke(win, MaskStroke, [(20, 20), (50, 30)], radius=6)
    hole = doc.mask.copy()
    win.engine_panel.set_engine("slow")
    with qtbot.waitSignal(win.service.progress, timeout=10000):
        win.act.run.trigger()
    win.select_tool("tool_brush")
    vp = canvas.viewport()
    start = canvas.map_from_image(QPointF(120, 90)).toPoint()
    qtbot.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    with qtbot.waitSignal(win.service.finished, timeout=10000):
        fake_engines.SlowEngine.release.set()
    assert win.history.steps == ["Brush stroke"]  # the result waits
    qtbot.mouseMove(vp, start + QPoint(30, 0))
    with qtbot.waitSignal(canvas.gesture_ended, timeout=5000):
        qtbot.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, start + QPoint(30, 0))
    qtbot.waitUntil(lambda: len(win.history.steps) == 3, timeout=5000)
    assert win.history.steps == ["Brush stroke", "Brush stroke", "Fill (Slow)"]
    assert not doc.mask[hole].any() and doc.mask[~hole].any()  # the new stroke stays
    win.act.undo.trigger()
    assert np.array_equal(doc.mask & hole, hole)


def test_history_byte_budget_drops_oldest_steps(qtbot, opened):
    win, doc = opened, opened.document
    win.history.byte_budget, win.history.min_steps = 1, 3  # every step is over budget
    for y in range(10, 110, 10):
        stroke(win, MaskStroke, [(5, y), (150, y + 3)], radius=3)
    assert win.history.steps == ["Brush stroke"] * 3
    assert win.history_panel.list.count() == 4
    kept = state(doc)
    for _ in range(3):
        win.act.undo.trigger()
    assert not win.act.undo.isEnabled()
    assert doc.mask[:60].any()  # the dropped steps stay applied
    for _ in range(3):
        win.act.redo.trigger()
    assert_state(doc, kept)
