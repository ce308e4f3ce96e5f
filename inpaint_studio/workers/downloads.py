"""Weight downloads on their own QThread (a fill can run meanwhile).

``DownloadService.start(name)`` runs ``weights.download`` on the thread; ``progress``
(fraction, message), then one of ``finished`` (name), ``failed`` (the exception) or
``cancelled`` follows. ``cancel()`` stops it between blocks; the partial file stays, so
the next ``start`` resumes it.
"""
from __future__ import annotations

import logging
import threading
from typing import Optional

from PySide6.QtCore import QObject, QThread, Signal, Slot

from inpaint_studio.core.errors import Cancelled, UserError

log = logging.getLogger(__name__)


class _Worker(QObject):
    progress = Signal(float, str)
    finished = Signal(str)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, cancel: threading.Event) -> None:
        super().__init__()
        self._cancel = cancel

    @Slot(str, str)
    def run(self, name: str, url: str) -> None:
        from inpaint_studio.engines import registry, weights

        try:
            convert = registry.converter(weights.get_entry(name).engine)
            weights.download(name, progress=lambda f, m: self.progress.emit(float(f), m),
                             url=url or None, cancel=self._cancel.is_set, convert=convert)
        except Cancelled:
            self.cancelled.emit()
        except UserError as error:
            self.failed.emit(error)
        except MemoryError:
            self.failed.emit(MemoryError("Out of memory while installing the weights"))
        except Exception as error:  # noqa: BLE001 - shown as one line, never a crash
            log.exception("downloading weights %s failed", name)
            self.failed.emit(error)
        else:
            self.finished.emit(name)


class DownloadService(QObject):
    progress = Signal(float, str)
    finished = Signal(str)
    failed = Signal(object)
    cancelled = Signal()
    _start = Signal(str, str)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._cancel = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("weights-download")
        self._worker = _Worker(self._cancel)
        self._worker.moveToThread(self._thread)
        self._start.connect(self._worker.run)
        self._worker.progress.connect(self.progress)
        for signal, mine in ((self._worker.finished, self.finished), (self._worker.failed, self.failed),
                             (self._worker.cancelled, self.cancelled)):
            signal.connect(self._idle)
            signal.connect(mine)
        self.busy = False
        self._thread.start()

    def start(self, name: str, url: str = "") -> None:
        if self.busy:
            return
        self.busy = True
        self._cancel.clear()
        self._start.emit(name, url)

    def cancel(self) -> None:
        self._cancel.set()

    def _idle(self, *_args) -> None:
        self.busy = False

    def shutdown(self) -> None:
        """Cancel and stop the thread (waits for the current block to end)."""
        self._cancel.set()
        self._thread.quit()
        self._thread.wait()
