"""fill_crop: one engine call on one context crop at the crop's size, and sub_progress.

Used by ``run.run_fill`` (each crop filled directly) and by ``hires`` (the coarse level),
so neither imports the other for it.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

from inpaint_studio.core.types import CancelToken, ProgressFn
from inpaint_studio.pipeline.engine import FillEngine
from inpaint_studio.pipeline.padding import pad_inputs, unpad
from inpaint_studio.pipeline.resize import native_scale, resize_image, resize_mask, scaled_size


def fill_crop(engine: FillEngine, image: np.ndarray, hole: np.ndarray, sketch: Optional[np.ndarray] = None,
              avoid: Optional[np.ndarray] = None, params: Optional[Mapping[str, Any]] = None, *,
              progress: Optional[ProgressFn] = None,
              cancel: Optional[CancelToken] = None) -> np.ndarray:
    """One engine call on one crop (RGB uint8, bool masks) at the crop's size.

    Shrinks to ``engine.info.native_size`` if set (never enlarges), pads to
    ``engine.info.pad_multiple``, fills, unpads and grows back. Returns RGB uint8 of the
    crop's size; only hole pixels are meant to be used.
    """
    h, w = hole.shape
    scale = native_scale(h, w, engine.info.native_size)
    sh, sw = scaled_size(h, w, scale) if scale < 1 else (h, w)
    if (sh, sw) != (h, w):
        image = resize_image(image, sh, sw)
        hole = resize_mask(hole, sh, sw)
        sketch = None if sketch is None else resize_mask(sketch, sh, sw)
        avoid = None if avoid is None else resize_mask(avoid, sh, sw)
    p_image, p_hole, p_sketch, p_avoid = pad_inputs(image, hole, sketch, avoid,
                                                    engine.info.pad_multiple)
    out = engine.fill(np.ascontiguousarray(p_image), p_hole, p_sketch, params,
                      avoid=p_avoid, progress=progress, cancel=cancel)
    if out.shape != p_image.shape or out.dtype != np.uint8:
        raise RuntimeError(f"engine '{engine.info.name}' returned {out.dtype} {out.shape}, "
                           f"expected uint8 {p_image.shape}")
    out = unpad(out, sh, sw)
    return resize_image(out, h, w) if (sh, sw) != (h, w) else np.ascontiguousarray(out)


def sub_progress(progress: Optional[ProgressFn], lo: float, hi: float,
                 label: str) -> Optional[ProgressFn]:
    """``progress`` for one part of a job: fractions mapped to lo..hi, messages prefixed."""
    if progress is None:
        return None
    progress(lo, label)

    def sub(f: float, msg: str = "") -> None:
        progress(lo + (hi - lo) * min(max(f, 0.0), 1.0), f"{label}: {msg}" if msg else label)
    return sub
