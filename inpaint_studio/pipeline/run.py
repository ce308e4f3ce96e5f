"""run_fill: fill every hole of a full-size photo with one engine, one crop per region.

Per region: crop image/hole/sketch/avoid around the hole, shrink the crop to the engine's
native size if it has one (never enlarge), pad to its ``pad_multiple``, fill, unpad,
grow back, match the fill's low-frequency colour to the hole's surroundings
(``colour.match_colour``; ``colour_match=False`` skips it), and composite inside the hole
(+ feather band) in the photo's own dtype.
The input arrays are never modified; pixels outside hole + band come back bit-identical.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, overload

import numpy as np

from inpaint_studio.core.choices import HIRES_MODES as HIRES_MODES  # re-exported: callers use run.HIRES_MODES
from inpaint_studio.core.errors import BadInput, UserError
from inpaint_studio.core.pixels import to_rgb8
from inpaint_studio.core.types import BBox, CancelToken, ProgressFn, check_cancel
from inpaint_studio.pipeline import hires as _hires
from inpaint_studio.pipeline.blend import Feather, auto_feather, composite, feather_alpha, feather_band, parse_feather
from inpaint_studio.pipeline.colour import match_colour
from inpaint_studio.pipeline.crop_fill import fill_crop, sub_progress
from inpaint_studio.pipeline.engine import FillEngine, Refiner
from inpaint_studio.pipeline.regions import find_regions

# "auto" fills coarse-to-fine only where a hole's context crop is above this many pixels.
# Below it the engine's own full-resolution fill is cleaner (the 4 MP sky in bench_quality;
# wide holes in 2400 px photos: sharpness 1.0 vs 1.5, seam 1.2 vs 2.0) at up to twice the
# time; at a 4 MP crop both take as long, and above it coarse-to-fine needs half the memory
HIRES_AUTO_PIXELS = 5_000_000


@dataclass(frozen=True, eq=False)
class FillResult:
    image: np.ndarray  # new full array, same shape/dtype as the input
    bbox: BBox  # box of all changed pixels (empty if none)


@overload
def _layer(name: str, layer: np.ndarray, shape: tuple[int, int]) -> np.ndarray: ...
@overload
def _layer(name: str, layer: None, shape: tuple[int, int]) -> None: ...
@overload
def _layer(name: str, layer: Optional[np.ndarray], shape: tuple[int, int]) -> Optional[np.ndarray]: ...


def _layer(name: str, layer: Optional[np.ndarray], shape: tuple[int, int]) -> Optional[np.ndarray]:
    if layer is None:
        return None
    layer = np.asarray(layer)
    if layer.ndim != 2 or layer.shape != shape:
        got = "x".join(str(s) for s in layer.shape[1::-1]) if layer.ndim >= 2 else str(layer.shape)
        raise UserError(f"{name} is {got} but the image is {shape[1]}x{shape[0]}")
    return layer if layer.dtype == np.bool_ else layer != 0


def check_image(image: np.ndarray) -> None:
    """UserError unless image is (H, W, 3|4) uint8 or uint16."""
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype not in (np.uint8, np.uint16):
        raise UserError(f"image must be RGB or RGBA, 8 or 16 bit; got {image.dtype} {image.shape}")


def check_hires(mode: str) -> None:
    """BadInput unless ``mode`` is one of ``HIRES_MODES``."""
    if mode not in HIRES_MODES:
        raise BadInput(f"hires must be one of {', '.join(HIRES_MODES)}, got '{mode}'")


def use_hires(mode: str, crop: BBox) -> bool:
    """Whether a hole with this context crop is filled coarse-to-fine."""
    return mode == "on" or (mode == "auto" and crop.width * crop.height > HIRES_AUTO_PIXELS)


def _feather(feather: Feather, height: int, width: int) -> int:
    pixels = parse_feather(feather)
    return auto_feather(height, width) if pixels == "auto" else int(pixels)


def _fill_one(engine: FillEngine, use_hires: bool, refiner: Optional[Refiner], colour_match: bool,
              image: np.ndarray, hole: np.ndarray, sketch: Optional[np.ndarray],
              avoid: Optional[np.ndarray], params: Optional[Mapping[str, Any]], **kwargs: Any) -> np.ndarray:
    """One region's crop, filled, its colour matched to the surroundings if asked."""
    if use_hires:
        filled = _hires.fill_component(engine, image, hole, sketch, avoid, params, refiner=refiner,
                                      **kwargs)
    else:
        filled = fill_crop(engine, image, hole, sketch, avoid, params, **kwargs)
    return match_colour(image, hole, filled, exclude=avoid) if colour_match else filled


def run_fill(image: np.ndarray, hole: np.ndarray, engine: FillEngine, *, sketch: Optional[np.ndarray] = None,
             avoid: Optional[np.ndarray] = None, params: Optional[Mapping[str, Any]] = None,
             margin: Optional[int] = None, feather: Feather = 0, hires: str = "off",
             refiner: Optional[Refiner] = None, colour_match: bool = False, progress: Optional[ProgressFn] = None,
             cancel: Optional[CancelToken] = None) -> FillResult:
    """Fill ``hole`` in ``image`` with ``engine``; see the module docstring.

    ``feather``: pixels of blend band around the hole (re-filled, then blended in), or
    "auto" (``blend.auto_feather``: scaled to the photo, 10 px at 4000 px).
    ``refiner``: an engine with ``refine()`` (PatchMatch) that coarse-to-fine mode uses to
    restore full-resolution texture level by level; None uses ``engine`` if it can refine
    (``engines.registry.refiner_for`` picks one).
    ``colour_match``: pull each fill's low-frequency colour towards the hole's surroundings.
    """
    image = np.asarray(image)
    check_image(image)
    shape = image.shape[:2]
    hole = _layer("hole mask", hole, shape)
    sketch = _layer("sketch", sketch, shape)
    avoid = _layer("avoid mask", avoid, shape)
    check_hires(hires)
    feather = _feather(feather, *shape)
    out = image.copy()
    if not hole.any():
        return FillResult(out, BBox(0, 0, 0, 0))

    target = feather_band(hole, feather)  # hole + feather band: what the engine fills
    regions = find_regions(target, engine.info.min_context, margin)
    pending = target.copy()
    weights = np.array([r.mask.sum() for r in regions], dtype=float)
    starts = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    changed = BBox(0, 0, 0, 0)
    for i, region in enumerate(regions):
        check_cancel(cancel)
        sub = sub_progress(progress, starts[i], starts[i + 1], f"hole {i + 1}/{len(regions)}")
        box = region.crop
        # context from ``out``: earlier regions' fills count as known pixels here
        filled = _fill_one(
            engine, use_hires(hires, box), refiner, colour_match, to_rgb8(out[box.slices]).copy(),
            pending[box.slices],
            None if sketch is None else sketch[box.slices],
            None if avoid is None else avoid[box.slices], params,
            progress=sub, cancel=cancel)
        # exact: a band pixel's nearest hole pixel is in the same region, so in the crop
        weight = region.mask if not feather else np.where(
            region.mask, feather_alpha(hole[box.slices], feather), 0)
        part = BBox.of_mask(region.mask)  # crop coordinates: nothing outside it changes
        x0, y0 = box.x0 + part.x0, box.y0 + part.y0
        dest = BBox(x0, y0, x0 + part.width, y0 + part.height)
        out[dest.slices] = composite(out[dest.slices], filled[part.slices], weight[part.slices])
        pending[box.slices] &= ~region.mask
        found = BBox.of_mask(np.any(out[dest.slices] != image[dest.slices], axis=2))
        if not found.empty:
            changed = changed.union(BBox(found.x0 + x0, found.y0 + y0, found.x1 + x0, found.y1 + y0))
    check_cancel(cancel)
    if progress is not None:
        progress(1.0, "done")
    return FillResult(out, changed)
