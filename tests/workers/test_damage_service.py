"""DamageService: analysis on its own thread, cooperative cancel, stale jobs dropped."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from inpaint_studio.pipeline import damage
from inpaint_studio.workers.damage_service import DamageService


@pytest.fixture
def service(qtbot):
    svc = DamageService()
    yield svc
    svc.shutdown()


@pytest.fixture
def gate(monkeypatch):
    """analyse() waits in its first stage until ``go`` is set; ``started`` says it got there."""
    started, go, late = threading.Event(), threading.Event(), []
    real_luminance, real_candidates = damage.luminance, damage._candidates

    def luminance(image):
        started.set()
        go.wait(10)
        return real_luminance(image)

    def candidates(*args, **kwargs):
        late.append(1)  # the last stage ran
        return real_candidates(*args, **kwargs)

    monkeypatch.setattr(damage, "luminance", luminance)
    monkeypatch.setattr(damage, "_candidates", candidates)
    return started, go, late


def photo():
    rng = np.random.default_rng(0)
    image = np.full((64, 80, 3), 120, np.uint8) + rng.integers(0, 4, (64, 80, 3), dtype=np.uint8)
    image[10:50, 30:32] = 220  # a scratch
    return image


def test_analysis_arrives_with_progress(qtbot, service):
    image = photo()
    fractions = []
    service.progress.connect(lambda _j, f: fractions.append(f))
    with qtbot.waitSignal(service.finished, timeout=20000) as got:
        job = service.submit(image, 4)
    assert got.args[0] == job and not service.busy
    analysis = got.args[1]
    assert analysis.max_width == 4 and analysis.pixel.shape == image.shape[:2]
    assert np.array_equal(damage.propose(analysis), damage.detect_damage(image, max_width=4))
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_cancel_stops_between_stages(qtbot, service, gate):
    started, go, late = gate
    job = service.submit(photo(), 6)
    assert started.wait(10)
    with qtbot.waitSignal(service.cancelled, timeout=20000) as got:
        service.cancel()
        go.set()
    assert got.args == [job] and late == [] and not service.busy


def test_a_newer_job_drops_the_older(qtbot, service, gate):
    started, go, _ = gate
    seen = []
    for signal in (service.finished, service.cancelled, service.failed):
        signal.connect(lambda j, *rest: seen.append(j))
    first = service.submit(photo(), 6)
    assert started.wait(10)
    with qtbot.waitSignal(service.finished, timeout=20000) as got:
        second = service.submit(photo(), 5)
        go.set()
    assert got.args[0] == second and got.args[1].max_width == 5
    # the worker runs jobs in order, so the first one's signal came (and was dropped) already
    assert seen == [second] and first != second
