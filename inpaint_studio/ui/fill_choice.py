"""Which engine fills a thin mask (scratches, dust, heal dabs) when the user chose none.

Telea leaves no ghost lines on pixel-tight masks where texture synthesis blurs (issue 16),
so until the user picks an engine in the Fill panel, thin masks are filled with Telea,
without a feather band or coarse-to-fine pass (only the hole's pixels change).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from inpaint_studio.core.types import BBox
from inpaint_studio.engines import registry
from inpaint_studio.pipeline.damage import is_thin

THIN_ENGINE = "telea"


def thin_engine(current: str, user_chose: bool, hole: np.ndarray) -> Optional[str]:
    """THIN_ENGINE for a thin ``hole`` unless the user chose an engine this session (or the
    current engine is it already); else None (fill with the panel's settings)."""
    if user_chose or current == THIN_ENGINE or THIN_ENGINE not in registry.engine_names():
        return None
    box = BBox.of_mask(hole)
    if box.empty:
        return None
    crop = np.pad(np.asarray(hole, bool)[box.slices], 1)  # is_thin over the used part only
    return THIN_ENGINE if is_thin(crop) else None
