"""Tiny engines for pipeline tests: they record what they got and fill cheaply."""
from __future__ import annotations

import numpy as np

from inpaint_studio.core.types import check_cancel
from inpaint_studio.engines.base import Engine, EngineInfo, check_inputs


def make_info(native_size=None, pad_multiple=1, min_context=8) -> EngineInfo:
    return EngineInfo(name="fake", title="Fake", description="test engine", target="x:y",
                      native_size=native_size, pad_multiple=pad_multiple,
                      min_context=min_context)


class MeanEngine(Engine):
    """Fills the hole with the mean colour of the known crop pixels; records each call."""

    def __init__(self, native_size=None, pad_multiple=1, min_context=8, cancel_after=None):
        super().__init__("cpu")
        self.info = make_info(native_size, pad_multiple, min_context)
        self.calls = []  # (image copy, hole copy, sketch, avoid)
        self.cancel_after = cancel_after  # a CancelToken fired after this many calls

    def fill(self, image, hole, sketch=None, params=None, *, avoid=None, progress=None,
             cancel=None):
        check_inputs(image, hole, sketch, avoid)
        self.calls.append((image.copy(), hole.copy(), sketch, avoid))
        if self.cancel_after is not None and len(self.calls) >= self.cancel_after[0]:
            self.cancel_after[1].cancel()
        check_cancel(cancel)
        out = image.copy()
        known = ~hole
        colour = image[known].mean(axis=0) if known.any() else np.full(3, 128.0)
        out[hole] = np.rint(colour).astype(np.uint8)
        if progress:
            progress(1.0, "done")
        return out


class ConstEngine(MeanEngine):
    """Fills the hole with one fixed colour (easy to check after resizing)."""

    colour = (10, 200, 40)

    def fill(self, image, hole, sketch=None, params=None, *, avoid=None, progress=None,
             cancel=None):
        check_inputs(image, hole, sketch, avoid)
        self.calls.append((image.copy(), hole.copy(), sketch, avoid))
        out = image.copy()
        out[hole] = self.colour
        return out
