"""Coarse-to-fine fill of one context crop, for photos far larger than the engines' sizes.

The crop is shrunk by a power of two until it fits the engine (its native size, or
``WORKING_SIZE`` for engines without one) and filled there: that gives the structure.
Then, level by level up to full size, the current fill is upsampled into the hole and
refined by a PatchMatch refiner that copies real texture from the known pixels of that
level while staying close to the upsampled fill. Levels are x2 apart; a refiner that
carries its field up refines every other one (x4 apart, ending at full size). Large holes
are refined in tiles that split the hole box, so each hole pixel is refined exactly once
per level. (``run.run_fill`` then matches the fill's colour to its surroundings, as for
every fill.)

The refiner is any object with ``refine(image, hole, init, *, params, closeness, avoid,
progress, cancel[, sketch]) -> uint8`` and a ``refine_takes_nnf`` flag (the PatchMatch
engine; ``engines.base.Engine`` declares these capabilities); this module never imports
engines. A refiner whose ``refine_takes_nnf`` is set also takes ``nnf=`` and
``return_nnf=``: it gets each level's nearest-neighbour field from the level below
(sources doubled) and starts the hole from that field's sources, so only a short nearby
search runs at the large levels. When the
refiner is the coarse engine itself and it declares ``fill_gives_nnf``, its
``fill_with_nnf`` field starts the first refined level too.
Inputs are never modified; pixels outside the hole come back bit-identical.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import cv2
import numpy as np

from inpaint_studio.core.types import BBox, CancelToken, ProgressFn, check_cancel
from inpaint_studio.pipeline.crop_fill import fill_crop, sub_progress
from inpaint_studio.pipeline.engine import FillEngine, Refiner
from inpaint_studio.pipeline.resize import resize_image, resize_mask, resize_part

WORKING_SIZE = 512  # coarse long side for engines without a native size
TILE = 1024  # refine in tiles when the hole box at a level is longer than this
TILE_MARGIN = 64  # known context around each tile's core, in pixels of its level
CLOSENESS = 0.5  # how strongly the refiner keeps to the upsampled fill (0..1)
REFINE_ITERATIONS = 1  # EM iterations of the refiner per level
COARSE_COST = 4.0  # progress weight of a coarse-fill pixel relative to a refined one
SOURCE_AREA = 4_000_000  # largest refine window grown to hold a tile's coarse sources
SOURCE_PCT = 5  # ... all but this percentile of them on each side (1: ~10 % slower, same fills)


@dataclass(frozen=True)
class Level:
    height: int
    width: int
    factor: int  # full size / level size (1 at full resolution)


@dataclass(frozen=True)
class Tile:
    core: BBox  # hole pixels refined by this tile (the cores partition the hole box)
    window: BBox  # what the refiner sees


def plan_levels(height: int, width: int, target: Optional[int] = None) -> list[Level]:
    """Pyramid from coarse to full size: x2 per level, the coarsest fits ``target``
    (default ``WORKING_SIZE``) on its long side, the last is exactly (height, width)."""
    target = int(target or WORKING_SIZE)
    n = 0
    while round(max(height, width) / 2 ** n) > target:
        n += 1
    return [Level(max(1, round(height / 2 ** j)), max(1, round(width / 2 ** j)), 2 ** j)
            for j in range(n, -1, -1)]


def _splits(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    edges = np.linspace(lo, hi, parts + 1).round().astype(int)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def plan_tiles(hole_box: BBox, height: int, width: int, tile: int = TILE,
               margin: int = TILE_MARGIN) -> list[Tile]:
    """Split ``hole_box`` into cores of at most ``tile`` px a side, each seen through a
    window grown by ``margin`` (clipped to the level)."""
    if hole_box.empty:
        return []
    rows = _splits(hole_box.y0, hole_box.y1, -(-hole_box.height // tile))
    cols = _splits(hole_box.x0, hole_box.x1, -(-hole_box.width // tile))
    return [Tile(BBox(x0, y0, x1, y1), BBox(x0, y0, x1, y1).grow(margin).clip(width, height))
            for y0, y1 in rows for x0, x1 in cols]


def takes_nnf(refiner: Refiner) -> bool:
    """Whether ``refiner.refine`` accepts a starting NNF (``nnf=``, ``return_nnf=``), as the
    refiner declares (``refine_takes_nnf``)."""
    return bool(refiner.refine_takes_nnf)


def upsample_nnf(coarse: np.ndarray, window: BBox, factor: int = 2) -> np.ndarray:
    """A coarser level's field (source y, x per pixel, -1 where none) at ``factor`` times
    the size, cut to ``window`` of this level, in the window's coordinates."""
    f = factor
    ch, cw = coarse.shape[:2]
    y0, x0 = min(window.y0 // f, ch - 1), min(window.x0 // f, cw - 1)
    y1, x1 = -(-window.y1 // f), -(-window.x1 // f)
    # each pixel's coarse pixel (past the coarse edge: its last row / column again)
    rows = np.minimum(np.arange(window.y0, window.y1) // f, ch - 1)
    cols = np.minimum(np.arange(window.x0, window.x1) // f, cw - 1)
    src: np.ndarray = coarse[y0:y1, x0:x1].take(rows - y0, 0, mode="clip").take(cols - x0, 1, mode="clip")
    none = src[..., 0] < 0
    src *= f
    src[..., 0] += (np.arange(window.y0, window.y1) % f - window.y0)[:, None]
    src[..., 1] += (np.arange(window.x0, window.x1) % f - window.x0)[None, :]
    src[none] = -1
    return src


def _source_window(nnf: np.ndarray, tile: Tile, height: int, width: int, factor: int = 2) -> BBox:
    """``tile.window`` grown to hold the sources that the coarser field (``nnf``, 1 /
    ``factor`` of the size) gives the tile's core, at most ``SOURCE_AREA`` pixels: a source
    outside the window would be moved to the window's nearest pixel, a wrong patch (a blotch)."""
    c, f = tile.core, factor
    block = nnf[c.y0 // f:-(-c.y1 // f), c.x0 // f:-(-c.x1 // f)].reshape(-1, 2)
    block = block[block[:, 0] >= 0]
    if not len(block):
        return tile.window
    # all but the outermost few sources (a stray one is moved: a few pixels, not a blotch;
    # bench_quality hires rows and bench_hires: the same fills at 1 and 5 %)
    lo = f * np.percentile(block, SOURCE_PCT, axis=0).astype(int)
    hi = f * np.percentile(block, 100 - SOURCE_PCT, axis=0).astype(int) + f
    grown = tile.window.union(BBox(int(lo[1]), int(lo[0]), int(hi[1]), int(hi[0])))
    grown = grown.grow(TILE_MARGIN // 2).clip(width, height)
    return grown if grown.width * grown.height <= SOURCE_AREA else tile.window


def refine_level(refiner: Refiner, cur: np.ndarray, hole: np.ndarray, *,
                 avoid: Optional[np.ndarray] = None, sketch: Optional[np.ndarray] = None,
                 params: Optional[Mapping[str, Any]] = None, closeness: float = CLOSENESS,
                 nnf: Optional[np.ndarray] = None, nnf_factor: int = 2, keep_nnf: bool = False,
                 progress: Optional[ProgressFn] = None,
                 cancel: Optional[CancelToken] = None) -> Optional[np.ndarray]:
    """Refine ``cur`` (level image with the upsampled fill in the hole) in place, tile by tile.

    With a refiner that ``takes_nnf``: ``nnf`` is a coarser level's field (level-sized
    at 1 / ``nnf_factor`` of this size, absolute source coordinates, -1 where none), upsampled into each
    tile's window as the refiner's start; with ``keep_nnf`` the fields the tiles end with
    are returned as one field of this level (else None).
    """
    h, w = hole.shape
    tiles = plan_tiles(BBox.of_mask(hole), h, w, TILE, TILE_MARGIN)
    use_nnf = takes_nnf(refiner)
    field = np.full((h, w, 2), -1, np.int32) if use_nnf and keep_nnf else None
    pending = hole.copy()  # hole pixels not refined yet at this level
    for i, t in enumerate(tiles):
        check_cancel(cancel)
        window = t.window if nnf is None or not use_nnf else _source_window(nnf, t, h, w, nnf_factor)
        while True:  # widen the window until it holds enough known texture
            core = np.zeros((window.height, window.width), bool)
            core[t.core.y0 - window.y0:t.core.y1 - window.y0,
                 t.core.x0 - window.x0:t.core.x1 - window.x0] = True
            target = hole[window.slices] & core
            block = pending[window.slices] & ~core  # later tiles: still blurry
            if avoid is not None:
                block |= avoid[window.slices]
            usable = np.count_nonzero(~block & ~target)
            if usable >= np.count_nonzero(target) or window == BBox(0, 0, w, h):
                break
            window = window.grow(max(window.width, window.height) // 2).clip(w, h)
        if target.any():
            crop = np.ascontiguousarray(cur[window.slices])
            sub = sub_progress(progress, i / len(tiles), (i + 1) / len(tiles),
                               f"tile {i + 1}/{len(tiles)}") if len(tiles) > 1 else progress
            extra: dict[str, Any] = {} if sketch is None else {"sketch": sketch[window.slices]}
            if use_nnf:
                extra["nnf"] = None if nnf is None else upsample_nnf(nnf, window, nnf_factor)
                extra["return_nnf"] = field is not None
            out = refiner.refine(crop, target, crop, params=params, closeness=closeness,
                                 avoid=block if block.any() else None, progress=sub,
                                 cancel=cancel, **extra)
            if field is not None:
                out, got = out
                found = got[..., 0] >= 0
                field[window.slices][found] = got[found] + (window.y0, window.x0)
            np.copyto(cur[window.slices], out, where=target[..., None])
        pending[t.core.slices] = False
    return field


def _skipped(count: int) -> set[int]:
    """Levels (of ``count``, coarse to fine) a field-carrying refiner skips: every other
    one below full size, so the refined levels are x4 apart (the field, upsampled twice,
    still starts a nearby search; bench_hires 12 MP: 0.06 dB less for a fifth less CPU)."""
    return {k for k in range(1, count - 1) if (count - 1 - k) % 2}


def fill_component(engine: FillEngine, image: np.ndarray, hole: np.ndarray,
                   sketch: Optional[np.ndarray] = None, avoid: Optional[np.ndarray] = None,
                   params: Optional[Mapping[str, Any]] = None, *, refiner: Optional[Refiner] = None,
                   closeness: Optional[float] = None, progress: Optional[ProgressFn] = None,
                   cancel: Optional[CancelToken] = None) -> np.ndarray:
    """Coarse-to-fine fill of one crop (RGB uint8, bool masks); returns a new RGB uint8
    crop equal to ``image`` outside ``hole``.

    ``refiner`` defaults to ``engine`` when it can refine (PatchMatch); with no refiner
    the levels only upsample the coarse fill. ``closeness`` defaults to ``CLOSENESS``.
    """
    check_cancel(cancel)
    if not hole.any():
        same: np.ndarray = image.copy()  # numpy's stubs give Any under Python 3.10
        return same
    if refiner is None and engine.can_refine:
        refiner = engine
    refine_params = dict(params or {}) if refiner is engine else {}
    refine_params["iterations"] = REFINE_ITERATIONS
    closeness = CLOSENESS if closeness is None else closeness
    h, w = hole.shape
    levels = plan_levels(h, w, engine.info.native_size)
    small = [resize_mask(hole, lv.height, lv.width) for lv in levels[:-1]] + [hole]
    costs = np.array([np.count_nonzero(m) for m in small], dtype=float)
    costs[0] *= COARSE_COST
    if refiner is None:
        costs[1:] *= 0.01
    # the refiner's own coarse fill hands its field to the first refined level
    coarse_field = refiner is engine and engine.info.pad_multiple == 1 and engine.fill_gives_nnf
    skip = set()
    if refiner is not None and takes_nnf(refiner):
        skip = _skipped(len(levels)) - (set() if coarse_field else {1})
    costs[list(skip)] = 0.0
    edges = np.concatenate([[0.0], np.cumsum(costs)]) / costs.sum()

    def at(level: Level, mask: Optional[np.ndarray]) -> Optional[np.ndarray]:
        return None if mask is None else resize_mask(mask, level.height, level.width)

    first = levels[0]
    img = resize_image(image, first.height, first.width)
    sub = sub_progress(progress, edges[0], edges[1], f"coarse fill {first.width}x{first.height}")
    nnf, factor = None, 2  # the field and how much smaller than the next refined level it is
    if coarse_field:
        filled, nnf = engine.fill_with_nnf(img, small[0], at(first, sketch), params,
                                           avoid=at(first, avoid), progress=sub, cancel=cancel)
    else:
        filled = fill_crop(engine, img, small[0], at(first, sketch), at(first, avoid), params,
                                progress=sub, cancel=cancel)
    cur = img
    np.copyto(cur, filled, where=small[0][..., None])

    for k in range(1, len(levels)):
        check_cancel(cancel)
        lv, lhole = levels[k], small[k]
        if k in skip and nnf is not None:  # the next level takes the field from two below
            factor *= 2
            continue
        label = f"level {k + 1}/{len(levels)} {lv.width}x{lv.height}"
        sub = sub_progress(progress, edges[k], edges[k + 1], label)
        box = BBox.of_mask(lhole)
        up = resize_part(cur, lv.height, lv.width, box, cv2.INTER_CUBIC)
        cur = image.copy() if lv.factor == 1 else resize_image(image, lv.height, lv.width)
        np.copyto(cur[box.slices], up, where=lhole[box.slices][..., None])
        del up
        if refiner is not None:  # each level starts from the previous level's NNF
            nnf = refine_level(refiner, cur, lhole, avoid=at(lv, avoid), sketch=at(lv, sketch),
                               params=refine_params, closeness=closeness, nnf=nnf, nnf_factor=factor,
                               keep_nnf=k < len(levels) - 1, progress=sub, cancel=cancel)
            factor = 2
    check_cancel(cancel)
    if progress is not None:
        progress(1.0, "done")
    return cur
