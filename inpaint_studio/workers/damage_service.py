"""Scratch-and-dust analysis (pipeline.damage.analyse) on its own QThread.

``DamageService.submit(image, max_width)`` copies the photo and returns a job id;
``progress`` (job id, fraction), then one of ``finished`` (job id, DamageAnalysis),
``failed`` (job id, the exception) or ``cancelled`` (job id) follows. A newer submit or
``cancel()`` stops the running analysis between its stages (cooperative; the thread
is never terminated) and its result is dropped. The thread starts on the first submit.
"""
from __future__ import annotations

import logging
from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from inpaint_studio.core.errors import Cancelled
from inpaint_studio.core.types import CancelToken
from inpaint_studio.workers.engine_service import frozen_copy
from inpaint_studio.workers.jobs import JobRelay, next_job_id

log = logging.getLogger(__name__)


class _Worker(QObject):
    progress = Signal(int, float)
    finished = Signal(int, object)
    failed = Signal(int, object)
    cancelled = Signal(int)

    @Slot(int, object, int, object)
    def run(self, job_id: int, image: np.ndarray, max_width: int, token: CancelToken) -> None:
        from inpaint_studio.pipeline import damage

        def report(fraction: float) -> None:
            token.check()
            self.progress.emit(job_id, float(fraction))

        try:
            analysis = damage.analyse(image, max_width, progress=report)
            token.check()
        except Cancelled:
            self.cancelled.emit(job_id)
        except MemoryError:
            self.failed.emit(job_id, MemoryError("Out of memory while looking for scratches and dust"))
        except Exception as error:  # a bug must not kill the thread
            log.exception("scratch and dust analysis failed")
            self.failed.emit(job_id, error)
        else:
            self.finished.emit(job_id, analysis)


class DamageService(JobRelay, QObject):
    """Signals carry the job id; those of stale jobs are never emitted."""

    progress = Signal(int, float)
    finished = Signal(int, object)
    failed = Signal(int, object)
    cancelled = Signal(int)
    _run = Signal(int, object, int, object)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._thread: Optional[QThread] = None
        self._worker: Optional[_Worker] = None

    @property
    def busy(self) -> bool:
        return self._current is not None

    def _start_thread(self) -> None:
        self._thread = QThread()
        self._thread.setObjectName("damage-worker")
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._run.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._thread.start()

    def submit(self, image: np.ndarray, max_width: int) -> int:
        """Analyse a copy of ``image``; a running analysis is cancelled and dropped."""
        if self._thread is None:
            self._start_thread()
        job_id = next_job_id()
        self._run.emit(job_id, frozen_copy(image), int(max_width), self._begin(job_id))
        return job_id

    def shutdown(self) -> None:
        """Cancel and stop the thread (waits for the current stage; never terminates)."""
        self.cancel()
        self._forget()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread = None

    def _on_progress(self, job_id: int, fraction: float) -> None:
        if job_id == self._current:
            self.progress.emit(job_id, fraction)
