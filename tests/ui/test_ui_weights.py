"""File > Import Weights: the checkpoint is installed on the worker thread, the engine
becomes ready and selected, the licence is shown; bad files change nothing."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog

from inpaint_studio.engines import registry, weights
from inpaint_studio.ui.actions import shortcut_table
from inpaint_studio.ui.dialogs import dialogs

torch = pytest.importorskip("torch")


@pytest.fixture
def user_weights(tmp_path, monkeypatch):
    """An empty user weights folder (requested before ``window``, so the panel sees it)."""
    folder = tmp_path / "user-weights"
    monkeypatch.setenv("INPAINT_STUDIO_USER_WEIGHTS", str(folder))
    return folder


def item_enabled(win, name: str) -> bool:
    """Listed as ready (a not-ready engine is listed too, and opens the weights dialog)."""
    return win.engine_panel.is_ready(name)


def trigger_import(qtbot, win, monkeypatch, path, signal: str, engine: str = "pennet") -> list:
    """Run the action with the file dialog and engine chooser answered; wait for ``signal``."""
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    monkeypatch.setattr(dialogs, "ask_weights_engine",
                        lambda parent, engines, current, file_name: asked.append(engines) or engine)
    with qtbot.waitSignal(getattr(win.service, signal), timeout=60000):
        win.act.import_weights.trigger()
        assert win.statusBar().currentMessage().startswith(f"Importing {path.name}")
        assert not win.act.import_weights.isEnabled()
    assert win.act.import_weights.isEnabled()
    return asked


def test_importing_an_official_pennet_checkpoint_makes_it_ready(qtbot, user_weights, window, tmp_path,
                                                                 monkeypatch, messages, infos):
    from inpaint_studio.engines.pennet.network import PenNetGenerator

    win = window
    assert not registry.readiness("pennet").ready and not item_enabled(win, "pennet")
    before = win.engine_panel.engine
    assert before != "pennet"
    checkpoint = tmp_path / "gen_00042.pth"
    torch.manual_seed(0)
    torch.save({"netG": PenNetGenerator().state_dict()}, checkpoint)

    threads = []
    real = weights.import_checkpoint
    monkeypatch.setattr(weights, "import_checkpoint",
                        lambda *a, **k: threads.append(threading.current_thread()) or real(*a, **k))
    asked = trigger_import(qtbot, win, monkeypatch, checkpoint, "weights_imported")

    assert {name for name, _ in asked[0]} == {"pennet", "gated"}  # engines with weight files only
    assert threads and threads[0] is not threading.main_thread()
    assert messages == []
    assert registry.readiness("pennet").ready
    assert item_enabled(win, "pennet") and win.engine_panel.engine == "pennet"
    assert win.engine_panel.run_button.isEnabled() is False  # no photo open yet
    name = next(iter(weights.installed_records()))
    assert (user_weights / weights.get_entry(name).file).is_file()
    assert len(infos) == 1
    title, text = infos[0]
    assert f"'{name}'" in text and weights.licence_line(name) in text and "licence:" in text
    assert name in win.statusBar().currentMessage()


@pytest.mark.parametrize("kind", ["garbage", "wrong structure"])
def test_a_bad_file_gives_one_error_and_changes_nothing(qtbot, user_weights, window, tmp_path,
                                                       monkeypatch, messages, infos, kind):
    win = window
    path = tmp_path / "bad.pth"
    if kind == "garbage":
        path.write_bytes(b"this is not a checkpoint" * 10)
    else:
        torch.save({"netG": {"encoder.weight": torch.zeros(3, 3)}}, path)
    engine, ready = win.engine_panel.engine, registry.readiness("pennet").ready
    trigger_import(qtbot, win, monkeypatch, path, "weights_failed")

    assert len(messages) == 1 and messages[0][0] == "Cannot import weights"
    assert messages[0][1] and "\n" not in messages[0][1]
    assert infos == []
    assert registry.readiness("pennet").ready == ready is False
    assert not item_enabled(win, "pennet") and win.engine_panel.engine == engine
    assert not user_weights.exists() or not any(user_weights.glob("*.pth"))
    assert weights.installed_records() == {}


def test_engine_chooser_preselects_the_current_engine(qtbot, monkeypatch):
    calls = []

    def get_item(parent, title, label, items, current, editable):
        calls.append(current)
        return items[current], True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(get_item))
    engines = [("pennet", "PEN-Net"), ("gated", "Gated convolution")]
    assert dialogs.ask_weights_engine(None, engines, "gated", "x.pth") == "gated"
    assert dialogs.ask_weights_engine(None, engines, "patchmatch", "x.pth") == "pennet"
    assert calls == [1, 0]
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a: ("", False)))
    assert dialogs.ask_weights_engine(None, engines, "gated") is None


def test_import_weights_is_listed_in_the_help():
    assert ("Import Weights", "Ctrl+Shift+W") in shortcut_table()
