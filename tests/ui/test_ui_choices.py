"""The Fill panel offers exactly the pipeline's hires modes and every device, mps included."""
from __future__ import annotations

from inpaint_studio.engines.device import DEVICE_CHOICES
from inpaint_studio.pipeline.run import HIRES_MODES


def items(combo):
    return tuple(combo.itemData(i) for i in range(combo.count()))


def test_device_and_hires_choices(window):
    panel = window.engine_panel
    assert items(panel.device_combo) == DEVICE_CHOICES and "mps" in items(panel.device_combo)
    assert items(panel.hires_combo) == HIRES_MODES
