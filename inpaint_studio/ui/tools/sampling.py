"""Sampling-area brush and eraser: paint the "avoid" layer (see commands.sampling)."""
from __future__ import annotations

from inpaint_studio.commands.sampling import AvoidStroke
from inpaint_studio.ui.tools.brush import BrushSettings, BrushTool
from inpaint_studio.ui.tools.target import EditTarget


class SamplingBrush(BrushTool):
    """Paints (``value`` True) or erases the sampling area; shares the mask brush's size."""

    def __init__(self, target: EditTarget, settings: BrushSettings, name: str, value: bool) -> None:
        super().__init__(target, settings, name, value)
        self.stroke_class = AvoidStroke
