"""Object-removal tools of the editor window: sampling area, variations, smart selection.

Variations: after a fill (an engine with a seed), Try Again fills the same hole of the same
photo with the next seed. The last three results are kept; keys 1/2/3 show one. The one
shown is the window's top history step (showing another replaces that step, so flipping
adds no steps); Keep (or any other edit) ends the set, leaving that one step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDockWidget

from inpaint_studio import fileio
from inpaint_studio.commands.edits import ApplyFill, MaskOp
from inpaint_studio.commands.sampling import SampleMode
from inpaint_studio.core.errors import UserError
from inpaint_studio.core.types import BBox
from inpaint_studio.engines import registry
from inpaint_studio.ui.panels.removal_panel import RemovalPanel
from inpaint_studio.ui.tools.brush import BrushSettings
from inpaint_studio.ui.tools.sampling import SamplingBrush
from inpaint_studio.ui.tools.smart_select import SmartSelectTool
from inpaint_studio.ui.tools.target import EditTarget
from inpaint_studio.workers.engine_service import FillJob

EXCLUDE_COLOUR = QColor(255, 170, 0)  # amber: never sample here
ONLY_COLOUR = QColor(150, 90, 255)  # violet: sample only here
KEPT = 3


def removal_tools(target: EditTarget, brush: BrushSettings) -> dict:
    return {"tool_smart": SmartSelectTool(target),
            "tool_sample": SamplingBrush(target, brush, "sampling brush", True),
            "tool_sample_eraser": SamplingBrush(target, brush, "sampling eraser", False)}


@dataclass
class Variations:
    job: FillJob
    region: BBox  # holds every change a fill of this hole can make
    base: np.ndarray  # the photo inside ``region`` before the fill
    results: list = field(default_factory=list)  # [(seed, bbox, patch)], oldest first
    shown: int = 0
    command: object = None  # the history step showing ``results[shown]``
    next_seed: int = 1


class RemovalTools:
    def __init__(self, window) -> None:
        self.w = window
        self.set: Optional[Variations] = None
        self._base: Optional[tuple[BBox, np.ndarray]] = None
        self._waiting: Optional[FillJob] = None  # a Try Again job in flight
        self._switching = False
        self._listening = False
        a = window.act
        self.panel = RemovalPanel(a)
        dock = QDockWidget("Remove", window)
        dock.setObjectName("removal_dock")
        dock.setWidget(self.panel)
        window.addDockWidget(Qt.RightDockWidgetArea, dock)
        window.tabifyDockWidget(window.engine_dock, dock)  # a tab beside Fill: no extra height
        window.engine_dock.raise_()
        self.dock = dock
        a.try_again.triggered.connect(self.try_again)
        a.keep_variation.triggered.connect(self.keep)
        for i in range(KEPT):
            a.variations[i].triggered.connect(lambda _=False, k=i: self.show(k))
        a.sample_only.toggled.connect(self.set_sample_only)
        self.panel.only_radio.toggled.connect(a.sample_only.setChecked)
        self.panel.clear_button.clicked.connect(self.clear_sampling)
        self.update()

    # ---- sampling area ------------------------------------------------------------------
    def document_replaced(self) -> None:
        self.set, self._base, self._waiting = None, None, None
        if not self._listening:  # one History for the window's lifetime
            self.w.history.listen(self.history_changed)
            self._listening = True
        self.w.canvas.avoid_overlay.set_layer(self.w.document.avoid)
        self._sync_mode()
        self.update()

    def avoid_changed(self, box: BBox) -> None:
        self._sync_mode()
        self.w.canvas.avoid_overlay.update(box)
        self.w.canvas.update_image_box(box)

    def _sync_mode(self) -> None:
        only = self.w.document.avoid_only
        overlay = self.w.canvas.avoid_overlay
        colour = ONLY_COLOUR if only else EXCLUDE_COLOUR
        if overlay.color != colour:
            overlay.set_color(colour)
        for widget in (self.w.act.sample_only, self.panel.only_radio, self.panel.exclude_radio):
            widget.blockSignals(True)
        self.w.act.sample_only.setChecked(only)
        (self.panel.only_radio if only else self.panel.exclude_radio).setChecked(True)
        for widget in (self.w.act.sample_only, self.panel.only_radio, self.panel.exclude_radio):
            widget.blockSignals(False)

    def set_sample_only(self, only: bool) -> None:
        if self.w.document is not None and self.w.document.avoid_only != only:
            self.w.canvas.cancel_gesture()
            self.w.history.push(SampleMode.apply(self.w.document, only))
        if self.w.document is not None:
            self._sync_mode()

    def clear_sampling(self) -> None:
        if self.w.document is None:
            return
        self.w.canvas.cancel_gesture()
        cmd = MaskOp.apply(self.w.document, "clear", layer="avoid")
        if cmd is not None:
            cmd.text = "Clear sampling area"
        self.w.history.push(cmd)

    def fill_note(self, engine: str) -> str:
        """What to add to 'Filling with ...' when the engine ignores the sampling area."""
        doc = self.w.document
        if doc.sample_exclusion() is not None and not registry.get_info(engine).uses_avoid:
            return " (this engine ignores the sampling area)"
        return ""

    def export_avoid(self, mask_path) -> str:
        """Save the sampling exclusion beside an exported mask as STEM-avoid.png (white =
        never sample), for `fill --avoid`; returns a note for the status line."""
        exclusion = self.w.document.sample_exclusion()
        if exclusion is None:
            return ""
        path = Path(mask_path)
        path = path.with_name(f"{path.stem}-avoid.png")
        try:
            fileio.save_mask(path, exclusion)
        except UserError as error:
            return f"; sampling area not saved: {error}"
        return f" and the sampling area to {path.name}"

    # ---- variations ---------------------------------------------------------------------
    @property
    def active(self) -> bool:
        s, h = self.set, self.w.history
        return bool(s is not None and h is not None and h.index > 0
                    and h.commands[h.index - 1] is s.command)

    def take_result(self, job: FillJob, result) -> bool:
        """Called with each finished fill before it is applied; True if it was a variation
        (then shown here instead)."""
        if job is not self._waiting:
            doc = self.w.document
            grow = job.feather if isinstance(job.feather, int) else 64
            region = BBox.of_mask(np.asarray(job.hole)).grow(grow + 2).clip(doc.width, doc.height)
            region = region.union(result.bbox)
            self._base = (region, doc.image[region.slices].copy())
            return False
        self._waiting = None
        s = self.set
        if s is None or not self.active:
            return True
        s.results.append((job.params.get("seed"), result.bbox, result.image[result.bbox.slices].copy()))
        if len(s.results) > KEPT:
            s.results.pop(0)
            s.shown -= 1
        s.shown = -1  # always replace: the newest is shown
        self._replace(len(s.results) - 1)
        return True

    def fill_applied(self, job: FillJob, result) -> None:
        """After a normal fill was pushed: start a new set of variations."""
        history, base, self._base = self.w.history, self._base, None
        top = history.commands[history.index - 1] if history.index else None
        self.set = None
        if base is not None and isinstance(top, ApplyFill) and "seed" in job.params:
            seed = int(job.params["seed"])
            self.set = Variations(job, base[0], base[1], [(seed, result.bbox,
                                  result.image[result.bbox.slices].copy())], 0, top, seed + 1)
        self.update()

    def try_again(self) -> None:
        if not self.active or self.w.fill.job is not None:
            return
        s, doc = self.set, self.w.document
        image = doc.image.copy()
        image[s.region.slices] = s.base  # the photo as it was before the first fill
        params = dict(s.job.params, seed=s.next_seed)
        s.next_seed += 1
        job = FillJob.snapshot(s.job.engine, image, s.job.hole, s.job.sketch, device=s.job.device,
                               params=params, hires=s.job.hires, feather=s.job.feather,
                               colour_match=s.job.colour_match, avoid=s.job.avoid)
        self._waiting = job
        title = registry.get_info(job.engine).title
        self.w.fill.start(job, f"Trying again with {title} (seed {params['seed']})…")
        self.update()

    def show(self, index: int) -> None:
        """Show result ``index`` (0-based, oldest first) in place of the one shown."""
        if self.active and self.w.fill.job is None and 0 <= index < len(self.set.results):
            self._replace(index)
        self.update()

    def _replace(self, index: int) -> None:
        s = self.set
        if index == s.shown:
            return
        self.w.canvas.cancel_gesture()
        _seed, box, patch = s.results[index]
        title = registry.get_info(s.job.engine).title
        self._switching = True
        try:
            self.w.history.undo()
            s.command = ApplyFill.apply(self.w.document, patch, box, engine=title,
                                        used_mask=s.job.hole, clear_sketch=s.job.sketch is not None)
            self.w.history.push(s.command)
        finally:
            self._switching = False
        s.shown = index

    def keep(self) -> None:
        if self.active:
            shown = self.set.shown + 1
            self.set = None
            self.w.statusBar().showMessage(f"Kept variation {shown}.", 4000)
        self.update()

    def history_changed(self) -> None:
        if not self._switching and self.set is not None and not self.active:
            self.set = None  # another edit, an undo or a jump: the variations are gone
        self.update()

    def update(self) -> None:
        a, s = self.w.act, self.set
        active = self.active
        idle = self.w.fill.job is None
        info = registry.get_info(s.job.engine) if s is not None else None
        a.try_again.setEnabled(active and idle)
        a.keep_variation.setEnabled(active)
        for i in range(KEPT):
            action = a.variations[i]
            action.setEnabled(active and idle and i < len(s.results))
            action.setChecked(active and s.shown == i)
        if active:
            seeds = ", ".join(str(seed) for seed, _, _ in s.results)
            self.panel.status.setText(f"Showing {s.shown + 1} of {len(s.results)} ({info.title}, "
                                      f"seeds {seeds}). Keys 1-3 flip, Keep ends.")
        else:
            self.panel.status.setText("Fill with an engine that has a seed (PatchMatch), then "
                                      "Try Again for another result.")
