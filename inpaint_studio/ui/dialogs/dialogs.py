"""Small dialogs. Each returns plain values so the window logic stays testable."""
from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from inpaint_studio import __version__ as VERSION
from inpaint_studio.ui.actions import shortcut_table


def ask_jpeg_quality(parent, default: int = 95) -> Optional[int]:
    """JPEG quality 1..100, or None if cancelled."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("JPEG quality")
    spin = QSpinBox()
    spin.setRange(1, 100)
    spin.setValue(default)
    form = QFormLayout(dialog)
    form.addRow(QLabel("Quality used for this photo's JPEG saves\n(asked once per photo):"))
    form.addRow("Quality", spin)
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    return spin.value() if dialog.exec() == QDialog.Accepted else None


def ask_grow(parent) -> Optional[int]:
    """Pixels to grow (positive) or shrink (negative) the mask; None if cancelled."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Grow / shrink mask")
    spin = QSpinBox()
    spin.setRange(-500, 500)
    spin.setValue(8)
    spin.setSuffix(" px")
    form = QFormLayout(dialog)
    form.addRow("Grow by (negative shrinks)", spin)
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    return spin.value() if dialog.exec() == QDialog.Accepted and spin.value() else None


def ask_weights_engine(parent, engines: list[tuple[str, str]], current: Optional[str] = None,
                       file_name: str = "") -> Optional[str]:
    """Which engine a checkpoint is for: one of ``engines`` ((name, title) pairs),
    ``current`` preselected; None if cancelled."""
    titles = [title for _, title in engines]
    names = [name for name, _ in engines]
    start = names.index(current) if current in names else 0
    title, ok = QInputDialog.getItem(parent, "Import weights", f"Engine for {file_name or 'these weights'}:",
                                     titles, start, False)
    return names[titles.index(title)] if ok and title in titles else None


def ask_unsaved(parent, name: str) -> str:
    """'save', 'discard' or 'cancel'."""
    answer = QMessageBox.question(
        parent, "Unsaved changes", f"Save the changes to {name} first?",
        QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
    return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")


def ask_overwrite_original(parent, name: str) -> str:
    """'overwrite', 'save_as' or 'cancel' for the first Save onto the opened file."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Question)
    box.setWindowTitle("Overwrite original?")
    box.setText(f"Replace the original {name} with the edited photo?")
    box.setInformativeText("The original file cannot be recovered afterwards. "
                           "You will not be asked again for this photo.")
    overwrite = box.addButton("Overwrite", QMessageBox.DestructiveRole)
    save_as = box.addButton("Save As…", QMessageBox.AcceptRole)
    box.addButton(QMessageBox.Cancel)
    box.setDefaultButton(save_as)
    box.exec()
    clicked = box.clickedButton()
    return "overwrite" if clicked is overwrite else "save_as" if clicked is save_as else "cancel"


class HelpDialog(QDialog):
    """Every shortcut, generated from the action table."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_table()
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        for row, (what, keys) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(what))
            table.setItem(row, 1, QTableWidgetItem(keys))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(560, 620)


def show_about(parent) -> None:
    QMessageBox.about(parent, "About Inpaint Studio",
                      f"<b>Inpaint Studio</b> {VERSION}<br>"
                      "Remove objects from photos at full resolution with PatchMatch, "
                      "PEN-Net, gated convolution or OpenCV fills, on your own machine.")
