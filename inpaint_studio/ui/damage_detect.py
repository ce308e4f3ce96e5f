"""Detect scratches & dust: analyse in the background, show the proposal, apply it.

``DamageDetect(window).start()`` shows the panel (a dock) and analyses the photo on the
DamageService thread; the proposal is drawn by ``canvas.proposal_overlay`` (green, not
the mask's colour). The sensitivity slider re-thresholds (``damage.propose``, cheap);
a new maximum width analyses again. Apply adds the proposal to the mask as one undo
step; Cancel (or closing the dock, or another photo) removes the overlay.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget

from inpaint_studio.commands.edits import MaskOp
from inpaint_studio.core.errors import one_line
from inpaint_studio.pipeline import damage
from inpaint_studio.ui.panels.damage_panel import DamagePanel
from inpaint_studio.workers.damage_service import DamageService

STEP_TEXT = "Add detected scratches & dust"


class DamageDetect(QObject):
    proposal_changed = Signal(int)  # pixels in the new proposal
    closed = Signal(bool)  # True when applied

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.panel = DamagePanel()
        self.dock = QDockWidget("Scratches and dust", window)
        self.dock.setObjectName("damage_dock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.service = DamageService(self)
        self.analysis: Optional[damage.DamageAnalysis] = None
        self.proposal: Optional[np.ndarray] = None
        self._job: Optional[int] = None
        self._active = False
        self._listening = None  # the document whose replacement closes the session
        self._again = QTimer(self, singleShot=True, interval=400)  # max width typed: wait a bit
        self._again.timeout.connect(self._analyse)
        self._repropose = QTimer(self, singleShot=True, interval=0)  # coalesce slider moves
        self._repropose.timeout.connect(self.update_proposal)
        self.panel.sensitivity_changed.connect(lambda _s: self._active and self._repropose.start())
        self.panel.max_width_changed.connect(lambda _w: self._active and self._again.start())
        self.panel.apply_requested.connect(self.apply)
        self.panel.cancel_requested.connect(self.cancel)
        self.dock.toggleViewAction().toggled.connect(lambda on: on or self.cancel())  # closed by its X
        self.service.progress.connect(lambda _j, f: self.panel.set_progress(f))
        self.service.finished.connect(self._analysed)
        self.service.failed.connect(self._failed)

    @property
    def active(self) -> bool:
        return self._active

    @property
    def overlay(self):
        return self.window.canvas.proposal_overlay

    def start(self) -> None:
        doc = self.window.document
        if doc is None:
            return
        if self._listening is not doc:
            doc.listen_replaced(self.cancel)
            self._listening = doc
        self._active = True
        self.dock.show()
        self.dock.raise_()
        self._analyse()

    def _analyse(self) -> None:
        doc = self.window.document
        if not self._active or doc is None:
            return
        self._again.stop()
        self.analysis = None
        self._show(None)
        self.panel.set_busy(True, "Looking for scratches and dust…")
        self._job = self.service.submit(doc.image, self.panel.max_width)

    def _analysed(self, job_id: int, analysis) -> None:
        if job_id != self._job or not self._active:
            return
        self._job = None
        self.analysis = analysis
        self.panel.set_busy(False)
        self.update_proposal()

    def _failed(self, job_id: int, error: BaseException) -> None:
        if job_id == self._job:
            self._job = None
            self.panel.set_busy(False, f"Detection failed: {one_line(error)}")

    def update_proposal(self) -> None:
        """Threshold the analysis at the slider's sensitivity and show it."""
        self._repropose.stop()
        if self.analysis is None or not self._active:
            return
        mask = damage.propose(self.analysis, self.panel.sensitivity)
        self._show(mask)
        count = int(np.count_nonzero(mask))
        share = 100 * count / mask.size
        self.panel.set_status(f"{count} pixels ({share:.2f} % of the photo) proposed." if count
                              else "Nothing found at this sensitivity.")
        self.proposal_changed.emit(count)

    def _show(self, mask: Optional[np.ndarray]) -> None:
        self.proposal = mask
        self.overlay.set_layer(mask)
        self.window.canvas.viewport().update()

    def apply(self) -> None:
        """Add the proposal to the mask as one undo step, then close."""
        doc, mask = self.window.document, self.proposal
        if not self._active or doc is None or mask is None or mask.shape != doc.mask.shape:
            return
        self.window.canvas.cancel_gesture()
        cmd = MaskOp.apply(doc, "import", mask=doc.mask | mask)
        if cmd is not None:
            cmd.text = STEP_TEXT
            self.window.history.push(cmd)
        self._close(True, "Added to the mask: check it with the brush (B) and eraser (E), then Fill.")

    def cancel(self) -> None:
        if self._active:
            self._close(False, "Detection closed; the mask is unchanged.")

    def _close(self, applied: bool, message: str) -> None:
        self._active = False
        self._again.stop()
        self._repropose.stop()
        if self._job is not None:
            self.service.cancel()
            self._job = None
        self.analysis = None
        self._show(None)
        self.dock.hide()
        self.window.statusBar().showMessage(message, 6000)
        self.closed.emit(applied)

    def shutdown(self) -> None:
        self._active = False
        self.service.shutdown()
