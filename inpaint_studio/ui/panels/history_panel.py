"""Lists the history steps; clicking one jumps there (row 0 is the opened photo)."""
from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWidget


class HistoryPanel(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.history = None
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self.list.itemClicked.connect(self._clicked)
        self.list.currentRowChanged.connect(self._row_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        self._refreshing = False
        self.before_jump = None  # called first, e.g. to end a stroke in progress

    def set_history(self, history) -> None:
        self.history = history
        history.listen(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self._refreshing = True
        try:
            self.list.clear()
            if self.history is None:
                return
            texts = ["Opened photo"] + self.history.steps
            current = self.history.index
            for row, text in enumerate(texts):
                item = QListWidgetItem(text)
                if row > current:  # undone steps (redo-able)
                    item.setForeground(QColor(130, 130, 136))
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                self.list.addItem(item)
            self.list.setCurrentRow(current)
            self.list.scrollToItem(self.list.item(current))
        finally:
            self._refreshing = False

    def _clicked(self, item: QListWidgetItem) -> None:
        self.goto(self.list.row(item))

    def _row_changed(self, row: int) -> None:
        if not self._refreshing and row >= 0:
            self.goto(row)

    def goto(self, row: int) -> None:
        if self.history is not None and row != self.history.index:
            if self.before_jump is not None:
                self.before_jump()
            self.history.goto(row)
