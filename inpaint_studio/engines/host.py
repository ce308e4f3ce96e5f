"""EngineHost: runs ``pipeline.request.FillRequest``s; the one place that makes engines for fills.

The editor's fill worker (``workers.engine_service``) and the CLI's ``fill`` each own one
host. It creates the engine for a request's (name, device) through ``registry.create`` and
keeps it loaded while requests ask for the same pair; another pair unloads it first (one
engine in memory at a time). Coarse-to-fine requests get a refiner from
``registry.refiner_for`` (the engine itself when it declares ``can_refine``, else a
PatchMatch engine on the same device), kept with the engine. Devices: ``registry.create``
passes the device name to the engine, which resolves "auto" and reports a missing GPU as
NotReady (``engines.device.pick_device``); learned engines fall back from a GPU that runs
out of memory by themselves (``engines.learned``). Never imports Qt; torch only through
the engines it creates.
"""
from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING, Optional

from inpaint_studio.core.errors import BadInput
from inpaint_studio.core.types import CancelToken, ProgressFn, check_cancel
from inpaint_studio.engines import registry
from inpaint_studio.engines.device import DEVICE_CHOICES
from inpaint_studio.pipeline import run
from inpaint_studio.pipeline.request import FillRequest

if TYPE_CHECKING:
    from inpaint_studio.engines.base import Engine

log = logging.getLogger(__name__)


class EngineHost:
    """Creates, caches and runs engines for fill requests (not thread-safe: one caller
    thread at a time, as the worker thread or the CLI)."""

    def __init__(self) -> None:
        self._engine: Optional["Engine"] = None
        self._key: Optional[tuple[str, str]] = None
        self._refiner: Optional["Engine"] = None

    @property
    def loaded(self) -> Optional[tuple[str, str]]:
        """(name, device) of the loaded engine, or None."""
        return self._key

    def engine(self, name: str, device: str = "auto") -> "Engine":
        """The loaded engine for (name, device): created and loaded on first use, replacing
        (unloading) an engine of another pair."""
        if self._key != (name, device):
            self.unload()
            engine = registry.create(name, device)
            engine.load()
            self._engine, self._key = engine, (name, device)
            log.info("loaded engine %s on %s", name, device)
            # Engines import big libraries; keep their objects out of the cyclic GC's full
            # passes, which hold the GIL (and so an editor's GUI) for 100+ ms otherwise.
            gc.freeze()
        assert self._engine is not None
        return self._engine

    def refiner(self, engine: "Engine", device: str) -> "Engine":
        """The engine that sharpens ``engine``'s coarse-to-fine fills, kept with it."""
        if self._refiner is None:
            self._refiner = registry.refiner_for(engine, device)
        return self._refiner

    def check(self, request: FillRequest) -> None:
        """BadInput unless the request's engine, device and params exist (no engine is
        created); the request itself checked its feather and hires mode."""
        info = registry.get_info(request.engine)
        if request.device not in DEVICE_CHOICES:
            raise BadInput(f"unknown device '{request.device}' (choose from {', '.join(DEVICE_CHOICES)})")
        unknown = sorted(set(request.params) - set(info.defaults()))
        if unknown:
            raise BadInput(f"engine '{info.name}' has no parameter(s): {', '.join(unknown)}")

    def fill(self, request: FillRequest, *, progress: Optional[ProgressFn] = None,
             cancel: Optional[CancelToken] = None) -> run.FillResult:
        """Fill ``request`` with its engine (created or reused), through ``run.run_fill``."""
        self.check(request)
        engine = self.engine(request.engine, request.device)
        check_cancel(cancel)
        refiner = None if request.hires == "off" else self.refiner(engine, request.device)
        return run.run_fill(request.image, request.hole, engine, sketch=request.sketch,
                            avoid=request.avoid, params=dict(request.params),
                            hires=request.hires, feather=request.feather, refiner=refiner,
                            colour_match=request.colour_match, progress=progress, cancel=cancel)

    def unload(self) -> None:
        """Release the loaded engine (and its refiner)."""
        engine, self._engine, self._key, self._refiner = self._engine, None, None, None
        if engine is not None:
            engine.unload()
