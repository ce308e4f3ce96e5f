"""Checks around a fill that every front end shares (CLI and editor): is there something an
engine can work with, and did it do anything."""
from __future__ import annotations

from typing import Optional

import numpy as np

MIN_SIDE = 8  # smaller photos break patch-based engines and hold nothing to fill from


def fill_problem(width: int, height: int, hole: np.ndarray) -> Optional[str]:
    """One line saying why this photo and hole cannot be filled, or None."""
    if min(width, height) < MIN_SIDE:
        return (f"the photo is {width}x{height} pixels: too small to fill "
                f"(at least {MIN_SIDE} pixels on each side)")
    if hole.all():
        return "the mask covers the whole photo: nothing is left to fill from"
    return None


def left_unchanged(image: np.ndarray, result: np.ndarray, hole: np.ndarray) -> bool:
    """True when a fill left every hole pixel as it was although they were not all alike
    (an engine that silently did nothing). A flat hole may legitimately come back equal."""
    before = image[hole]
    if before.size == 0 or (before == before[:1]).all():
        return False
    return bool(np.array_equal(before, result[hole]))
