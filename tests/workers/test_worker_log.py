"""Worker tracebacks go to the rotating log file in the user data folder; the signal
carries the exception object itself."""
from __future__ import annotations

import logging
import logging.handlers

import numpy as np
import pytest

import fake_engines
from inpaint_studio import logs, paths
from inpaint_studio.workers.engine_service import EngineService, FillJob


@pytest.fixture
def log_path(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    path = logs.setup()
    yield path
    logs.close()


def test_the_log_file_is_in_the_user_data_folder(log_path):
    assert log_path == paths.user_data_dir() / "logs" / "inpaint-studio.log"
    assert logs.setup() == log_path  # once only
    handlers = [h for h in logging.getLogger("inpaint_studio").handlers
                if isinstance(h, logging.handlers.RotatingFileHandler)]
    assert len(handlers) == 1


def test_an_engine_bug_sends_the_exception_and_logs_its_traceback(qtbot, monkeypatch, log_path):
    fake_engines.register(monkeypatch)
    service = EngineService()
    try:
        image = np.full((24, 32, 3), 100, np.uint8)
        hole = np.zeros((24, 32), bool)
        hole[8:12, 10:20] = True
        with qtbot.waitSignal(service.failed, timeout=10000) as blocker:
            service.submit(FillJob.snapshot("broken", image, hole))
    finally:
        service.shutdown()
    error = blocker.args[1]
    assert isinstance(error, RuntimeError) and str(error) == "kernel exploded"
    text = log_path.read_text(encoding="utf-8")
    assert "fill with broken failed" in text and "Traceback (most recent call last)" in text
    assert "RuntimeError: kernel exploded" in text


def test_the_file_rotates(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 300)
    path = logs.setup(tmp_path / "x.log")
    try:
        for i in range(20):
            logging.getLogger("inpaint_studio.test").warning("line %d of the rotation test", i)
    finally:
        logs.close()
    assert path.is_file() and (tmp_path / "x.log.1").is_file() and not (tmp_path / "x.log.4").exists()
