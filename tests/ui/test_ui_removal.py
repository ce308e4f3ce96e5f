"""Object removal in the editor: smart select, sampling area, variations, blend controls."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt

from inpaint_studio.core.settings import EngineSettings
from inpaint_studio.engines.base import Engine, EngineInfo, ParamSpec
from removal_scenes import avoid_scene, object_on_texture


class SeededEngine(Engine):
    """Fills the hole with a grey that depends on the seed (fast, distinct per seed)."""

    info = EngineInfo(name="seeded", title="Seeded", description="test engine",
                      target=f"{__name__}:SeededEngine", min_context=4,
                      params=(ParamSpec("seed", "Seed", 0, "int", 0, 1000),))

    def fill(self, image, hole, sketch=None, params=None, *, avoid=None, progress=None, cancel=None):
        out = image.copy()
        out[hole] = (40 + 50 * self.merged_params(params)["seed"]) % 256
        return out


@pytest.fixture
def seeded(monkeypatch, window):
    from inpaint_studio.engines import registry

    monkeypatch.setattr(registry, "ENGINES", dict(registry.ENGINES, seeded=SeededEngine.info))
    window.engine_panel.refresh_engines()
    return window


def view_pos(canvas, x, y):
    p = canvas.map_from_image(QPointF(x, y))
    return p.toPoint()


def drag(qtbot, canvas, points, modifier=Qt.NoModifier):
    vp = canvas.viewport()
    qtbot.mousePress(vp, Qt.LeftButton, modifier, view_pos(canvas, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(vp, view_pos(canvas, *p))
    qtbot.mouseRelease(vp, Qt.LeftButton, modifier, view_pos(canvas, *points[-1]))


def open_array(win, tmp_path, pixels, name="scene.png"):
    path = tmp_path / name
    Image.fromarray(pixels).save(path)
    assert win.open_path(path)
    return win.document


def fill_and_wait(qtbot, win, action="run", timeout=60000):
    with qtbot.waitSignal(win.service.finished, timeout=timeout):
        win.act.named(action).trigger()
    qtbot.waitUntil(lambda: win.fill.job is None, timeout=5000)


# ---- smart selection ---------------------------------------------------------------------
def test_box_selects_the_object_and_alt_subtracts(qtbot, window, tmp_path):
    image, truth = object_on_texture()
    doc = open_array(window, tmp_path, image)
    window.canvas.set_zoom(1.5)
    window.select_tool("tool_smart")
    drag(qtbot, window.canvas, [(120, 80), (200, 150), (300, 220)])
    cover = (doc.mask & truth).sum() / truth.sum()
    outside = (doc.mask & ~truth).sum() / truth.sum()
    assert cover >= 0.9 and outside <= 0.1
    assert window.history.steps == ["Smart select add"]
    drag(qtbot, window.canvas, [(120, 80), (300, 220)], Qt.AltModifier)
    assert doc.mask.sum() < 0.02 * truth.sum()
    assert window.history.steps == ["Smart select add", "Smart select subtract"]
    window.undo()
    assert (doc.mask & truth).sum() / truth.sum() >= 0.9


def test_scribble_selects_the_object(qtbot, window, tmp_path):
    image, truth = object_on_texture()
    doc = open_array(window, tmp_path, image)
    window.select_tool("tool_smart")
    drag(qtbot, window.canvas, [(170, 150), (200, 140), (240, 155)], Qt.ShiftModifier)
    assert (doc.mask & truth).sum() / truth.sum() >= 0.9
    assert (doc.mask & ~truth).sum() / truth.sum() <= 0.1
    assert window.history.steps == ["Smart select add"]


def test_tiny_box_selects_nothing(qtbot, window, tmp_path):
    image, _ = object_on_texture()
    doc = open_array(window, tmp_path, image)
    window.select_tool("tool_smart")
    drag(qtbot, window.canvas, [(10, 10), (11, 11)])
    assert not doc.mask.any() and window.history.steps == []
    assert "found nothing" in window.statusBar().currentMessage()


# ---- sampling area -----------------------------------------------------------------------
def test_sampling_brush_paints_its_own_layer_and_overlay(qtbot, window, tmp_path):
    image, _ = object_on_texture()
    doc = open_array(window, tmp_path, image)
    window.select_tool("tool_sample")
    drag(qtbot, window.canvas, [(40, 40), (90, 60)])
    assert doc.avoid.sum() > 500 and not doc.mask.any()
    assert window.history.steps == ["Sampling area stroke"]
    assert window.canvas.avoid_overlay.tile_count > 0
    window.act.sample_only.trigger()  # the sampled area stays the same
    assert doc.avoid_only and window.removal.panel.only_radio.isChecked()
    assert window.canvas.avoid_overlay.color != window.canvas.mask_overlay.color
    window.undo()
    assert not doc.avoid_only and window.removal.panel.exclude_radio.isChecked()
    window.undo()
    assert not doc.avoid.any()


def test_excluded_colours_never_appear_in_the_fill(qtbot, window, tmp_path):
    pixels, hole, avoid, magenta = avoid_scene()
    doc = open_array(window, tmp_path, pixels)
    window.engine_panel.set_engine("patchmatch")
    window.engine_panel.set_params({"seed": 1})
    window.engine_panel.feather_spin.setValue(0)
    doc.write_region("avoid", doc.bounds, avoid)
    doc.write_region("mask", doc.bounds, hole)
    fill_and_wait(qtbot, window)
    filled = doc.image[hole].astype(int)
    assert not (np.abs(filled - magenta).sum(axis=1) < 150).any()
    window.undo()
    assert doc.avoid.any()  # the sampling area stays for the next fill


def test_sample_only_mode_restricts_the_source(qtbot, window, tmp_path):
    pixels, hole, avoid, magenta = avoid_scene()
    doc = open_array(window, tmp_path, pixels)
    window.engine_panel.set_engine("patchmatch")
    window.engine_panel.set_params({"seed": 1})
    window.removal.set_sample_only(True)
    source = np.zeros_like(hole)
    source[:, 60:] = True  # only the right side, far from the magenta patch
    doc.write_region("avoid", doc.bounds, source)
    doc.write_region("mask", doc.bounds, hole)
    fill_and_wait(qtbot, window)
    filled = doc.image[hole].astype(int)
    assert not (np.abs(filled - magenta).sum(axis=1) < 150).any()


def test_engines_ignoring_the_sampling_area_say_so(qtbot, window, tmp_path):
    image, _ = object_on_texture()
    doc = open_array(window, tmp_path, image)
    window.engine_panel.set_engine("flat")
    doc.avoid[10:20, 10:20] = True
    doc.mask[50:60, 50:60] = True
    with qtbot.waitSignal(window.service.finished, timeout=20000):
        window.run_fill()
        assert "ignores the sampling area" in window.statusBar().currentMessage()
        assert window.fill.job.avoid is not None and window.fill.job.avoid[15, 15]


def test_mask_export_saves_the_sampling_area(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    image, _ = object_on_texture()
    doc = open_array(window, tmp_path, image)
    doc.mask[50:60, 50:60] = True
    doc.avoid[10:20, 10:30] = True
    out = tmp_path / "m.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    window.act.export_mask.trigger()
    saved = np.asarray(Image.open(tmp_path / "m-avoid.png")) > 127
    assert np.array_equal(saved, doc.avoid)
    assert "m-avoid.png" in window.statusBar().currentMessage()


# ---- variations ----------------------------------------------------------------------------
def test_variations_differ_flip_and_keeping_one_is_one_step(qtbot, seeded, tmp_path):
    win = seeded
    image, _ = object_on_texture(120, 160)
    doc = open_array(win, tmp_path, image)
    original = doc.image.copy()
    win.engine_panel.set_engine("seeded")
    win.engine_panel.set_params({"seed": 1})
    win.engine_panel.colour_check.setChecked(False)  # keep each seed's own grey
    doc.mask[40:70, 60:100] = True
    hole = doc.mask.copy()
    assert not win.act.try_again.isEnabled()
    fill_and_wait(qtbot, win)
    assert win.act.try_again.isEnabled()
    shown = [doc.image[hole][0, 0]]
    for _ in range(3):
        fill_and_wait(qtbot, win, "try_again")
        shown.append(doc.image[hole][0, 0])
        assert win.history.steps == ["Fill (Seeded)"]  # flipping adds no steps
    assert len(set(shown)) == 4  # seeds 1..4 each gave another fill
    assert [seed for seed, _, _ in win.removal.set.results] == [2, 3, 4]  # the last three kept
    assert win.act.variation_3.isChecked()
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key_1)
    assert doc.image[hole][0, 0] == shown[1] and (doc.image[hole] == shown[1]).all()
    assert not doc.mask.any()
    assert not (doc.image[~hole] != original[~hole]).any()
    qtbot.keyClick(win.canvas, Qt.Key_2)
    assert (doc.image[hole] == shown[2]).all()
    win.act.keep_variation.trigger()
    assert win.history.steps == ["Fill (Seeded)"]
    assert not win.act.try_again.isEnabled() and win.removal.set is None
    win.undo()  # one step takes the kept variation back to the photo and its mask
    assert np.array_equal(doc.image, original) and np.array_equal(doc.mask, hole)


def test_another_edit_ends_the_variations(qtbot, seeded, tmp_path):
    win = seeded
    image, _ = object_on_texture(120, 160)
    doc = open_array(win, tmp_path, image)
    win.engine_panel.set_engine("seeded")
    doc.mask[40:70, 60:100] = True
    fill_and_wait(qtbot, win)
    assert win.removal.active
    win.mask_op("invert")
    assert win.removal.set is None and not win.act.try_again.isEnabled()


def test_engines_without_seed_have_no_variations(qtbot, window, tmp_path):
    image, _ = object_on_texture(120, 160)
    doc = open_array(window, tmp_path, image)
    window.engine_panel.set_engine("flat")
    doc.mask[40:70, 60:100] = True
    fill_and_wait(qtbot, window)
    assert not window.act.try_again.isEnabled()


# ---- blend controls ------------------------------------------------------------------------
def test_blend_controls_default_from_settings_and_reach_the_job(qtbot, window, tmp_path, monkeypatch):
    panel = window.engine_panel
    defaults = EngineSettings()
    assert panel.feather == defaults.feather and panel.colour_match == defaults.colour_match
    image, _ = object_on_texture(120, 160)
    doc = open_array(window, tmp_path, image)
    panel.set_engine("flat")
    panel.feather_spin.setValue(7)
    panel.colour_check.setChecked(False)
    doc.mask[40:70, 60:100] = True
    with qtbot.waitSignal(window.service.finished, timeout=20000):
        window.run_fill()
        assert (window.fill.job.feather, window.fill.job.colour_match) == (7, False)
    window.save_settings()
    assert (window.prefs.engine.feather, window.prefs.engine.colour_match) == (7, False)


def test_panel_follows_changed_defaults(qtbot, monkeypatch):
    from inpaint_studio.core import settings
    from inpaint_studio.ui.panels import engine_panel

    monkeypatch.setattr(engine_panel, "EngineSettings",
                        lambda: settings.EngineSettings(colour_match=False, feather=4))
    panel = engine_panel.EnginePanel()
    assert (panel.feather, panel.colour_match) == (4, False)
    panel.deleteLater()
