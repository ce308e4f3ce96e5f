"""The Remove panel: sampling-area mode and fill variations (buttons drive window actions)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from inpaint_studio.ui.actions import Actions


class RemovalPanel(QWidget):
    def __init__(self, actions: Actions, parent=None) -> None:
        super().__init__(parent)
        sampling = QGroupBox("Sampling area")
        self.exclude_radio = QRadioButton("Never copy from painted area")
        self.only_radio = QRadioButton("Copy only from painted area")
        self.exclude_radio.setChecked(True)
        self.mode_group = QButtonGroup(self)
        for button in (self.exclude_radio, self.only_radio):
            self.mode_group.addButton(button)
        self.clear_button = QPushButton("Clear Sampling Area")
        hint = QLabel("Paint with the sampling brush (X; Shift+X erases). PatchMatch honours it; "
                      "other engines ignore it.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        box = QVBoxLayout(sampling)
        for widget in (self.exclude_radio, self.only_radio, self.clear_button, hint):
            box.addWidget(widget)

        variations = QGroupBox("Variations")
        actions.try_again.setIconText("Try Again")
        actions.keep_variation.setIconText("Keep")
        self.try_button = QToolButton()
        self.try_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.try_button.setDefaultAction(actions.try_again)
        self.keep_button = QToolButton()
        self.keep_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.keep_button.setDefaultAction(actions.keep_variation)
        self.number_buttons = []
        row = QHBoxLayout()
        row.addWidget(self.try_button)
        for i in range(3):
            button = QToolButton()
            actions.variations[i].setIconText(str(i + 1))  # the menus keep the long text
            button.setDefaultAction(actions.variations[i])
            self.number_buttons.append(button)
            row.addWidget(button)
        row.addWidget(self.keep_button)
        row.addStretch(1)
        self.status = QLabel("Fill, then Try Again for another result.")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        col = QVBoxLayout(variations)
        col.addLayout(row)
        col.addWidget(self.status)

        layout = QVBoxLayout(self)
        layout.addWidget(sampling)
        layout.addWidget(variations)
        layout.addStretch(1)
