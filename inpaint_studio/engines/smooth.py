"""OpenCV diffusion fills (Telea fast marching, Navier-Stokes) for scratches and small spots."""
from __future__ import annotations

from typing import Any, Mapping, Optional

import cv2
import numpy as np

from inpaint_studio.core.types import CancelToken, ProgressFn, check_cancel
from inpaint_studio.engines.base import Engine, check_inputs
from inpaint_studio.engines.registry import get_info


class _OpenCVEngine(Engine):
    flag: int

    def fill(
        self,
        image: np.ndarray,
        hole: np.ndarray,
        sketch: Optional[np.ndarray] = None,
        params: Optional[Mapping[str, Any]] = None,
        *,
        avoid: Optional[np.ndarray] = None,
        progress: Optional[ProgressFn] = None,
        cancel: Optional[CancelToken] = None,
    ) -> np.ndarray:
        # sketch and avoid are accepted but unused: diffusion only reads the hole's rim.
        check_inputs(image, hole, sketch, avoid)
        p = self.merged_params(params)
        check_cancel(cancel)
        if progress:
            progress(0.0, self.info.title)
        if not hole.any():
            out = image.copy()
        else:
            mask = hole.astype(np.uint8) * 255
            out = cv2.inpaint(np.ascontiguousarray(image), mask, float(p["radius"]), self.flag)
            out[~hole] = image[~hole]
        check_cancel(cancel)
        if progress:
            progress(1.0, "done")
        return out


class TeleaEngine(_OpenCVEngine):
    info = get_info("telea")
    flag = cv2.INPAINT_TELEA


class NavierStokesEngine(_OpenCVEngine):
    info = get_info("ns")
    flag = cv2.INPAINT_NS
