"""Learned-engine weights from the editor: Import Weights… and the set-up dialog.

Owns whether an import is running and the open set-up dialog; the window's worker
(``EngineService``) validates and installs a checkpoint.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox

from inpaint_studio.core.errors import UserError, one_line
from inpaint_studio.engines import registry, weights
from inpaint_studio.ui.dialogs import dialogs
from inpaint_studio.ui.dialogs.weights_dialog import WeightsDialog

WEIGHTS_FILTER = "Checkpoints (*.pth *.pt *.ckpt);;All files (*)"


class WeightsController(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.importing = False  # a weights import is running on the worker
        self.dialog: Optional[WeightsDialog] = None
        window.service.weights_imported.connect(self._imported)
        window.service.weights_failed.connect(self._failed)
        window.engine_panel.setup_requested.connect(self.open_dialog)

    def ask_and_import(self) -> None:
        """Ask for a checkpoint and its engine; the worker thread validates and installs it."""
        if self.importing:
            return
        path, _ = QFileDialog.getOpenFileName(self.w, "Import weights", "", WEIGHTS_FILTER)
        if not path:
            return
        engines = [(name, registry.get_info(name).title) for name in registry.engine_names()
                   if registry.get_info(name).weights]
        engine = dialogs.ask_weights_engine(self.w, engines, self.w.engine_panel.engine, Path(path).name)
        if engine is not None:
            self.start_import(path, engine)

    def start_import(self, path: str, engine: str) -> None:
        """Install a checkpoint on the worker thread; _weights_imported/_failed follow."""
        if self.importing:
            return
        self.importing = True
        self.w.act.import_weights.setEnabled(False)
        self.w.statusBar().showMessage(
            f"Importing {Path(path).name} for {registry.get_info(engine).title}…")
        self.w.service.import_weights(path, engine)

    def _end_import(self, message: str) -> None:
        self.importing = False
        self.w.act.import_weights.setEnabled(True)
        self.w.statusBar().showMessage(message, 6000)

    def open_dialog(self, engine: str) -> None:
        """A not-ready engine was chosen: say what it needs and get it (non-blocking)."""
        if self.dialog is not None:
            self.dialog.reject()
        dialog = WeightsDialog(engine, self.start_import, self.w)
        dialog.ready.connect(lambda name: self.w.engine_panel.refresh_engines(select=name))
        dialog.finished.connect(lambda _r, d=dialog: setattr(self, "dialog", None)
                                if self.dialog is d else None)
        self.dialog = dialog
        dialog.open()

    def _imported(self, name: str, engine: str) -> None:
        if self.dialog is not None:
            self.dialog.import_done(name, engine)
        title = registry.get_info(engine).title
        selected = self.w.engine_panel.refresh_engines(select=engine)  # a running fill keeps its job
        self._end_import(f"Weights '{name}' installed for {title}.")
        try:
            entry = weights.get_entry(name)
            licence = weights.licence_line(entry)
            what = entry.title
        except UserError as error:  # the manifest changed meanwhile
            licence, what = str(error), name
        ready = "" if selected else f"\n\n{title} is not ready yet: {registry.readiness(engine).reason}"
        QMessageBox.information(self.w, "Weights imported",
                                f"Installed '{name}' ({what}) for {title}.\n\n{licence}{ready}")

    def _failed(self, error: BaseException) -> None:
        message = one_line(error)
        if self.dialog is not None:
            self.dialog.import_failed(message)
        self._end_import("Weights not imported.")
        QMessageBox.warning(self.w, "Cannot import weights", message)
