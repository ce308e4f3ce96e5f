"""Sampling-area brush and eraser: paint the "avoid" layer (see commands.sampling)."""
from __future__ import annotations

from inpaint_studio.commands.sampling import AvoidStroke
from inpaint_studio.ui.tools.brush import BrushSettings, BrushTool


class SamplingBrush(BrushTool):
    """Paints (``value`` True) or erases the sampling area; shares the mask brush's size."""

    def __init__(self, editor, settings: BrushSettings, name: str, value: bool) -> None:
        super().__init__(editor, settings, name, value)
        self.stroke_class = AvoidStroke
