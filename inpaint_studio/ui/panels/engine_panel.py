"""Engine choice, its parameters (built from EngineInfo.params), device, hires, Run/Cancel."""
from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from inpaint_studio.core.settings import MAX_FEATHER, EngineSettings
from inpaint_studio.engines import registry
from inpaint_studio.engines.base import ParamSpec
from inpaint_studio.engines.device import DEVICE_CHOICES
from inpaint_studio.pipeline.run import HIRES_MODES
from inpaint_studio.ui.actions import icon

READY_ROLE = Qt.UserRole + 1
DEVICE_LABELS = {"auto": "Auto", "cpu": "CPU", "cuda": "CUDA", "mps": "Apple MPS"}
DEVICES = tuple((DEVICE_LABELS[d], d) for d in DEVICE_CHOICES)
HIRES_LABELS = {"off": "Off", "on": "On", "auto": "Auto (large holes)"}
HIRES = tuple((HIRES_LABELS[m], m) for m in HIRES_MODES)


def param_widget(spec: ParamSpec) -> QWidget:
    if spec.kind == "bool":
        widget = QCheckBox()
        widget.setChecked(bool(spec.default))
    elif spec.kind == "choice":
        widget = QComboBox()
        for choice in spec.choices:
            widget.addItem(str(choice), choice)
        widget.setCurrentIndex(max(0, widget.findData(spec.default)))
    elif spec.kind == "float":
        widget = QDoubleSpinBox()
        widget.setDecimals(2)
        widget.setSingleStep(0.1)
        widget.setRange(spec.minimum if spec.minimum is not None else -1e9,
                        spec.maximum if spec.maximum is not None else 1e9)
        widget.setValue(float(spec.default))
    else:
        widget = QSpinBox()
        widget.setRange(int(spec.minimum if spec.minimum is not None else -2**31 + 1),
                        int(spec.maximum if spec.maximum is not None else 2**31 - 1))
        widget.setValue(int(spec.default))
    widget.setToolTip(spec.help)
    return widget


def widget_value(spec: ParamSpec, widget: QWidget) -> Any:
    if spec.kind == "bool":
        return widget.isChecked()
    if spec.kind == "choice":
        return widget.currentData()
    if spec.kind == "float":
        return float(widget.value())
    return int(widget.value())


class EnginePanel(QWidget):
    run_requested = Signal()
    cancel_requested = Signal()
    engine_changed = Signal(str)
    setup_requested = Signal(str)  # a not-ready engine was chosen: its weights are needed

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.engine_combo = QComboBox()
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setObjectName("hint")
        self.params_form = QFormLayout()
        self.device_combo = QComboBox()
        for text, value in DEVICES:
            self.device_combo.addItem(text, value)
        self.hires_combo = QComboBox()
        for text, value in HIRES:
            self.hires_combo.addItem(text, value)
        self.hires_combo.setToolTip("Coarse-to-fine filling for large photos")
        defaults = EngineSettings()  # the one place blend defaults are set
        self.colour_check = QCheckBox("Match colours")
        self.colour_check.setChecked(defaults.colour_match)
        self.colour_check.setToolTip("Pull the fill's overall colour towards the pixels "
                                     "around the hole")
        self.feather_spin = QSpinBox()
        self.feather_spin.setRange(0, MAX_FEATHER)
        self.feather_spin.setValue(defaults.feather)
        self.feather_spin.setSuffix(" px")
        self.feather_spin.setSpecialValueText("Off (only masked pixels change)")
        self.feather_spin.setToolTip("Blend the fill over this many pixels around the hole "
                                     "(0: only the masked pixels change)")
        self.run_button = QPushButton(icon("fa5s.magic"), "Fill")
        self.run_button.setObjectName("primary")
        self.run_button.setToolTip("Fill the masked area (Ctrl+Return)")
        self.cancel_button = QPushButton(icon("fa5s.stop"), "Cancel")
        self.cancel_button.setToolTip("Stop the running fill (Esc)")
        self.cancel_button.setEnabled(False)
        for button in (self.run_button, self.cancel_button):
            button.setFocusPolicy(Qt.NoFocus)  # Space stays the canvas' pan key
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.status = QLabel("Paint a mask, then Fill.")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Engine", self.engine_combo)
        form.addRow(self.description)
        form.addRow("Device", self.device_combo)
        form.addRow("High-res", self.hires_combo)
        form.addRow("Feather", self.feather_spin)
        form.addRow(self.colour_check)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(self.params_form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self._param_widgets: list[tuple[ParamSpec, QWidget]] = []
        self._ready = self._busy = False
        self._last_ready: Optional[str] = None
        self._has_photo = True
        self._fill_engines()
        self.engine_combo.currentIndexChanged.connect(self._on_engine)
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self._on_engine()

    def _fill_engines(self) -> None:
        model: QStandardItemModel = QStandardItemModel(self.engine_combo)
        self.engine_combo.setModel(model)
        for name in registry.engine_names():
            info = registry.get_info(name)
            state = registry.readiness(name)
            self.engine_combo.addItem(info.title if state.ready else f"{info.title} (not ready)", name)
            item = model.item(self.engine_combo.count() - 1)
            item.setData(state.ready, READY_ROLE)
            item.setToolTip(info.description if state.ready else
                            "Not ready: needs weight files. Choose it to download or import them.")
        first_ready = next((i for i in range(model.rowCount()) if self._ready_at(i)), 0)
        self.engine_combo.setCurrentIndex(first_ready)

    def _ready_at(self, index: int) -> bool:
        return bool(self.engine_combo.itemData(index, READY_ROLE))

    def is_ready(self, name: str) -> bool:
        index = self.engine_combo.findData(name)
        return index >= 0 and self._ready_at(index)

    def refresh_engines(self, select: Optional[str] = None) -> bool:
        """Re-check every engine's readiness (e.g. after importing weights) and select
        ``select`` if it is ready now, else keep the current engine and its parameters.
        True if ``select`` was selected."""
        previous, values = self.engine, self.params()
        self.engine_combo.blockSignals(True)
        try:
            self._fill_engines()
            selected = bool(select) and self.set_engine(select)
            if not selected and previous is not None:
                self.set_engine(previous)
        finally:
            self.engine_combo.blockSignals(False)
        self._on_engine()
        if self.engine == previous:
            self.set_params(values)
        return selected

    # ---- state -----------------------------------------------------------------------
    @property
    def engine(self) -> str:
        return self.engine_combo.currentData()

    def set_engine(self, name: str) -> bool:
        index = self.engine_combo.findData(name)
        if index < 0 or not self._ready_at(index):
            return False
        self.engine_combo.setCurrentIndex(index)
        return True

    @property
    def device(self) -> str:
        return self.device_combo.currentData()

    @property
    def hires(self) -> str:
        return self.hires_combo.currentData()

    @property
    def colour_match(self) -> bool:
        return self.colour_check.isChecked()

    @property
    def feather(self) -> int:
        return int(self.feather_spin.value())

    def params(self) -> dict:
        return {spec.name: widget_value(spec, widget) for spec, widget in self._param_widgets}

    def set_params(self, values: dict) -> None:
        """Set known parameters (unknown names and bad values are ignored)."""
        for spec, widget in self._param_widgets:
            value = values.get(spec.name)
            if value is None:
                continue
            try:
                if spec.kind == "bool":
                    widget.setChecked(bool(value))
                elif spec.kind == "choice":
                    index = widget.findData(value)
                    if index >= 0:
                        widget.setCurrentIndex(index)
                else:
                    widget.setValue(value)
            except (TypeError, ValueError):
                continue

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.engine_combo.setEnabled(not busy)
        if busy:
            self.progress.setValue(0)
        self._refresh_buttons()

    def set_has_photo(self, has_photo: bool) -> None:
        self._has_photo = has_photo
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        self.run_button.setEnabled(self._ready and self._has_photo and not self._busy)
        self.cancel_button.setEnabled(self._busy)

    def set_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        if message:
            self.status.setText(message)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def _on_engine(self, *_: Any) -> None:
        name = self.engine
        chosen = self.engine_combo.currentIndex()
        if name is not None and not self._ready_at(chosen) and self._last_ready is not None:
            self.engine_combo.blockSignals(True)  # keep the engine that can run, ask for weights
            self.engine_combo.setCurrentIndex(self.engine_combo.findData(self._last_ready))
            self.engine_combo.blockSignals(False)
            self.setup_requested.emit(name)
            return
        while self.params_form.rowCount():
            self.params_form.removeRow(0)
        self._param_widgets.clear()
        name = self.engine
        if name is None:
            self.description.setText("No engine available.")
            self._ready = False
            self._refresh_buttons()
            return
        info = registry.get_info(name)
        state = registry.readiness(name)
        if state.ready:
            self._last_ready = name
        self.description.setText(info.description if state.ready else f"Not ready: {state.reason}")
        self._ready = state.ready
        self._refresh_buttons()
        for spec in info.params:
            widget = param_widget(spec)
            label = QLabel(spec.label)
            label.setToolTip(spec.help)
            self.params_form.addRow(label, widget)
            self._param_widgets.append((spec, widget))
        self.engine_changed.emit(name)
