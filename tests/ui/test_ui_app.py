"""app.run from the command line, and photos with 16 bits or alpha through the editor."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

import fake_engines
from inpaint_studio import app, fileio, logs
from inpaint_studio.commands.edits import MaskStroke
from inpaint_studio.ui.dialogs import dialogs
from inpaint_studio.ui.main_window import MainWindow
from photos import make_photo


def test_run_opens_the_photo_and_exits_cleanly(qtbot, tmp_path, monkeypatch):
    fake_engines.register(monkeypatch)
    monkeypatch.setattr(logs, "setup", lambda: seen.setdefault("log", True))
    QSettings.setPath(QSettings.NativeFormat, QSettings.UserScope, str(tmp_path / "config"))
    path = tmp_path / "cli.png"
    pixels = make_photo(path, 64, 48)
    from inpaint_studio.core.settings import EngineSettings, Settings

    app.make_application()  # QSettings() below needs the organisation and application names
    QSettings().setValue("settings", Settings(engine=EngineSettings(name="flat")).to_json())
    seen = {}

    def inspect_and_close():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen["count"] = len(windows)
        win = windows[0]
        seen["same"] = np.array_equal(win.document.image, pixels)
        seen["title"] = win.windowTitle()
        win.close()

    QTimer.singleShot(0, inspect_and_close)
    assert app.run(str(path)) == 0
    assert seen == {"log": True, "count": 1, "same": True, "title": "cli.png[*] — Inpaint Studio"}


def test_sixteen_bit_rgba_photo_keeps_depth_and_alpha(qtbot, window, tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 65535, (40, 52, 4), dtype=np.uint16)
    pixels[..., 3] = np.linspace(0, 65535, 52, dtype=np.uint16)[None, :]
    src, out = tmp_path / "deep.png", tmp_path / "deep-out.png"
    fileio.save_image(src, pixels)
    assert window.open_path(src)
    doc = window.document
    assert doc.image.dtype == np.uint16 and doc.image.shape[2] == 4
    assert "16-bit RGBA" in window.size_label.text()
    stroke = MaskStroke.begin(doc, radius=4)
    stroke.add_segment((10, 10), (30, 20))
    window.history.push(stroke.end())
    hole = doc.mask.copy()
    window.engine_panel.set_engine("flat")
    window.engine_panel.colour_check.setChecked(False)  # keep the engine's black
    with qtbot.waitSignal(window.service.finished, timeout=10000):
        window.act.run.trigger()
    monkeypatch.setattr(dialogs, "ask_overwrite_original", lambda p, n: "save_as")
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    window.act.save.trigger()
    back = fileio.load_image(out).pixels
    assert back.dtype == np.uint16 and back.shape == pixels.shape
    assert np.array_equal(back[~hole], pixels[~hole])
    assert np.array_equal(back[..., 3], pixels[..., 3])  # alpha untouched, even in the hole
    assert (back[hole][:, :3] == 0).all()
