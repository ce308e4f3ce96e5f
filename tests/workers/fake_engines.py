"""Test engines registered through monkeypatched registry.ENGINES."""
from __future__ import annotations

import threading

from inpaint_studio.core.errors import UserError
from inpaint_studio.engines.base import Engine, EngineInfo, ParamSpec


def info(name: str, cls: str) -> EngineInfo:
    return EngineInfo(name=name, title=name.title(), description="test engine",
                      target=f"fake_engines:{cls}", min_context=4,
                      params=(ParamSpec("value", "Value", 0, "int", 0, 255),))


class FlatEngine(Engine):
    """Paints the hole with params['value']; counts loads and unloads."""

    info = info("flat", "FlatEngine")
    loads = 0
    unloads = 0

    def load(self) -> None:
        type(self).loads += 1

    def unload(self) -> None:
        type(self).unloads += 1

    def fill(self, image, hole, sketch=None, params=None, *, avoid=None, progress=None, cancel=None):
        value = self.merged_params(params)["value"]
        out = image.copy()
        out[hole] = value
        if progress:
            progress(1.0, "done")
        return out


class SlowEngine(Engine):
    """Blocks until ``release`` is set, checking the cancel token meanwhile."""

    info = info("slow", "SlowEngine")
    started = threading.Event()
    release = threading.Event()

    def fill(self, image, hole, sketch=None, params=None, *, avoid=None, progress=None, cancel=None):
        type(self).started.set()
        step = 0
        while not type(self).release.wait(0.005):
            if cancel is not None:
                cancel.check()
            step += 1
            if progress and step % 4 == 1:
                progress(min(0.9, step / 1000), "working")
        out = image.copy()
        out[hole] = 255 - out[hole]
        return out


class BrokenEngine(Engine):
    """Always fails the way a buggy engine would."""

    info = info("broken", "BrokenEngine")

    def fill(self, image, hole, sketch=None, params=None, *, avoid=None, progress=None, cancel=None):
        raise RuntimeError("kernel exploded")


class PickyEngine(Engine):
    """Fails with a user-facing error."""

    info = info("picky", "PickyEngine")

    def fill(self, image, hole, sketch=None, params=None, *, avoid=None, progress=None, cancel=None):
        raise UserError("hole too large for this engine")


ALL = (FlatEngine, SlowEngine, BrokenEngine, PickyEngine)


def register(monkeypatch) -> None:
    """Add the fake engines to the registry for one test."""
    from inpaint_studio.engines import registry

    engines = dict(registry.ENGINES)
    for cls in ALL:
        engines[cls.info.name] = cls.info
    monkeypatch.setattr(registry, "ENGINES", engines)
    SlowEngine.started.clear()
    SlowEngine.release.clear()
    FlatEngine.loads = FlatEngine.unloads = 0
