"""Mask and sketch visibility, opacity and colour."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QColorDialog, QGridLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from inpaint_studio.ui.canvas.overlay import LayerOverlay


class LayersPanel(QWidget):
    changed = Signal()

    def __init__(self, layers: dict[str, LayerOverlay], parent=None) -> None:
        super().__init__(parent)
        self.layers = layers
        self.checks: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        for row, (name, overlay) in enumerate(layers.items()):
            check = QCheckBox(name.title())
            check.setChecked(overlay.visible)
            check.toggled.connect(lambda on, n=name: self.set_visible(n, on))
            slider = QSlider(Qt.Horizontal)
            slider.setRange(0, 100)
            slider.setValue(round(overlay.opacity * 100))
            slider.setToolTip("Opacity")
            slider.valueChanged.connect(lambda v, n=name: self._set_opacity(n, v))
            swatch = QPushButton()
            swatch.setFixedSize(22, 22)
            swatch.setToolTip("Colour")
            swatch.clicked.connect(lambda _=False, n=name, b=swatch: self._pick_colour(n, b))
            self._paint_swatch(swatch, overlay.color)
            grid.addWidget(check, row, 0)
            grid.addWidget(slider, row, 1)
            grid.addWidget(swatch, row, 2)
            self.checks[name] = check
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        hint = QLabel("Sketch lines guide engines that use them.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(1)

    def set_visible(self, name: str, on: bool) -> None:
        self.layers[name].visible = on
        if self.checks[name].isChecked() != on:
            self.checks[name].setChecked(on)
        self.changed.emit()

    def _set_opacity(self, name: str, value: int) -> None:
        self.layers[name].opacity = value / 100
        self.changed.emit()

    def _pick_colour(self, name: str, button: QPushButton) -> None:
        colour = QColorDialog.getColor(self.layers[name].color, self, f"{name.title()} colour")
        if colour.isValid():
            self.layers[name].set_color(colour)
            self._paint_swatch(button, colour)
            self.changed.emit()

    @staticmethod
    def _paint_swatch(button: QPushButton, colour: QColor) -> None:
        button.setStyleSheet(f"background: {colour.name()}; border: 1px solid #888; border-radius: 3px;")
