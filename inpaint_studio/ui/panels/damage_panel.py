"""The "Detect scratches & dust" panel: sensitivity, maximum width, Apply / Cancel."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from inpaint_studio.pipeline.damage import DEFAULT_MAX_WIDTH, DEFAULT_SENSITIVITY, MAX_WIDTH_RANGE
from inpaint_studio.ui.actions import icon

HINT = "Green: proposed scratches and dust. Set the slider, then Apply adds them to the mask."


class DamagePanel(QWidget):
    sensitivity_changed = Signal(float)  # 0..1, while the slider moves
    max_width_changed = Signal(int)
    apply_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        hint = QLabel(HINT)
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        hint.setToolTip("Higher sensitivity finds fainter damage but flags more real detail. "
                        "After Apply, fix the mask with the brush (B) and eraser (E), then Fill.")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setValue(round(DEFAULT_SENSITIVITY * 100))
        self.slider.setToolTip("Higher finds fainter damage but also flags more real detail")
        self.slider_label = QLabel()
        self.slider_label.setMinimumWidth(28)
        self.width_spin = QSpinBox()
        self.width_spin.setRange(*MAX_WIDTH_RANGE)
        self.width_spin.setValue(DEFAULT_MAX_WIDTH)
        self.width_spin.setSuffix(" px")
        self.width_spin.setToolTip("The widest scratch to look for (changing it looks again)")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.apply_button = QPushButton(icon("fa5s.check"), "Apply")
        self.apply_button.setObjectName("primary")
        self.apply_button.setToolTip("Add the green marks to the mask")
        self.cancel_button = QPushButton(icon("fa5s.times"), "Cancel")
        self.cancel_button.setToolTip("Close without changing the mask")
        for button in (self.apply_button, self.cancel_button):
            button.setFocusPolicy(Qt.NoFocus)  # Space stays the canvas' pan key

        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.slider_label)
        form = QFormLayout()
        form.addRow("Sensitivity", row)
        form.addRow("Max width", self.width_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button, 1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addStretch(1)

        self.slider.valueChanged.connect(self._slider_moved)
        self.width_spin.valueChanged.connect(self.max_width_changed)
        self.apply_button.clicked.connect(self.apply_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self._slider_moved(self.slider.value())
        self.set_busy(False)

    @property
    def sensitivity(self) -> float:
        return self.slider.value() / 100

    @property
    def max_width(self) -> int:
        return self.width_spin.value()

    def _slider_moved(self, value: int) -> None:
        self.slider_label.setText(f"{value / 100:.2f}")
        self.sensitivity_changed.emit(value / 100)

    def set_busy(self, busy: bool, text: str = "") -> None:
        """While analysing: progress shown, Apply disabled (Cancel stays)."""
        self.progress.setVisible(busy)
        self.progress.setValue(0)
        self.apply_button.setEnabled(not busy)
        if text:
            self.status.setText(text)

    def set_progress(self, fraction: float) -> None:
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def set_status(self, text: str) -> None:
        self.status.setText(text)
