"""Fills for the editor window: checks, job snapshots, progress, results as undo steps.

Owns the running job and its state (the photo version it was made for, a result waiting
for a stroke to end, a heal stroke that becomes one step with its fill) and emits
``changed`` when a fill starts or ends. Reads the window's document, panels and service
(``w``); ``removal.RemovalTools`` starts Try Again jobs through ``start``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from inpaint_studio.commands.edits import ApplyFill, Macro
from inpaint_studio.core import fillcheck
from inpaint_studio.core.errors import one_line
from inpaint_studio.engines import registry
from inpaint_studio.ui.fill_choice import thin_engine
from inpaint_studio.workers.engine_service import FillJob


class FillController(QObject):
    changed = Signal()  # a fill started or ended

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.image_version = 0  # bumped on every change of the photo's pixels
        self.job_version = 0
        self.job: Optional[FillJob] = None
        self.pending = None  # a finished fill waiting for the current stroke to end
        self.heal_stroke: Optional[list] = None  # [heal stroke or None] while its fill runs
        self.engine_chosen = False  # the user picked an engine this session (no thin-mask Telea)
        service = window.service
        service.progress.connect(self._progress)
        service.finished.connect(self._finished)
        service.failed.connect(self._failed)
        service.cancelled.connect(self._cancelled)
        window.engine_panel.run_requested.connect(self.run)
        window.engine_panel.cancel_requested.connect(self.cancel)
        window.engine_panel.engine_changed.connect(lambda _n: setattr(self, "engine_chosen", True))
        window.canvas.gesture_ended.connect(self.apply_pending, Qt.QueuedConnection)

    def photo_replaced(self) -> None:
        self.image_version += 1
        self.heal_stroke = None  # a heal stroke of the previous photo

    def start(self, job: FillJob, status: str) -> None:
        """Submit ``job`` as the window's running fill (progress shown, actions updated)."""
        w = self.w
        self.job, self.job_version = job, self.image_version
        w.engine_panel.set_busy(True)
        w.fill_progress.setValue(0)
        w.fill_progress.show()
        w.engine_panel.set_status(status)
        w.service.submit(job)
        self.changed.emit()

    def run(self) -> None:
        doc = self.w.document
        if doc is None:
            self.w.statusBar().showMessage("Open a photo first.", 4000)
            return
        if self.job is not None:
            return
        if not doc.mask.any():
            self.w.engine_panel.set_status("Paint a mask over what should go, then Fill.")
            self.w.statusBar().showMessage("The mask is empty: paint over what should go first.", 4000)
            return
        problem = fillcheck.fill_problem(doc.width, doc.height, doc.mask)
        if problem:
            self.w.engine_panel.set_status(problem[0].upper() + problem[1:] + ".")
            self.w.statusBar().showMessage(problem, 6000)
            return
        self.submit(doc.mask)

    @property
    def filling(self) -> bool:
        return self.job is not None

    def heal(self, stroke, hole: np.ndarray) -> None:
        """Fill a heal stroke's footprint now; the stroke and its fill become one step."""
        doc = self.w.document
        problem = "a fill is running" if self.job is not None else \
            fillcheck.fill_problem(doc.width, doc.height, hole)
        if problem:
            if stroke is not None:
                stroke.undo(doc)
            self.w.statusBar().showMessage(f"Cannot heal: {problem}.", 6000)
            return
        self.heal_stroke = [stroke]
        self.submit(hole, heal=True)

    def submit(self, hole: np.ndarray, heal: bool = False) -> None:
        doc = self.w.document
        self.w.canvas.cancel_gesture()
        name = self.w.engine_panel.engine
        thin = thin_engine(name, self.engine_chosen, hole)
        info = registry.get_info(thin or name)
        sketch = doc.sketch if info.uses_sketch and not heal else None
        # the worker copies the photo (without the GIL); masks are copied here. A thin
        # mask's Telea fill changes only the hole's pixels (no feather, no hires pass).
        job = FillJob.snapshot(info.name, doc.image, hole, sketch, device=self.w.engine_panel.device,
                               params={} if thin else self.w.engine_panel.params(),
                               hires="off" if thin else self.w.engine_panel.hires,
                               feather=0 if thin else self.w.engine_panel.feather,
                               colour_match=self.w.engine_panel.colour_match,
                               avoid=doc.sample_exclusion(), copy_image=False)
        doing = "Healing" if heal else "Filling"
        ignored = " (this engine ignores sketch lines)" if doc.sketch.any() and sketch is None else ""
        why = (f"Thin mask: {doing.lower()} with {info.title} (choose an engine in the Fill panel "
               f"to use another){ignored}…") if thin else f"{doing} with {info.title}{ignored}…"
        self.w.statusBar().showMessage(why)
        self.start(job, f"{doing} with {info.title}…")
        note = self.w.removal.fill_note(info.name)
        if note:
            self.w.statusBar().showMessage(self.w.statusBar().currentMessage() + note)

    def cancel(self) -> None:
        if self.pending is not None:
            self.end("Fill cancelled; nothing changed.")
        elif self.w.service.busy:
            self.w.statusBar().showMessage("Cancelling…")
            self.w.service.cancel()
        else:
            self.w.canvas.cancel_gesture()

    def end(self, message: str) -> None:
        self.job, self.pending = None, None
        if self.heal_stroke is not None and self.heal_stroke[0] is not None:  # not filled: take the stroke back
            self.heal_stroke[0].undo(self.w.document)
        self.heal_stroke = None
        self.w.engine_panel.set_busy(False)
        self.w.engine_panel.set_status(message)
        self.w.fill_progress.hide()
        self.w.statusBar().showMessage(message, 6000)
        self.changed.emit()

    def _progress(self, job_id: int, fraction: float, message: str) -> None:
        self.w.engine_panel.set_progress(fraction, message)
        self.w.fill_progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def _finished(self, job_id: int, result) -> None:
        job = self.job
        if job is None or job.job_id != job_id:
            return
        if self.w.canvas.gesture_active:  # let the stroke in progress end first
            self.pending = result
            return
        self._apply_result(job, result)

    def apply_pending(self) -> None:
        if self.pending is not None and self.job is not None:
            result, self.pending = self.pending, None
            self._apply_result(self.job, result)

    def _apply_result(self, job: FillJob, result) -> None:
        doc = self.w.document
        box = result.bbox
        if self.image_version != self.job_version:  # undo/redo of a fill meanwhile
            self.end("The photo changed during the fill; run it again.")
            return
        if self.w.removal.take_result(job, result):  # a Try Again result: shown as a variation
            self.end("Variation ready: keys 1-3 flip, Keep ends.")
            return
        if not box.empty:
            self.w.canvas.add_original_patch(box, doc.image[box.slices].copy())
        title = registry.get_info(job.engine).title
        fill = ApplyFill.apply(doc, result.image, box, engine=title, used_mask=job.hole,
                               clear_sketch=job.sketch is not None)
        heal, self.heal_stroke = self.heal_stroke, None
        if heal is not None:  # the heal stroke and its fill: one step
            steps = [c for c in (heal[0], fill) if c is not None]
            fill = Macro("Heal", steps) if steps else None
        self.w.history.push(fill)
        self.end("Fill done. Hold \\ to compare with the original.")
        self.w.removal.fill_applied(job, result)

    def _failed(self, job_id: int, error: BaseException) -> None:
        self.end("Fill failed.")
        QMessageBox.warning(self.w, "Fill failed", one_line(error))

    def _cancelled(self, job_id: int) -> None:
        self.end("Fill cancelled; nothing changed.")
