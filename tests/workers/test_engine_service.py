"""EngineService: fills on the worker thread, cancel, errors, stale results, shutdown."""
from __future__ import annotations

import numpy as np
import pytest

import fake_engines
from inpaint_studio.core.errors import UserError, one_line
from inpaint_studio.workers.engine_service import EngineService, FillJob


@pytest.fixture
def service(qtbot, monkeypatch):
    fake_engines.register(monkeypatch)
    svc = EngineService()
    yield svc
    fake_engines.SlowEngine.release.set()
    svc.shutdown()


def small_job(engine="flat", **kwargs):
    image = np.full((24, 32, 3), 100, np.uint8)
    hole = np.zeros((24, 32), bool)
    hole[8:12, 10:20] = True
    return FillJob.snapshot(engine, image, hole, **kwargs), image, hole


def test_snapshot_is_private_and_read_only():
    job, image, hole = small_job()
    image[:] = 0
    hole[:] = False
    assert job.image.min() == 100 and job.hole.sum() == 40
    with pytest.raises(ValueError):
        job.image[0, 0, 0] = 1
    with pytest.raises(TypeError):
        job.params["value"] = 3


def test_fill_runs_and_engine_stays_loaded(qtbot, service):
    job, image, hole = small_job(params={"value": 7}, colour_match=False)
    with qtbot.waitSignal(service.finished, timeout=10000) as blocker:
        service.submit(job)
    job_id, result = blocker.args
    assert job_id == job.job_id
    assert (result.image[hole] == 7).all()
    assert (result.image[~hole] == 100).all()
    assert not service.busy
    with qtbot.waitSignal(service.finished, timeout=10000):
        service.submit(small_job(params={"value": 9})[0])
    assert fake_engines.FlatEngine.loads == 1
    with qtbot.waitSignal(service.finished, timeout=10000):
        service.submit(small_job(device="cpu")[0])  # device switch: replaced
    assert fake_engines.FlatEngine.loads == 2
    assert fake_engines.FlatEngine.unloads == 1


@pytest.mark.parametrize("colour_match,expect", [(True, 100), (False, 70)])
def test_colour_match_reaches_the_pipeline(qtbot, service, colour_match, expect):
    # a flat fill of 70 on a flat photo of 100: matching pulls it all the way to 100
    job, image, hole = small_job(params={"value": 70}, colour_match=colour_match)
    with qtbot.waitSignal(service.finished, timeout=10000) as blocker:
        service.submit(job)
    result = blocker.args[1].image
    assert (result[hole] == expect).all() and (result[~hole] == 100).all()


def test_cancel_mid_run(qtbot, service):
    job = small_job("slow")[0]
    with qtbot.waitSignal(service.progress, timeout=10000):
        service.submit(job)
    assert service.busy
    finished = []
    service.finished.connect(lambda *args: finished.append(args))
    with qtbot.waitSignal(service.cancelled, timeout=10000) as blocker:
        service.cancel()
    assert blocker.args == [job.job_id]
    assert not service.busy and finished == []


def test_newer_job_drops_stale_result(qtbot, service):
    first = small_job("slow")[0]
    with qtbot.waitSignal(service.progress, timeout=10000):
        service.submit(first)
    seen = []
    for signal in (service.finished, service.cancelled, service.failed):
        signal.connect(lambda job_id, *rest: seen.append(job_id))
    second = small_job("flat", params={"value": 1})[0]
    with qtbot.waitSignal(service.finished, timeout=10000) as blocker:
        service.submit(second)
    assert blocker.args[0] == second.job_id
    assert seen == [second.job_id]


@pytest.mark.parametrize("engine, expected", [
    ("broken", "RuntimeError: kernel exploded"),
    ("picky", "hole too large for this engine"),
])
def test_engine_error_is_reported(qtbot, service, engine, expected, capsys):
    job = small_job(engine)[0]
    with qtbot.waitSignal(service.failed, timeout=10000) as blocker:
        service.submit(job)
    assert blocker.args[0] == job.job_id and one_line(blocker.args[1]) == expected
    assert not service.busy


def test_unknown_engine_fails_cleanly(qtbot, service):
    with qtbot.waitSignal(service.failed, timeout=10000) as blocker:
        service.submit(small_job("nope")[0])
    assert isinstance(blocker.args[1], UserError) and "unknown engine 'nope'" in str(blocker.args[1])


def test_shutdown_while_running_stops_thread(qtbot, monkeypatch):
    fake_engines.register(monkeypatch)
    svc = EngineService()
    with qtbot.waitSignal(svc.progress, timeout=10000):
        svc.submit(small_job("slow")[0])
    svc.shutdown()  # cancels cooperatively and waits
    assert not svc._thread.isRunning()
    with pytest.raises(RuntimeError):
        svc.submit(small_job()[0])


def test_worker_copies_the_image_before_using_it(qtbot, service):
    image = np.full((24, 32, 3), 100, np.uint8)
    hole = np.zeros((24, 32), bool)
    hole[2:5, 2:6] = True
    job = FillJob.snapshot("slow", image, hole, copy_image=False, colour_match=False)
    assert not job.image_copied.is_set()
    with qtbot.waitSignal(service.progress, timeout=10000):
        service.submit(job)
    assert job.wait_image_copied(5)
    image[:] = 7  # the caller may edit again once the copy is taken
    with qtbot.waitSignal(service.finished, timeout=10000) as blocker:
        fake_engines.SlowEngine.release.set()
    result = blocker.args[1].image
    assert (result[~hole] == 100).all() and (result[hole] == 155).all()


def test_preload_loads_once(qtbot, service):
    with qtbot.waitSignal(service.preloaded, timeout=10000) as blocker:
        service.preload("flat", "auto")
    assert blocker.args == ["flat"] and fake_engines.FlatEngine.loads == 1
    with qtbot.waitSignal(service.finished, timeout=10000):
        service.submit(small_job("flat")[0])
    assert fake_engines.FlatEngine.loads == 1


def test_cancel_after_the_engine_returned_drops_the_result(qtbot, service):
    """The worker's result is already on its way to the GUI thread when Cancel comes."""
    import threading

    from PySide6.QtCore import Qt

    sent = threading.Event()
    service._worker.finished.connect(lambda *_: sent.set(), Qt.DirectConnection)  # worker thread
    finished = []
    service.finished.connect(lambda *args: finished.append(args))
    job = small_job()[0]
    service.submit(job)
    assert sent.wait(10)  # emitted, not yet delivered: this thread has run no events since
    service.cancel()
    with qtbot.waitSignal(service.cancelled, timeout=10000) as blocker:
        pass
    assert blocker.args == [job.job_id]
    assert finished == [] and not service.busy
