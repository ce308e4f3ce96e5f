"""The editor window: a shell over the canvas, tools and panels.

Files are ``ui.file_controller``, fills ``ui.fill_controller``, weight imports
``ui.weights_controller``; each owns its state and the window reacts to its signals.
Menus and status bar: ``ui.menus``; remembered state: ``ui.window_settings``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
)

from inpaint_studio.commands.edits import MaskOp
from inpaint_studio.commands.history import History
from inpaint_studio.core.document import Document
from inpaint_studio.core.settings import Settings
from inpaint_studio.core.types import BBox
from inpaint_studio.engines import registry
from inpaint_studio.ui import window_settings
from inpaint_studio.ui.actions import build_actions
from inpaint_studio.ui.canvas.view import CanvasView
from inpaint_studio.ui.damage_detect import DamageDetect
from inpaint_studio.ui.dialogs import dialogs
from inpaint_studio.ui.file_controller import FileController
from inpaint_studio.ui.fill_controller import FillController
from inpaint_studio.ui.menus import build_menus_and_toolbars, build_status_bar
from inpaint_studio.ui.panels.engine_panel import EnginePanel
from inpaint_studio.ui.panels.history_panel import HistoryPanel
from inpaint_studio.ui.panels.layers_panel import LayersPanel
from inpaint_studio.ui.removal import RemovalTools, removal_tools
from inpaint_studio.ui.tools.brush import BrushSettings, BrushTool
from inpaint_studio.ui.tools.heal import HealTool
from inpaint_studio.ui.tools.selection import LassoTool, PolygonTool, RectTool
from inpaint_studio.ui.tools.target import EditTarget
from inpaint_studio.ui.weights_controller import WeightsController
from inpaint_studio.workers.engine_service import EngineService

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

        self.setWindowTitle("Inpaint Studio")
        self.setAcceptDrops(True)
        self.canvas = CanvasView(self)
        self.setCentralWidget(self.canvas)
        colour = self.prefs.overlay.color
        self.canvas.mask_overlay.color = QColor(*colour[:3])
        self.canvas.mask_overlay.opacity = self.prefs.overlay.opacity

        self.act = build_actions(self)  # typed: self.act.run, self.act.undo, ...
        self.brush = BrushSettings(size=float(self.prefs.brush.size), hardness=self.prefs.brush.hardness)
        self.pen = BrushSettings(size=4.0, hardness=1.0)
        target = EditTarget(lambda: self.document, lambda: self.history, filling=lambda: self.filling,
                            heal=self.heal, status=self.statusBar().showMessage)
        self.tools = {
            "tool_brush": BrushTool(target, self.brush, "brush", True),
            "tool_eraser": BrushTool(target, self.brush, "eraser", False),
            "tool_lasso": LassoTool(target),
            "tool_polygon": PolygonTool(target),
            "tool_rect": RectTool(target),
            "tool_sketch": BrushTool(target, self.pen, "sketch pen", True, sketch=True),
            "tool_sketch_eraser": BrushTool(target, self.pen, "sketch eraser", False, sketch=True),
            "tool_heal": HealTool(target, BrushSettings(size=12.0, hardness=1.0)),
            **removal_tools(target, self.brush),  # smart select, sampling brush and eraser
        }
        self._build_panels()
        build_menus_and_toolbars(self)
        build_status_bar(self)
        self.files = FileController(self, self.recent_menu)
        self.fill = FillController(self)
        self.weights = WeightsController(self)
        self.damage = DamageDetect(self)
        self.removal = RemovalTools(self)  # sampling area, variations
        self._connect()
        self.select_tool("tool_brush")
        window_settings.restore_geometry(self)
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

    def _connect(self) -> None:
        a = self.act
        slots = (
            (a.open, self.files.open_dialog), (a.save, self.files.save), (a.save_as, self.files.save_as),
            (a.import_mask, self.files.import_mask), (a.export_mask, self.files.export_mask),
            (a.import_weights, self.weights.ask_and_import), (a.quit, self.close),
            (a.undo, self.undo), (a.redo, self.redo),
            (a.clear_mask, lambda: self.mask_op("clear")), (a.invert_mask, lambda: self.mask_op("invert")),
            (a.grow_mask, self.grow_dialog), (a.clear_sketch, lambda: self.mask_op("clear", layer="sketch")),
            (a.zoom_in, self.canvas.zoom_in), (a.zoom_out, self.canvas.zoom_out),
            (a.zoom_fit, self.canvas.zoom_fit), (a.zoom_100, lambda: self.canvas.set_zoom(1.0)),
            (a.brush_smaller, lambda: self.step_brush(False)), (a.brush_bigger, lambda: self.step_brush(True)),
            (a.run, self.run_fill), (a.cancel, self.cancel_fill), (a.detect_damage, self.damage.start),
            (a.help, self.show_help), (a.about, lambda: dialogs.show_about(self)),
        )
        for action, slot in slots:
            action.triggered.connect(slot)
        for name in self.tools:
            a.named(name).triggered.connect(lambda _=False, n=name: self.select_tool(n))
        a.show_mask.setChecked(True)
        a.show_sketch.setChecked(True)
        a.show_mask.toggled.connect(lambda on: self.layers_panel.set_visible("mask", on))
        a.show_sketch.toggled.connect(lambda on: self.layers_panel.set_visible("sketch", on))
        self.layers_panel.checks["mask"].toggled.connect(a.show_mask.setChecked)
        self.layers_panel.checks["sketch"].toggled.connect(a.show_sketch.setChecked)
        self.layers_panel.changed.connect(self.canvas.viewport().update)
        a.compare.toggled.connect(self._compare_toggled)
        a.split.toggled.connect(self._compare_toggled)
        self.size_spin.valueChanged.connect(self._size_edited)
        self.hardness_slider.valueChanged.connect(self._hardness_edited)
        self.canvas.zoom_changed.connect(
            lambda z: self.zoom_label.setText(f"{z * 100:.0f} %" if self.document else ""))
        self.canvas.cursor_moved.connect(self._cursor_moved)
        self.fill.changed.connect(self._update_actions)
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
        self.fill.photo_replaced()
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
            self.fill.image_version += 1
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
        self.act.named(name).setChecked(True)
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
        if self.fill.job is not None:
            self.fill.job.wait_image_copied()
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
        if sender is self.act.compare and self.act.compare.isChecked():
            self.act.split.setChecked(False)
        elif sender is self.act.split and self.act.split.isChecked():
            self.act.compare.setChecked(False)
        mode = "original" if self.act.compare.isChecked() else \
            "split" if self.act.split.isChecked() else "off"
        self.canvas.set_compare_mode(mode)

    def show_help(self) -> None:
        dialogs.HelpDialog(self).exec()

    # ---- fill (ui.fill_controller) --------------------------------------------------
    def run_fill(self) -> None:
        self.fill.run()

    def cancel_fill(self) -> None:
        self.fill.cancel()

    def heal(self, stroke, hole: np.ndarray) -> None:
        """Fill a heal stroke's footprint now; the stroke and its fill become one step."""
        self.fill.heal(stroke, hole)

    @property
    def filling(self) -> bool:
        return self.fill.job is not None

    # ---- state -------------------------------------------------------------------------
    def _update_actions(self) -> None:
        a, have = self.act, self.document is not None
        history = self.history
        a.undo.setEnabled(bool(history and history.can_undo))
        a.redo.setEnabled(bool(history and history.can_redo))
        a.undo.setText(f"&Undo {history.undo_text}" if history and history.can_undo else "&Undo")
        a.redo.setText(f"&Redo {history.redo_text}" if history and history.can_redo else "&Redo")
        for action in (a.save, a.save_as, a.import_mask, a.export_mask, a.clear_mask, a.invert_mask,
                       a.grow_mask, a.clear_sketch, a.zoom_in, a.zoom_out, a.zoom_fit, a.zoom_100,
                       a.compare, a.split, a.detect_damage):
            action.setEnabled(have)
        a.run.setEnabled(have and self.fill.job is None)
        self.engine_panel.set_has_photo(have)
        if not have:
            self.zoom_label.clear()
        a.cancel.setEnabled(self.fill.job is not None)
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
    def save_settings(self) -> None:
        self.prefs = window_settings.current_prefs(self)
        window_settings.save(self)

    def closeEvent(self, event) -> None:
        self.canvas.cancel_gesture()
        if not self.maybe_save():
            event.ignore()
            return
        self.save_settings()
        if self.weights.dialog is not None:
            self.weights.dialog.reject()  # stops its download thread
        self.damage.shutdown()
        if self._owns_service:
            self.service.shutdown()
        elif self.service.busy:
            self.service.cancel()
        event.accept()
