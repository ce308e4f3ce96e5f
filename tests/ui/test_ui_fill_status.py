"""The Fill panel's status line follows what is on screen; checks before a fill."""
from __future__ import annotations

import numpy as np
from PIL import Image

import fake_engines
from inpaint_studio.commands.edits import MaskStroke
from inpaint_studio.ui.main_window import READY_STATUS


def stroke(win, points, radius=6):
    s = MaskStroke.begin(win.document, radius=radius, value=True)
    for a, b in zip(points[:-1], points[1:]):
        s.add_segment(a, b)
    win.history.push(s.end())


def fill(qtbot, win, engine="flat"):
    win.engine_panel.set_engine(engine)
    with qtbot.waitSignal(win.service.finished, timeout=20000):
        win.act.run.trigger()


def status(win) -> str:
    return win.engine_panel.status.text()


def test_fill_done_is_cleared_by_undo_a_new_fill_and_another_photo(qtbot, opened, tmp_path):
    win = opened
    stroke(win, [(20, 20), (60, 40)])
    fill(qtbot, win)
    assert status(win).startswith("Fill done")
    win.act.undo.trigger()
    assert status(win) == READY_STATUS
    win.act.redo.trigger()
    assert status(win) == READY_STATUS
    stroke(win, [(80, 60), (100, 80)])
    win.engine_panel.set_engine("slow")
    with qtbot.waitSignal(win.service.progress, timeout=20000):
        win.act.run.trigger()
        assert status(win) == "Filling with Slow…"
    assert not status(win).startswith("Fill done")  # progress messages, never the last fill's
    with qtbot.waitSignal(win.service.finished, timeout=20000):
        fake_engines.SlowEngine.release.set()
    assert status(win).startswith("Fill done")
    other = tmp_path / "other.png"
    Image.fromarray(np.full((50, 60, 3), 90, np.uint8)).save(other)
    win.history.set_clean()
    assert win.open_path(other)
    assert status(win) == READY_STATUS


def test_mask_only_changes_ask_for_no_save(qtbot, opened, monkeypatch):
    from inpaint_studio.ui.dialogs import dialogs

    win = opened
    asked = []
    monkeypatch.setattr(dialogs, "ask_unsaved", lambda p, n: asked.append(n) or "cancel")
    stroke(win, [(20, 20), (60, 40)])
    win.act.invert_mask.trigger()
    assert win.maybe_save() and asked == [] and not win.isWindowModified()
    fill(qtbot, win)  # the photo changes now
    assert win.isWindowModified() and not win.maybe_save() and asked == ["photo.png"]
    win.act.undo.trigger()  # back to the opened pixels: nothing to save
    assert not win.isWindowModified() and win.maybe_save()


def test_a_photo_too_small_or_an_all_hole_mask_is_said_before_filling(qtbot, window, tmp_path):
    win = window
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.full((5, 30, 3), 90, np.uint8)).save(tiny)
    assert win.open_path(tiny)
    win.document.mask[:] = True
    win.engine_panel.set_engine("flat")
    win.act.run.trigger()
    assert "too small to fill" in status(win) and win.fill.job is None
    big = tmp_path / "big.png"
    Image.fromarray(np.full((40, 30, 3), 90, np.uint8)).save(big)
    assert win.open_path(big)
    win.document.mask[:] = True
    win.act.run.trigger()
    assert "covers the whole photo" in status(win) and win.fill.job is None
