"""EngineService.import_weights: runs on the worker, reports the entry or one error line,
and drops a loaded engine whose weights were replaced."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import fake_engines
from inpaint_studio.core.errors import UserError, one_line
from inpaint_studio.engines import registry, weights
from inpaint_studio.workers.engine_service import EngineService, FillJob


def converter_of(engine):
    return lambda checkpoint: ({}, f"{engine}-layout")


@pytest.fixture
def service(qtbot, monkeypatch):
    fake_engines.register(monkeypatch)
    monkeypatch.setattr(registry, "converter", converter_of)  # the fakes take no weight files
    svc = EngineService()
    yield svc
    svc.shutdown()


def fill(qtbot, service):
    hole = np.zeros((16, 16), bool)
    hole[4:8, 4:8] = True
    with qtbot.waitSignal(service.finished, timeout=10000):
        service.submit(FillJob.snapshot("flat", np.zeros((16, 16, 3), np.uint8), hole))


def test_import_on_the_worker_reloads_that_engine_only(qtbot, service, monkeypatch):
    calls = []
    monkeypatch.setattr(weights, "import_checkpoint",
                        lambda path, engine, *, convert: calls.append(
                            (path, engine, convert(None), threading.current_thread())) or f"{engine}-weights")
    fill(qtbot, service)
    with qtbot.waitSignal(service.weights_imported, timeout=10000) as blocker:
        service.import_weights("/some/gen.pth", "slow")
    assert blocker.args == ["slow-weights", "slow"]
    assert fake_engines.FlatEngine.unloads == 0  # another engine's weights: flat stays loaded
    with qtbot.waitSignal(service.weights_imported, timeout=10000) as blocker:
        service.import_weights("/some/gen.pth", "flat")
    assert blocker.args == ["flat-weights", "flat"]
    assert fake_engines.FlatEngine.unloads == 1
    fill(qtbot, service)
    assert fake_engines.FlatEngine.loads == 2  # the next fill loads the new weights
    # each import gets its own engine's converter (registry.converter), not weights' guess
    assert [c[:3] for c in calls] == [("/some/gen.pth", "slow", ({}, "slow-layout")),
                                      ("/some/gen.pth", "flat", ({}, "flat-layout"))]
    assert all(c[3] is not threading.main_thread() for c in calls)


@pytest.mark.parametrize("error, message", [
    (UserError("gen.pth is not a readable PyTorch checkpoint"), "gen.pth is not a readable PyTorch checkpoint"),
    (RuntimeError("boom"), "RuntimeError: boom"),
])
def test_import_errors_become_one_message(qtbot, service, monkeypatch, error, message):
    def fail(path, engine, *, convert):
        raise error

    monkeypatch.setattr(weights, "import_checkpoint", fail)
    with qtbot.waitSignal(service.weights_failed, timeout=10000) as blocker:
        service.import_weights("gen.pth", "flat")
    assert isinstance(blocker.args[0], BaseException) and one_line(blocker.args[0]) == message
    fill(qtbot, service)  # the worker is still alive
