"""Set up a learned engine without a terminal: which weight files it can use, their
licences, a resumable download with progress and Cancel, and Import File…."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inpaint_studio.core.errors import UserError, one_line
from inpaint_studio.engines import registry, weights
from inpaint_studio.workers.downloads import DownloadService

WEIGHTS_FILTER = "Checkpoints (*.pth *.pt *.ckpt);;All files (*)"


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class WeightsDialog(QDialog):
    """``import_file(path, engine)`` starts an import (the window's worker does it); the
    window tells the dialog how it went through ``import_done`` / ``import_failed``."""

    ready = Signal(str)  # engine name, once it can run

    def __init__(self, engine: str, import_file: Callable[[str, str], None], parent=None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.info = registry.get_info(engine)
        self._import_file = import_file
        self.setWindowTitle(f"Set up {self.info.title}")
        self.setMinimumWidth(520)
        self.downloads = DownloadService(self)
        self.downloads.progress.connect(self._progress)
        self.downloads.finished.connect(self._downloaded)
        self.downloads.failed.connect(lambda error: self._stopped(f"Download failed: {one_line(error)}"))
        self.downloads.cancelled.connect(
            lambda: self._stopped("Download cancelled; Resume download continues from here."))
        self.finished.connect(lambda _result: self.downloads.shutdown())

        intro = QLabel(f"<b>{self.info.title}</b> needs one of these weight files. "
                       "Download one, or import a file you already have.")
        intro.setWordWrap(True)
        self.rows = QVBoxLayout()
        self.download_buttons: dict[str, QPushButton] = {}
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)  # the status line says how many MB
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("hint")
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setEnabled(False)
        self.cancel_button.hide()  # shown while a download runs
        self.cancel_button.clicked.connect(self.downloads.cancel)
        self.import_button = QPushButton("Import File…")
        self.import_button.clicked.connect(self.choose_file)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.import_button, QDialogButtonBox.ActionRole)
        self.close_button = buttons.button(QDialogButtonBox.Close)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(self.rows)
        layout.addLayout(progress_row)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.refresh()

    # ---- content ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild the list of weight files (after an install, or a cancelled download)."""
        while self.rows.count():
            widget = self.rows.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.download_buttons.clear()
        for name in self.info.weights:
            try:
                self.rows.addWidget(self._row(weights.get_entry(name)))
            except UserError as error:  # a manifest without this entry
                self.rows.addWidget(QLabel(str(error)))
        if registry.readiness(self.engine).ready:
            self.status.setText(f"{self.info.title} is ready.")
            self.close_button.setText("Done")

    def _row(self, entry) -> QWidget:
        box = QFrame()
        box.setFrameShape(QFrame.StyledPanel)
        installed = not weights.missing_reason(entry)
        state = "installed" if installed else "not bundled with this build" if entry.bundled else "not installed"
        licence = entry.licence + (" — <b>non-commercial use only</b>" if entry.non_commercial else "")
        source = entry.source_url
        if source.startswith("http"):
            source = f'<a href="{source}">{source}</a>'
        text = QLabel(f"<b>{entry.title}</b> ({state})<br>Licence: {licence}<br>"
                      f"Trained on: {entry.training_data}<br>Source: {source}")
        text.setWordWrap(True)
        text.setOpenExternalLinks(True)
        text.setTextInteractionFlags(Qt.TextBrowserInteraction)
        row = QHBoxLayout(box)
        row.addWidget(text, 1)
        if entry.url and not installed:
            have = weights.partial_bytes(entry)
            button = QPushButton(f"Resume download ({_mb(have)} done)" if have else "Download")
            button.setToolTip(f"Download {entry.file}" + (f" ({_mb(entry.size)})" if entry.size else ""))
            button.clicked.connect(lambda _checked=False, n=entry.name: self.download(n))
            row.addWidget(button, 0, Qt.AlignTop)
            self.download_buttons[entry.name] = button
        return box

    # ---- download --------------------------------------------------------------------
    def download(self, name: str) -> None:
        if self.downloads.busy:
            return
        self._set_busy(True)
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText(f"Downloading {name}…")
        self.downloads.start(name)

    def _set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.cancel_button.setVisible(busy)
        self.import_button.setEnabled(not busy)
        for button in self.download_buttons.values():
            button.setEnabled(not busy)

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        if message:
            self.status.setText(message)

    def _downloaded(self, name: str) -> None:
        self._set_busy(False)
        self.progress.hide()
        self.refresh()
        self.status.setText(f"Installed '{name}'. {self.status.text()}".strip())
        self._announce()

    def _stopped(self, message: str) -> None:
        self._set_busy(False)
        self.refresh()
        self.status.setText(message)

    # ---- import ----------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Import weights for {self.info.title}", "",
                                              WEIGHTS_FILTER)
        if not path:
            return
        self._set_busy(False)
        self.import_button.setEnabled(False)
        self.status.setText(f"Importing {Path(path).name}…")
        self._import_file(path, self.engine)

    def import_done(self, name: str, engine: str) -> None:
        self.import_button.setEnabled(True)
        if engine == self.engine:
            self.refresh()
            self.status.setText(f"Installed '{name}'. {self.status.text()}".strip())
            self._announce()

    def import_failed(self, message: str) -> None:
        self.import_button.setEnabled(True)
        self.status.setText(f"Not imported: {message}")

    def _announce(self) -> None:
        if registry.readiness(self.engine).ready:
            self.ready.emit(self.engine)
