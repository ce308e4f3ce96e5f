"""Opening, saving, masks in and out, and the recent-files list for the editor window.

Saving policy (what a careful photographer expects): Save never silently replaces the
file that was opened. The first Save of an opened photo asks "Overwrite original?"
(Overwrite / Save As… / Cancel, Save As… being the default); once answered Overwrite,
later Saves of that photo go straight to it. A file written by Save As belongs to the
session, so Save writes to it without asking. Save with no changes writes nothing (no
needless JPEG re-encode). JPEG quality is asked once per photo, on its first JPEG save.
Every write goes through a temp file and a rename (fileio).

The controller owns that state; the window adopts a loaded photo on ``loaded`` and
shows ``status`` messages. It reads the window's document and history (``window``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox

from inpaint_studio import fileio
from inpaint_studio.commands.edits import MaskOp
from inpaint_studio.core.errors import UserError
from inpaint_studio.ui.dialogs import dialogs

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp *.bmp);;All files (*)"
MASK_FILTER = "Masks (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)"
MAX_RECENT = 10


def load_document_parts(path) -> tuple[np.ndarray, "fileio.Picture"]:
    """Read a photo; the pixels come back writeable (the document edits them in place)."""
    picture = fileio.load_image(path)
    return np.require(picture.pixels, requirements=["C", "W"]), picture


class FileController(QObject):
    loaded = Signal(object, object, object)  # (pixels, picture, path): adopt this photo
    saved = Signal(object)  # Path written
    status = Signal(str, int)  # (message, ms; 0 = until replaced, "" clears)

    def __init__(self, window, recent_menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.recent_menu = recent_menu
        self.overwrite_ok = False  # Save may replace the opened file
        self.jpeg_quality: Optional[int] = None

    def photo_replaced(self) -> None:
        """Another photo: ask again before overwriting it, and for its JPEG quality."""
        self.overwrite_ok = False
        self.jpeg_quality = None

    def _modified(self) -> bool:
        w = self.window
        return bool(w.document is not None and w.history is not None and w.history.photo_modified)

    # ---- photos
    def open_path(self, path) -> bool:
        """Load a photo (asks about unsaved changes first). False if not opened."""
        if not self.maybe_save():
            return False
        try:
            pixels, picture = load_document_parts(path)
        except UserError as error:
            QMessageBox.warning(self.window, "Cannot open photo", str(error))
            return False
        self.loaded.emit(pixels, picture, path)
        self.add_recent(str(Path(path).resolve()))
        self.status.emit(f"Opened {Path(path).name}", 4000)
        if picture.warning:  # e.g. a truncated JPEG: opened, but the user must know
            QMessageBox.warning(self.window, "Photo opened with a problem", picture.warning)
        return True

    def open_dialog(self) -> None:
        doc = self.window.document
        start = str(doc.path.parent) if doc and doc.path else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open photo", start, IMAGE_FILTER)
        if path:
            self.open_path(path)

    def save(self) -> bool:
        doc = self.window.document
        if doc is None:
            return False
        if doc.path is None:
            return self.save_as()
        if not self._modified() and doc.path.exists():  # never re-encode an untouched file
            self.status.emit("No changes to save.", 4000)
            return True
        if not self.overwrite_ok:
            choice = dialogs.ask_overwrite_original(self.window, doc.path.name)
            if choice == "save_as":
                return self.save_as()
            if choice != "overwrite":
                return False
        return self._write(doc.path)

    def save_as(self) -> bool:
        doc = self.window.document
        if doc is None:
            return False
        suggestion = ""
        if doc.path is not None:
            suggestion = str(doc.path.with_name(f"{doc.path.stem}-edited{doc.path.suffix}"))
        path, _ = QFileDialog.getSaveFileName(self.window, "Save photo as", suggestion, IMAGE_FILTER)
        if not path:
            return False
        if not Path(path).suffix:
            path += doc.path.suffix if doc.path is not None else ".png"
        if self._write(Path(path)):
            doc.path = Path(path)
            self.overwrite_ok = True  # our own file now
            self.add_recent(str(Path(path).resolve()))
            self.saved.emit(Path(path))
            return True
        return False

    def _write(self, path: Path) -> bool:
        doc = self.window.document
        quality = None
        if path.suffix.lower() in (".jpg", ".jpeg", ".jpe"):
            if self.jpeg_quality is None:
                self.jpeg_quality = dialogs.ask_jpeg_quality(self.window)
                if self.jpeg_quality is None:
                    return False
            quality = self.jpeg_quality
        self.status.emit(f"Saving {path.name}…", 0)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)  # show both now
        problem = ""
        try:
            fileio.save_image(path, doc.image, like=doc.picture, quality=quality)
        except UserError as error:
            problem = str(error)
        except OSError as error:
            problem = f"{path}: {error.strerror or error}"
        finally:
            QApplication.restoreOverrideCursor()
            self.status.emit("", 0)
        if problem:
            QMessageBox.warning(self.window, "Cannot save", problem)
            return False
        if path == doc.path:
            self.overwrite_ok = True
        self.window.history.set_clean()
        self.status.emit(f"Saved {path.name}", 4000)
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes. True if it is fine to go on."""
        doc = self.window.document
        if doc is None or not self._modified():
            return True
        answer = dialogs.ask_unsaved(self.window, doc.path.name if doc.path else "this photo")
        if answer == "save":
            return self.save()
        return answer == "discard"

    # ---- masks
    def import_mask(self) -> None:
        doc = self.window.document
        if doc is None:
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Import mask", "", MASK_FILTER)
        if not path:
            return
        try:
            mask = fileio.load_mask(path, (doc.width, doc.height))
            self.window.canvas.cancel_gesture()
            self.window.history.push(MaskOp.apply(doc, "import", mask=mask))
        except UserError as error:
            QMessageBox.warning(self.window, "Cannot import mask", str(error))

    def export_mask(self) -> None:
        doc = self.window.document
        if doc is None:
            return
        suggestion = str(doc.path.with_name(f"{doc.path.stem}-mask.png")) if doc.path else "mask.png"
        path, _ = QFileDialog.getSaveFileName(self.window, "Export mask", suggestion, "PNG (*.png)")
        if not path:
            return
        if not Path(path).suffix:
            path += ".png"
        try:
            fileio.save_mask(path, doc.mask)
            also = self.window.removal.export_avoid(path)
            self.status.emit(f"Mask saved to {Path(path).name}{also}", 4000)
        except UserError as error:
            QMessageBox.warning(self.window, "Cannot export mask", str(error))

    # ---- recent files
    def recent_files(self) -> list[str]:
        value = self.window.qsettings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: str) -> None:
        recent = [path] + [p for p in self.recent_files() if p != path]
        self.window.qsettings.setValue("recent", recent[:MAX_RECENT])
        self.refresh_recent()

    def refresh_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for index, path in enumerate(recent):
            action = self.recent_menu.addAction(f"&{(index + 1) % 10} {Path(path).name}")
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(recent))
