"""Runs fills on a worker QThread, fed immutable job snapshots.

The GUI calls ``EngineService.submit(job)`` with a ``FillJob`` (a ``FillRequest`` with an
id); the worker fills it through its ``engines.host.EngineHost`` (on the worker thread),
which creates the engine, keeps it loaded between fills and replaces it when the engine
name or device changes, exactly as the CLI's ``fill`` does. Results of jobs that
are no longer current (a newer job was submitted, or the job was cancelled) are dropped.
Cancel is cooperative through ``core.types.CancelToken``. Importing a weight file
(``import_weights``) also runs on the worker, between fills.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from inpaint_studio.core.errors import Cancelled, UserError
from inpaint_studio.core.types import CancelToken
from inpaint_studio.engines.host import EngineHost
from inpaint_studio.pipeline.request import FillRequest, frozen_copy
from inpaint_studio.workers.jobs import JobRelay, next_job_id

log = logging.getLogger(__name__)


def _done_event() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


@dataclass(frozen=True, eq=False)
class FillJob(FillRequest):
    """A ``FillRequest`` with its place in the queue: an id, and whether its image has been
    copied yet (the worker may copy a large image off the GUI thread)."""

    job_id: int = field(default_factory=next_job_id)
    image_copied: threading.Event = field(default_factory=_done_event, compare=False, repr=False)

    @classmethod
    def snapshot(cls, engine: str, image: np.ndarray, hole: np.ndarray,  # type: ignore[override]
                 sketch: Optional[np.ndarray] = None, *, device: str = "auto",
                 params: Optional[Mapping[str, Any]] = None, hires: str = "off",
                 feather: int | str = 0, colour_match: bool = False,
                 avoid: Optional[np.ndarray] = None, copy_image: bool = True) -> "FillJob":
        """Copy the arrays (read-only) so later edits cannot reach the running job; an
        empty sketch or avoid layer is dropped.

        With ``copy_image=False`` the (large) image is copied by the worker thread instead,
        which keeps the GUI thread free; the caller must not change the image until
        ``image_copied`` is set (see ``wait_image_copied``).
        """
        if sketch is not None and not sketch.any():
            sketch = None
        if avoid is not None and not avoid.any():
            avoid = None
        copied = threading.Event()
        if copy_image:
            image = frozen_copy(image)
            copied.set()
        return cls(engine=engine, image=image, hole=frozen_copy(hole),
                   sketch=frozen_copy(sketch), device=device,
                   params=dict(params or {}), hires=hires, feather=feather,
                   colour_match=colour_match, avoid=frozen_copy(avoid), image_copied=copied)

    def wait_image_copied(self, timeout: float = 10.0) -> bool:
        return self.image_copied.wait(timeout)


class _Worker(QObject):
    """Lives on the worker thread; runs one job at a time."""

    progress = Signal(int, float, str)
    finished = Signal(int, object)
    failed = Signal(int, object)
    cancelled = Signal(int)
    preloaded = Signal(str)
    weights_imported = Signal(str, str)
    weights_failed = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.host = EngineHost()

    @Slot()
    def unload(self) -> None:
        self.host.unload()

    @Slot(str, str)
    def preload(self, name: str, device: str) -> None:
        """Import, load and warm up an engine ahead of the first fill.

        Imports and first calls hold the GIL (and so freeze the GUI) for hundreds of ms;
        a tiny fill here takes that hit before the user presses Fill. Errors are left
        for that fill to report.
        """
        try:
            y, x = np.mgrid[0:48, 0:48]
            image = np.stack([x * 5, y * 5, (x + y) * 2], axis=2).astype(np.uint8)
            hole = np.zeros((48, 48), bool)
            hole[20:28, 20:28] = True
            self.host.fill(FillRequest(name, image, hole, device=device))
        except Exception:  # reported when a fill really needs this engine
            self.unload()
        self.preloaded.emit(name)

    @Slot(str, str)
    def import_weights(self, path: str, engine: str) -> None:
        """Validate, convert and install a checkpoint; reports the installed entry name."""
        try:
            from inpaint_studio.engines import registry, weights

            name = weights.import_checkpoint(path, engine, convert=registry.converter(engine))
            if self.host.loaded is not None and self.host.loaded[0] == engine:
                self.unload()  # the next fill loads the new weights
        except UserError as error:
            self.weights_failed.emit(error)
        except MemoryError:
            self.weights_failed.emit(MemoryError("Out of memory while importing the weights"))
        except Exception as error:  # a bug must not kill the thread
            log.exception("importing weights %s for %s failed", path, engine)
            self.weights_failed.emit(error)
        else:
            self.weights_imported.emit(name, engine)

    @Slot(object, object)
    def run(self, job: FillJob, token: CancelToken) -> None:
        job_id = job.job_id
        try:
            try:
                token.check()
                if not job.image_copied.is_set():  # numpy copies without the GIL
                    job = dataclasses.replace(job, image=frozen_copy(job.image))
            finally:
                job.image_copied.set()
            self.progress.emit(job_id, 0.0, "Loading engine")
            self.host.check(job)
            self.host.engine(job.engine, job.device)
            token.check()

            def report(fraction: float, message: str = "") -> None:
                token.check()
                self.progress.emit(job_id, float(fraction), message)

            result = self.host.fill(job, progress=report, cancel=token)
            token.check()
        except Cancelled:
            self.cancelled.emit(job_id)
        except UserError as error:
            self.failed.emit(job_id, error)
        except MemoryError:
            self.failed.emit(job_id, MemoryError("Out of memory: try a smaller hole, hires off, or the CPU device"))
        except Exception as error:  # engine bugs must not kill the thread
            log.exception("fill with %s failed", job.engine)
            self.failed.emit(job_id, error)
        else:
            self.finished.emit(job_id, result)


class EngineService(JobRelay, QObject):
    """Owns the worker thread. Signals carry the job id; stale ones are never emitted."""

    progress = Signal(int, float, str)
    finished = Signal(int, object)  # (job_id, FillResult)
    failed = Signal(int, object)  # (job_id, the exception: show it with core.errors.one_line)
    cancelled = Signal(int)
    preloaded = Signal(str)  # engine name, once preload() is done (loaded or not)
    weights_imported = Signal(str, str)  # (weights entry name, engine name)
    weights_failed = Signal(object)  # the exception; nothing was installed

    _run = Signal(object, object)
    _unload = Signal()
    _preload = Signal(str, str)
    _import_weights = Signal(str, str)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("engine-worker")
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._run.connect(self._worker.run)
        self._unload.connect(self._worker.unload)
        self._preload.connect(self._worker.preload)
        self._import_weights.connect(self._worker.import_weights)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._worker.preloaded.connect(self.preloaded)
        self._worker.weights_imported.connect(self.weights_imported)
        self._worker.weights_failed.connect(self.weights_failed)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._current is not None

    @property
    def current_job(self) -> Optional[int]:
        return self._current

    def submit(self, job: FillJob) -> int:
        """Start ``job``; a job still running is cancelled and its result dropped."""
        if not self._thread.isRunning():
            raise RuntimeError("EngineService was shut down")
        self._run.emit(job, self._begin(job.job_id))
        return job.job_id

    def preload(self, engine: str, device: str = "auto") -> None:
        """Load ``engine`` on the worker thread now, so the first fill starts at once."""
        self._preload.emit(engine, device)

    def import_weights(self, path: str, engine: str) -> None:
        """Install checkpoint ``path`` for ``engine`` on the worker thread (after any running
        fill); ``weights_imported`` or ``weights_failed`` follows."""
        self._import_weights.emit(str(path), engine)

    def unload(self) -> None:
        """Release the loaded engine (on the worker thread)."""
        self._unload.emit()

    def shutdown(self) -> None:
        """Cancel, release the engine and stop the thread (waits; never terminates)."""
        if not self._thread.isRunning():
            return
        self.cancel()
        self._forget()
        self._thread.quit()
        self._thread.wait()
        self._worker.unload()  # the thread is gone, so this is safe here

    def _on_progress(self, job_id: int, fraction: float, message: str) -> None:
        if job_id == self._current:
            self.progress.emit(job_id, fraction, message)
