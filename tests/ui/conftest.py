"""Fixtures for the editor tests: a window with isolated settings and fake engines."""
from __future__ import annotations

import pytest

import fake_engines
from photos import make_photo


def record_boxes(monkeypatch, kind: str) -> list:
    """Record QMessageBox.<kind> calls as (title, text) instead of blocking on them."""
    from PySide6.QtWidgets import QMessageBox

    seen = []
    monkeypatch.setattr(QMessageBox, kind,
                        staticmethod(lambda parent, title, text, *a, **k: seen.append((title, text))))
    return seen


@pytest.fixture
def messages(monkeypatch):
    """QMessageBox.warning calls."""
    return record_boxes(monkeypatch, "warning")


@pytest.fixture
def infos(monkeypatch):
    """QMessageBox.information calls."""
    return record_boxes(monkeypatch, "information")


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, messages):
    from PySide6.QtCore import QSettings

    from inpaint_studio.app import make_application
    from inpaint_studio.ui.main_window import MainWindow

    make_application()
    fake_engines.register(monkeypatch)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = MainWindow(settings=settings)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    fake_engines.SlowEngine.release.set()
    if win.history is not None:
        win.history.set_clean()
    win.close()
    win.service.shutdown()
    win.deleteLater()


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    pixels = make_photo(path)
    return path, pixels


@pytest.fixture
def opened(window, photo):
    """The window with the test photo open."""
    path, _ = photo
    assert window.open_path(path)
    return window
