"""One job at a time on a worker thread: the bookkeeping shared by the services.

``JobRelay`` is mixed into a QObject service that declares ``finished``, ``failed`` and
``cancelled`` signals (all carrying the job id first) and connects its worker's signals
to ``_on_finished``/``_on_failed``/``_on_cancelled``. Only the current job's signals pass;
a job cancelled after its work returned is reported as cancelled, its result dropped.
"""
from __future__ import annotations

import itertools
from typing import Any, Optional

from inpaint_studio.core.types import CancelToken

_job_ids = itertools.count(1)


def next_job_id() -> int:
    return next(_job_ids)


class JobRelay:
    _current: Optional[int] = None
    _token: Optional[CancelToken] = None
    finished: Any
    failed: Any
    cancelled: Any

    def _begin(self, job_id: int) -> CancelToken:
        """Make ``job_id`` current (a running job is cancelled); its cancel token."""
        self.cancel()
        self._token = CancelToken()
        self._current = job_id
        return self._token

    def cancel(self) -> None:
        """Ask the running job to stop; ``cancelled`` follows once it has."""
        if self._token is not None:
            self._token.cancel()

    def _forget(self) -> None:
        self._current, self._token = None, None

    def _done(self, job_id: int) -> bool:
        if job_id != self._current:
            return False
        self._forget()
        return True

    def _on_finished(self, job_id: int, result: object) -> None:
        if self._token is not None and job_id == self._current and self._token.cancelled:
            if self._done(job_id):  # cancelled after the work returned: drop it
                self.cancelled.emit(job_id)
            return
        if self._done(job_id):
            self.finished.emit(job_id, result)

    def _on_failed(self, job_id: int, error: BaseException) -> None:
        if self._done(job_id):
            self.failed.emit(job_id, error)

    def _on_cancelled(self, job_id: int) -> None:
        if self._done(job_id):
            self.cancelled.emit(job_id)
