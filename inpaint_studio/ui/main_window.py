"""The editor window: canvas, tools, panels; files (ui.file_controller) and fills.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QActionGroup, QColor
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSlider,
    QSpinBox,
    QToolBar,
)

from inpaint_studio.commands.edits import ApplyFill, Macro, MaskOp
from inpaint_studio.commands.history import History
from inpaint_studio.core import fillcheck
from inpaint_studio.core.document import Document
from inpaint_studio.core.errors import UserError, one_line
from inpaint_studio.core.settings import Settings
from inpaint_studio.core.types import BBox
from inpaint_studio.engines import registry, weights
from inpaint_studio.ui.actions import build_actions
from inpaint_studio.ui.canvas.view import CanvasView
from inpaint_studio.ui.damage_detect import DamageDetect
from inpaint_studio.ui.dialogs import dialogs
from inpaint_studio.ui.dialogs.weights_dialog import WeightsDialog
from inpaint_studio.ui.file_controller import FileController
from inpaint_studio.ui.fill_choice import thin_engine
from inpaint_studio.ui.panels.engine_panel import EnginePanel
from inpaint_studio.ui.panels.history_panel import HistoryPanel
from inpaint_studio.ui.panels.layers_panel import LayersPanel
from inpaint_studio.ui.removal import RemovalTools, removal_tools
from inpaint_studio.ui.tools.brush import BrushSettings, BrushTool
from inpaint_studio.ui.tools.heal import HealTool
from inpaint_studio.ui.tools.selection import LassoTool, PolygonTool, RectTool
from inpaint_studio.workers.engine_service import EngineService, FillJob

WEIGHTS_FILTER = "Checkpoints (*.pth *.pt *.ckpt);;All files (*)"
READY_STATUS = "Paint a mask, then Fill."


class MainWindow(QMainWindow):
    def __init__(self, settings: Optional[QSettings] = None, service: Optional[EngineService] = None,
                 document: Optional[Document] = None, preload: bool = False) -> None:
        super().__init__()
        self._preload = preload  # load the engine in the background once a photo is open
        self.qsettings = settings if settings is not None else QSettings()
        self.prefs = Settings.from_json(self.qsettings.value("settings", "{}"))
        self.service = service if service is not None else EngineService(self)
        self._owns_service = service is None
        self.document: Optional[Document] = None
        self.history: Optional[History] = None
        self._image_version = 0  # bumped on every change of the photo's pixels
        self._job_version = 0
        self._job: Optional[FillJob] = None
        self._pending = None  # a finished fill waiting for the current stroke to end
        self._importing = False  # a weights import is running on the worker
        self.weights_dialog: Optional[WeightsDialog] = None
        self._heal: Optional[list] = None  # [heal stroke or None] while its fill runs (one step with it)
        self._engine_chosen = False  # the user picked an engine this session (no thin-mask Telea)

        self.setWindowTitle("Inpaint Studio")
        self.setAcceptDrops(True)
        self.canvas = CanvasView(self)
        self.setCentralWidget(self.canvas)
        colour = self.prefs.overlay.color
        self.canvas.mask_overlay.color = QColor(*colour[:3])
        self.canvas.mask_overlay.opacity = self.prefs.overlay.opacity

        self.named_actions = build_actions(self)
        self.brush = BrushSettings(size=float(self.prefs.brush.size), hardness=self.prefs.brush.hardness)
        self.pen = BrushSettings(size=4.0, hardness=1.0)
        self.tools = {
            "tool_brush": BrushTool(self, self.brush, "brush", True),
            "tool_eraser": BrushTool(self, self.brush, "eraser", False),
            "tool_lasso": LassoTool(self),
            "tool_polygon": PolygonTool(self),
            "tool_rect": RectTool(self),
            "tool_sketch": BrushTool(self, self.pen, "sketch pen", True, sketch=True),
            "tool_sketch_eraser": BrushTool(self, self.pen, "sketch eraser", False, sketch=True),
            "tool_heal": HealTool(self, BrushSettings(size=12.0, hardness=1.0)),
            **removal_tools(self, self.brush),  # smart select, sampling brush and eraser
        }
        self._build_panels()
        self._build_menus_and_toolbars()
        self._build_status_bar()
        self.files = FileController(self, self.recent_menu)
        self.damage = DamageDetect(self)
        self.removal = RemovalTools(self)  # sampling area, variations
        self._connect()
        self.select_tool("tool_brush")
        self._restore_window()
        if document is not None:
            self._attach(document)
            name = document.path.name if document.path else "photo"
            self.statusBar().showMessage(f"Opened {name}", 4000)
        self._update_actions()

    # ---- construction ------------------------------------------------------------------
    def _build_panels(self) -> None:
        self.engine_panel = EnginePanel()
        self.engine_panel.set_engine(self.prefs.engine.name)
        self.engine_panel.device_combo.setCurrentIndex(max(0, self.engine_panel.device_combo.findData(
            self.prefs.engine.device)))
        self.engine_panel.hires_combo.setCurrentIndex(max(0, self.engine_panel.hires_combo.findData(
            self.prefs.hires.mode)))
        self.engine_panel.colour_check.setChecked(self.prefs.engine.colour_match)
        self.engine_panel.feather_spin.setValue(self.prefs.engine.feather)
        if self.engine_panel.engine == self.prefs.engine.name:
            self.engine_panel.set_params(self.prefs.engine.params)
        self.layers_panel = LayersPanel({"mask": self.canvas.mask_overlay, "sketch": self.canvas.sketch_overlay})
        self.history_panel = HistoryPanel()
        self.history_panel.before_jump = self._before_history_change
        for title, widget, name in (("Fill", self.engine_panel, "engine_dock"),
                                    ("Layers", self.layers_panel, "layers_dock"),
                                    ("History", self.history_panel, "history_dock")):
            dock = QDockWidget(title, self)
            dock.setObjectName(name)
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                             | QDockWidget.DockWidgetClosable)
            self.addDockWidget(Qt.RightDockWidgetArea, dock)
            setattr(self, name, dock)

    def _build_menus_and_toolbars(self) -> None:
        a = self.named_actions
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(a["open"])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        for name in ("save", "save_as"):
            file_menu.addAction(a[name])
        file_menu.addSeparator()
        for name in ("import_mask", "export_mask"):
            file_menu.addAction(a[name])
        file_menu.addSeparator()
        file_menu.addAction(a["import_weights"])
        file_menu.addSeparator()
        file_menu.addAction(a["quit"])
        edit = bar.addMenu("&Edit")
        for name in ("undo", "redo", None, "clear_mask", "invert_mask", "grow_mask", None, "clear_sketch"):
            edit.addSeparator() if name is None else edit.addAction(a[name])
        view = bar.addMenu("&View")
        for name in ("zoom_in", "zoom_out", "zoom_fit", "zoom_100", None, "show_mask", "show_sketch",
                     None, "compare", "split"):
            view.addSeparator() if name is None else view.addAction(a[name])
        view.addSeparator()
        for dock in (self.engine_dock, self.layers_dock, self.history_dock):
            view.addAction(dock.toggleViewAction())
        tools = bar.addMenu("&Tools")
        self.tool_group = QActionGroup(self)
        for name in self.tools:
            self.tool_group.addAction(a[name])
            tools.addAction(a[name])
        tools.addSeparator()
        tools.addAction(a["detect_damage"])
        tools.addSeparator()
        tools.addAction(a["brush_smaller"])
        tools.addAction(a["brush_bigger"])
        fill = bar.addMenu("F&ill")
        fill.addAction(a["run"])
        fill.addAction(a["cancel"])
        fill.addSeparator()
        for name in ("try_again", "variation_1", "variation_2", "variation_3", "keep_variation",
                     "sample_only"):
            fill.addAction(a[name])
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(a["help"])
        help_menu.addAction(a["about"])

        top = QToolBar("Main", self)
        top.setObjectName("main_toolbar")
        top.setMovable(False)
        for name in ("open", "save", None, "undo", "redo", None, "zoom_fit", "zoom_in", "zoom_out",
                     None, "compare", "split", None, "clear_mask", "invert_mask", "grow_mask", "detect_damage"):
            top.addSeparator() if name is None else top.addAction(a[name])
        top.addSeparator()
        top.addWidget(QLabel(" Size "))
        self.size_spin = QSpinBox()
        self.size_spin.setRange(1, 2000)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Brush diameter in image pixels ([ and ])")
        top.addWidget(self.size_spin)
        top.addWidget(QLabel("  Hardness "))
        self.hardness_slider = QSlider(Qt.Horizontal)
        self.hardness_slider.setRange(0, 100)
        self.hardness_slider.setFixedWidth(110)
        self.hardness_slider.setToolTip("Brush hardness: softer brushes paint a smaller hard core")
        top.addWidget(self.hardness_slider)
        top.addSeparator()
        top.addAction(a["run"])
        self.addToolBar(Qt.TopToolBarArea, top)

        side = QToolBar("Tools", self)
        side.setObjectName("tools_toolbar")
        side.setMovable(False)
        for name in self.tools:
            side.addAction(a[name])
        self.addToolBar(Qt.LeftToolBarArea, side)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.fill_progress = QProgressBar()
        self.fill_progress.setRange(0, 1000)
        self.fill_progress.setFixedWidth(140)
        self.fill_progress.setTextVisible(False)
        self.fill_progress.hide()
        self.cursor_label = QLabel()
        self.size_label = QLabel()
        self.zoom_label = QLabel()
        for widget in (self.fill_progress, self.cursor_label, self.size_label, self.zoom_label):
            bar.addPermanentWidget(widget)
        bar.showMessage("Open a photo to begin (Ctrl+O), or drop one on the window.")

    def _connect(self) -> None:
        a = self.named_actions
        slots = {
            "open": self.files.open_dialog, "save": self.files.save, "save_as": self.files.save_as,
            "import_mask": self.files.import_mask, "export_mask": self.files.export_mask,
            "import_weights": self.import_weights, "quit": self.close,
            "undo": self.undo, "redo": self.redo,
            "clear_mask": lambda: self.mask_op("clear"), "invert_mask": lambda: self.mask_op("invert"),
            "grow_mask": self.grow_dialog, "clear_sketch": lambda: self.mask_op("clear", layer="sketch"),
            "zoom_in": self.canvas.zoom_in, "zoom_out": self.canvas.zoom_out,
            "zoom_fit": self.canvas.zoom_fit, "zoom_100": lambda: self.canvas.set_zoom(1.0),
            "brush_smaller": lambda: self.step_brush(False), "brush_bigger": lambda: self.step_brush(True),
            "run": self.run_fill, "cancel": self.cancel_fill, "detect_damage": self.damage.start,
            "help": self.show_help, "about": lambda: dialogs.show_about(self),
        }
        for name, slot in slots.items():
            a[name].triggered.connect(slot)
        for name in self.tools:
            a[name].triggered.connect(lambda _=False, n=name: self.select_tool(n))
        a["show_mask"].setChecked(True)
        a["show_sketch"].setChecked(True)
        a["show_mask"].toggled.connect(lambda on: self.layers_panel.set_visible("mask", on))
        a["show_sketch"].toggled.connect(lambda on: self.layers_panel.set_visible("sketch", on))
        self.layers_panel.checks["mask"].toggled.connect(a["show_mask"].setChecked)
        self.layers_panel.checks["sketch"].toggled.connect(a["show_sketch"].setChecked)
        self.layers_panel.changed.connect(self.canvas.viewport().update)
        a["compare"].toggled.connect(self._compare_toggled)
        a["split"].toggled.connect(self._compare_toggled)
        self.size_spin.valueChanged.connect(self._size_edited)
        self.hardness_slider.valueChanged.connect(self._hardness_edited)
        self.engine_panel.run_requested.connect(self.run_fill)
        self.engine_panel.cancel_requested.connect(self.cancel_fill)
        self.engine_panel.setup_requested.connect(self.open_weights_dialog)
        self.engine_panel.engine_changed.connect(lambda _n: setattr(self, "_engine_chosen", True))
        self.canvas.zoom_changed.connect(
            lambda z: self.zoom_label.setText(f"{z * 100:.0f} %" if self.document else ""))
        self.canvas.cursor_moved.connect(self._cursor_moved)
        self.canvas.gesture_ended.connect(self._apply_pending, Qt.QueuedConnection)
        self.service.progress.connect(self._fill_progress)
        self.service.finished.connect(self._fill_finished)
        self.service.failed.connect(self._fill_failed)
        self.service.cancelled.connect(self._fill_cancelled)
        self.service.weights_imported.connect(self._weights_imported)
        self.service.weights_failed.connect(self._weights_failed)
        self.files.loaded.connect(self._adopt)
        self.files.saved.connect(self._update_title)
        self.files.status.connect(
            lambda text, ms: self.statusBar().showMessage(text, ms) if text else self.statusBar().clearMessage())
        self.files.refresh_recent()

    # ---- document ----------------------------------------------------------------------
    def _attach(self, document: Document) -> None:
        """First document: listen to it for the window's lifetime (later photos replace it)."""
        self.document = document
        self.history = History(document)
        document.listen(self._layer_changed)
        document.listen_replaced(self._document_replaced)
        self.history.listen(self._update_actions)
        self.history_panel.set_history(self.history)
        self._document_replaced()
        if self._preload:  # importing an engine holds the GIL: do it before the first Fill
            name = self.engine_panel.engine
            if name and registry.readiness(name).ready:
                self.service.preload(name, self.engine_panel.device)

    def _document_replaced(self) -> None:
        doc = self.document
        self._image_version += 1
        self._heal = None  # a heal stroke of the previous photo
        self.files.photo_replaced()
        self.canvas.set_layers(doc.image, doc.mask, doc.sketch)
        self.removal.document_replaced()
        self.engine_panel.set_status(READY_STATUS)
        depth = "16-bit" if doc.image.dtype == np.uint16 else "8-bit"
        kind = "RGBA" if doc.image.shape[2] == 4 else "RGB"
        self.size_label.setText(f"{doc.width} × {doc.height} px · {depth} {kind}")
        self._update_actions()
        self.canvas.setFocus()

    def _layer_changed(self, layer: str, box: BBox) -> None:
        if layer == "image":
            self._image_version += 1
            self.canvas.image_changed(box)
        elif layer == "mask":
            self.canvas.mask_changed(box)
        elif layer == "avoid":
            self.removal.avoid_changed(box)
        else:
            self.canvas.sketch_changed(box)

    def open_path(self, path) -> bool:
        """Load a photo (asks about unsaved changes first). False if not opened."""
        return self.files.open_path(path)

    def maybe_save(self) -> bool:
        """Ask about unsaved changes. True if it is fine to go on."""
        return self.files.maybe_save()

    def _adopt(self, pixels: np.ndarray, picture, path) -> None:
        self.cancel_fill()
        self.canvas.cancel_gesture()
        if self.document is None:
            self._attach(Document(pixels, picture=picture, path=path))
        else:
            self.document.replace(pixels, picture=picture, path=path)

    # ---- learned-engine weights --------------------------------------------------------
    def import_weights(self) -> None:
        """Ask for a checkpoint and its engine; the worker thread validates and installs it."""
        if self._importing:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Import weights", "", WEIGHTS_FILTER)
        if not path:
            return
        engines = [(name, registry.get_info(name).title) for name in registry.engine_names()
                   if registry.get_info(name).weights]
        engine = dialogs.ask_weights_engine(self, engines, self.engine_panel.engine, Path(path).name)
        if engine is not None:
            self.start_weights_import(path, engine)

    def start_weights_import(self, path: str, engine: str) -> None:
        """Install a checkpoint on the worker thread; _weights_imported/_failed follow."""
        if self._importing:
            return
        self._importing = True
        self.named_actions["import_weights"].setEnabled(False)
        self.statusBar().showMessage(
            f"Importing {Path(path).name} for {registry.get_info(engine).title}…")
        self.service.import_weights(path, engine)

    def _end_import(self, message: str) -> None:
        self._importing = False
        self.named_actions["import_weights"].setEnabled(True)
        self.statusBar().showMessage(message, 6000)

    def open_weights_dialog(self, engine: str) -> None:
        """A not-ready engine was chosen: say what it needs and get it (non-blocking)."""
        if self.weights_dialog is not None:
            self.weights_dialog.reject()
        dialog = WeightsDialog(engine, self.start_weights_import, self)
        dialog.ready.connect(lambda name: self.engine_panel.refresh_engines(select=name))
        dialog.finished.connect(lambda _r, d=dialog: setattr(self, "weights_dialog", None)
                                if self.weights_dialog is d else None)
        self.weights_dialog = dialog
        dialog.open()

    def _weights_imported(self, name: str, engine: str) -> None:
        if self.weights_dialog is not None:
            self.weights_dialog.import_done(name, engine)
        title = registry.get_info(engine).title
        selected = self.engine_panel.refresh_engines(select=engine)  # a running fill keeps its job
        self._end_import(f"Weights '{name}' installed for {title}.")
        try:
            entry = weights.get_entry(name)
            licence = weights.licence_line(entry)
            what = entry.title
        except UserError as error:  # the manifest changed meanwhile
            licence, what = str(error), name
        ready = "" if selected else f"\n\n{title} is not ready yet: {registry.readiness(engine).reason}"
        QMessageBox.information(self, "Weights imported",
                                f"Installed '{name}' ({what}) for {title}.\n\n{licence}{ready}")

    def _weights_failed(self, error: BaseException) -> None:
        message = one_line(error)
        if self.weights_dialog is not None:
            self.weights_dialog.import_failed(message)
        self._end_import("Weights not imported.")
        QMessageBox.warning(self, "Cannot import weights", message)

    # ---- drag and drop -----------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda p=urls[0].toLocalFile(): self.open_path(p))

    # ---- editing -----------------------------------------------------------------------
    def select_tool(self, name: str) -> None:
        self.named_actions[name].setChecked(True)
        tool = self.tools[name]
        self.canvas.set_tool(tool)
        settings = getattr(tool, "settings", None)
        self.size_spin.setEnabled(settings is not None)
        self.hardness_slider.setEnabled(settings is not None)
        self._show_brush(settings)

    def _show_brush(self, settings: Optional[BrushSettings]) -> None:
        if settings is None:
            return
        for widget in (self.size_spin, self.hardness_slider):
            widget.blockSignals(True)
        self.size_spin.setValue(round(settings.size))
        self.hardness_slider.setValue(round(settings.hardness * 100))
        for widget in (self.size_spin, self.hardness_slider):
            widget.blockSignals(False)

    def _current_brush(self) -> Optional[BrushSettings]:
        return getattr(self.canvas.tool, "settings", None)

    def step_brush(self, bigger: bool) -> None:
        settings = self._current_brush()
        if settings is not None:
            settings.step(bigger)
            self._show_brush(settings)
            self.canvas.viewport().update()

    def _size_edited(self, value: int) -> None:
        settings = self._current_brush()
        if settings is not None:
            settings.size = float(value)
            self.canvas.viewport().update()

    def _hardness_edited(self, value: int) -> None:
        settings = self._current_brush()
        if settings is not None:
            settings.hardness = value / 100
            self.canvas.viewport().update()

    def _before_history_change(self) -> None:
        """End any gesture; let a starting fill finish copying the photo first."""
        self.canvas.cancel_gesture()
        if self._job is not None:
            self._job.wait_image_copied()
        else:  # "Fill done" no longer describes what is shown
            self.engine_panel.set_status(READY_STATUS)

    def undo(self) -> None:
        if self.history is not None:
            self._before_history_change()
            self.history.undo()

    def redo(self) -> None:
        if self.history is not None:
            self._before_history_change()
            self.history.redo()

    def mask_op(self, op: str, n: int = 0, layer: str = "mask") -> None:
        if self.document is None:
            return
        self.canvas.cancel_gesture()
        self.history.push(MaskOp.apply(self.document, op, n, layer=layer))

    def grow_dialog(self) -> None:
        if self.document is None:
            return
        n = dialogs.ask_grow(self)
        if n:
            self.mask_op("grow" if n > 0 else "shrink", abs(n))

    def _compare_toggled(self, _on: bool = False) -> None:
        sender = self.sender()
        if sender is self.named_actions["compare"] and self.named_actions["compare"].isChecked():
            self.named_actions["split"].setChecked(False)
        elif sender is self.named_actions["split"] and self.named_actions["split"].isChecked():
            self.named_actions["compare"].setChecked(False)
        mode = "original" if self.named_actions["compare"].isChecked() else \
            "split" if self.named_actions["split"].isChecked() else "off"
        self.canvas.set_compare_mode(mode)

    def show_help(self) -> None:
        dialogs.HelpDialog(self).exec()

    # ---- fill --------------------------------------------------------------------------
    def run_fill(self) -> None:
        doc = self.document
        if doc is None:
            self.statusBar().showMessage("Open a photo first.", 4000)
            return
        if self._job is not None:
            return
        if not doc.mask.any():
            self.engine_panel.set_status("Paint a mask over what should go, then Fill.")
            self.statusBar().showMessage("The mask is empty: paint over what should go first.", 4000)
            return
        problem = fillcheck.fill_problem(doc.width, doc.height, doc.mask)
        if problem:
            self.engine_panel.set_status(problem[0].upper() + problem[1:] + ".")
            self.statusBar().showMessage(problem, 6000)
            return
        self._submit_fill(doc.mask)

    @property
    def filling(self) -> bool:
        return self._job is not None

    def heal(self, stroke, hole: np.ndarray) -> None:
        """Fill a heal stroke's footprint now; the stroke and its fill become one step."""
        doc = self.document
        problem = "a fill is running" if self._job is not None else \
            fillcheck.fill_problem(doc.width, doc.height, hole)
        if problem:
            if stroke is not None:
                stroke.undo(doc)
            self.statusBar().showMessage(f"Cannot heal: {problem}.", 6000)
            return
        self._heal = [stroke]
        self._submit_fill(hole, heal=True)

    def _submit_fill(self, hole: np.ndarray, heal: bool = False) -> None:
        doc = self.document
        self.canvas.cancel_gesture()
        name = self.engine_panel.engine
        thin = thin_engine(name, self._engine_chosen, hole)
        info = registry.get_info(thin or name)
        sketch = doc.sketch if info.uses_sketch and not heal else None
        # the worker copies the photo (without the GIL); masks are copied here. A thin
        # mask's Telea fill changes only the hole's pixels (no feather, no hires pass).
        job = FillJob.snapshot(info.name, doc.image, hole, sketch, device=self.engine_panel.device,
                               params={} if thin else self.engine_panel.params(),
                               hires="off" if thin else self.engine_panel.hires,
                               feather=0 if thin else self.engine_panel.feather,
                               colour_match=self.engine_panel.colour_match,
                               avoid=doc.sample_exclusion(), copy_image=False)
        self._job, self._job_version = job, self._image_version
        self.engine_panel.set_busy(True)
        self.fill_progress.setValue(0)
        self.fill_progress.show()
        doing = "Healing" if heal else "Filling"
        ignored = " (this engine ignores sketch lines)" if doc.sketch.any() and sketch is None else ""
        why = (f"Thin mask: {doing.lower()} with {info.title} (choose an engine in the Fill panel "
               f"to use another){ignored}…") if thin else f"{doing} with {info.title}{ignored}…"
        self.statusBar().showMessage(why)
        self.engine_panel.set_status(f"{doing} with {info.title}…")
        self.service.submit(job)
        self._update_actions()
        note = self.removal.fill_note(info.name)
        if note:
            self.statusBar().showMessage(self.statusBar().currentMessage() + note)

    def cancel_fill(self) -> None:
        if self._pending is not None:
            self._end_fill("Fill cancelled; nothing changed.")
        elif self.service.busy:
            self.statusBar().showMessage("Cancelling…")
            self.service.cancel()
        else:
            self.canvas.cancel_gesture()

    def _end_fill(self, message: str) -> None:
        self._job, self._pending = None, None
        if self._heal is not None and self._heal[0] is not None:  # not filled: take the stroke back
            self._heal[0].undo(self.document)
        self._heal = None
        self.engine_panel.set_busy(False)
        self.engine_panel.set_status(message)
        self.fill_progress.hide()
        self.statusBar().showMessage(message, 6000)
        self._update_actions()

    def _fill_progress(self, job_id: int, fraction: float, message: str) -> None:
        self.engine_panel.set_progress(fraction, message)
        self.fill_progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def _fill_finished(self, job_id: int, result) -> None:
        job = self._job
        if job is None or job.job_id != job_id:
            return
        if self.canvas.gesture_active:  # let the stroke in progress end first
            self._pending = result
            return
        self._apply_result(job, result)

    def _apply_pending(self) -> None:
        if self._pending is not None and self._job is not None:
            result, self._pending = self._pending, None
            self._apply_result(self._job, result)

    def _apply_result(self, job: FillJob, result) -> None:
        doc = self.document
        box = result.bbox
        if self._image_version != self._job_version:  # undo/redo of a fill meanwhile
            self._end_fill("The photo changed during the fill; run it again.")
            return
        if self.removal.take_result(job, result):  # a Try Again result: shown as a variation
            self._end_fill("Variation ready: keys 1-3 flip, Keep ends.")
            return
        if not box.empty:
            self.canvas.add_original_patch(box, doc.image[box.slices].copy())
        title = registry.get_info(job.engine).title
        fill = ApplyFill.apply(doc, result.image, box, engine=title, used_mask=job.hole,
                               clear_sketch=job.sketch is not None)
        heal, self._heal = self._heal, None
        if heal is not None:  # the heal stroke and its fill: one step
            steps = [c for c in (heal[0], fill) if c is not None]
            fill = Macro("Heal", steps) if steps else None
        self.history.push(fill)
        self._end_fill("Fill done. Hold \\ to compare with the original.")
        self.removal.fill_applied(job, result)

    def _fill_failed(self, job_id: int, error: BaseException) -> None:
        self._end_fill("Fill failed.")
        QMessageBox.warning(self, "Fill failed", one_line(error))

    def _fill_cancelled(self, job_id: int) -> None:
        self._end_fill("Fill cancelled; nothing changed.")

    # ---- state -------------------------------------------------------------------------
    def _update_actions(self) -> None:
        a, have = self.named_actions, self.document is not None
        history = self.history
        a["undo"].setEnabled(bool(history and history.can_undo))
        a["redo"].setEnabled(bool(history and history.can_redo))
        a["undo"].setText(f"&Undo {history.undo_text}" if history and history.can_undo else "&Undo")
        a["redo"].setText(f"&Redo {history.redo_text}" if history and history.can_redo else "&Redo")
        for name in ("save", "save_as", "import_mask", "export_mask", "clear_mask", "invert_mask",
                     "grow_mask", "clear_sketch", "zoom_in", "zoom_out", "zoom_fit", "zoom_100",
                     "compare", "split", "detect_damage"):
            a[name].setEnabled(have)
        a["run"].setEnabled(have and self._job is None)
        self.engine_panel.set_has_photo(have)
        if not have:
            self.zoom_label.clear()
        a["cancel"].setEnabled(self._job is not None)
        self.removal.update()
        self._update_title()

    def _update_title(self) -> None:
        doc = self.document
        name = doc.path.name if doc is not None and doc.path is not None else "Untitled" if doc else ""
        self.setWindowTitle(f"{name}[*] — Inpaint Studio" if name else "Inpaint Studio")
        self.setWindowModified(self._photo_modified())

    def _photo_modified(self) -> bool:
        """The photo's pixels changed since opening or saving (mask edits do not count)."""
        return bool(self.document is not None and self.history is not None
                    and self.history.photo_modified)

    def _cursor_moved(self, pos) -> None:
        self.cursor_label.setText(f"x {pos[0]}, y {pos[1]}" if pos is not None else "")

    # ---- settings and closing ----------------------------------------------------------
    def _restore_window(self) -> None:
        geometry = self.qsettings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        state = self.qsettings.value("window_state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)

    def save_settings(self) -> None:
        from inpaint_studio.core import settings as core_settings

        panel = self.engine_panel
        overlay = self.canvas.mask_overlay
        prefs = dataclasses.replace(
            self.prefs,
            brush=core_settings.BrushSettings(size=int(self.brush.size), hardness=self.brush.hardness),
            engine=core_settings.EngineSettings(name=panel.engine or self.prefs.engine.name,
                                                device=panel.device, params=panel.params(),
                                                colour_match=panel.colour_match,
                                                feather=panel.feather),
            hires=dataclasses.replace(self.prefs.hires, mode=panel.hires),
            overlay=core_settings.OverlaySettings(
                color=(overlay.color.red(), overlay.color.green(), overlay.color.blue(), 255),
                opacity=overlay.opacity),
        )
        self.prefs = prefs
        self.qsettings.setValue("settings", prefs.to_json())
        self.qsettings.setValue("geometry", self.saveGeometry())
        self.qsettings.setValue("window_state", self.saveState())
        self.qsettings.sync()

    def closeEvent(self, event) -> None:
        self.canvas.cancel_gesture()
        if not self.maybe_save():
            event.ignore()
            return
        self.save_settings()
        if self.weights_dialog is not None:
            self.weights_dialog.reject()  # stops its download thread
        self.damage.shutdown()
        if self._owns_service:
            self.service.shutdown()
        elif self.service.busy:
            self.service.cancel()
        event.accept()
