"""Coarse-to-fine (hires) fill: plans, pixel guarantees, sharpness, cancel, colour match."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_studio.core.errors import Cancelled
from inpaint_studio.core.types import BBox, CancelToken
from inpaint_studio.engines.base import Engine, EngineInfo, check_inputs
from inpaint_studio.pipeline import hires
from inpaint_studio.pipeline.colour import match_colour, membrane
from inpaint_studio.pipeline.resize import resize_image
from pipeline_fakes import MeanEngine


class TruthEngine(Engine):
    """Coarse engine that knows the answer: fills the hole with the true picture at
    whatever size it is asked for (so a test sees only what the pyramid adds)."""

    def __init__(self, truth, native_size=None):
        super().__init__("cpu")
        self.info = EngineInfo(name="truth", title="Truth", description="test", target="x:y",
                               native_size=native_size, min_context=8)
        self.truth = truth
        self.sizes = []

    def fill(self, image, hole, sketch=None, params=None, *, avoid=None, progress=None,
             cancel=None):
        check_inputs(image, hole, sketch, avoid)
        self.sizes.append(hole.shape)
        out = image.copy()
        small = resize_image(self.truth, *hole.shape)
        out[hole] = small[hole]
        return out


class BlockRefiner:
    """Tiny stand-in for PatchMatch refine: each 8x8 block of the hole takes the known
    block that best matches the upsampled fill (cv2.matchTemplate, squared difference)."""

    refine_takes_nnf = False

    def __init__(self, block=8):
        self.block = block
        self.calls = []

    def refine(self, image, hole, init, *, params=None, closeness=0.5, avoid=None,
               progress=None, cancel=None):
        self.calls.append(hole.shape)
        b = self.block
        bad = hole if avoid is None else hole | avoid
        # valid top-left corners: the whole block lies on usable pixels
        bad_count = cv2.boxFilter(bad.astype(np.float32), -1, (b, b), anchor=(0, 0),
                                  normalize=False, borderType=cv2.BORDER_CONSTANT)
        out = init.copy()
        box = BBox.of_mask(hole)
        for y in range(box.y0, box.y1, b):
            for x in range(box.x0, box.x1, b):
                y1, x1 = min(y + b, hole.shape[0]), min(x + b, hole.shape[1])
                cell = hole[y:y1, x:x1]
                if not cell.any():
                    continue
                tmpl = init[y:y1, x:x1]
                cost = cv2.matchTemplate(image, tmpl, cv2.TM_SQDIFF)
                cost[bad_count[:cost.shape[0], :cost.shape[1]] > 0] = np.inf
                sy, sx = np.unravel_index(np.argmin(cost), cost.shape)
                src = image[sy:sy + y1 - y, sx:sx + x1 - x]
                out[y:y1, x:x1][cell] = src[cell]
        return out


def periodic_texture(h, w):
    """Period-16 pattern: smooth waves (visible when shrunk x4) + a 2 px checker (not)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    waves = 60 * np.sin(2 * np.pi * x / 16) * np.cos(2 * np.pi * y / 16)
    checker = 35 * ((((x // 2) + (y // 2)) % 2) * 2 - 1)
    base = 128 + waves + checker
    rgb = np.stack([base, 0.8 * base + 20, 255 - base], axis=2)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def ellipse_hole(h, w, cy, cx, ry, rx):
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (cx, cy), (rx, ry), 0, 0, 360, 1, -1)
    return mask.astype(bool)


def laplacian_energy(img, mask):
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[mask].mean())


def psnr(a, b, mask):
    err = np.mean((a[mask].astype(np.float64) - b[mask].astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / max(err, 1e-9))


# --- plans ---------------------------------------------------------------------------

@pytest.mark.parametrize("h, w, target", [(1000, 700, 128), (300, 200, 512), (513, 40, 64),
                                          (4000, 6000, 512)])
def test_plan_levels_doubles_up_to_full_size(h, w, target):
    levels = hires.plan_levels(h, w, target)
    assert (levels[-1].height, levels[-1].width, levels[-1].factor) == (h, w, 1)
    assert max(levels[0].height, levels[0].width) <= target
    if len(levels) > 1:  # not shrunk further than needed
        assert max(levels[1].height, levels[1].width) > target
    for a, b in zip(levels, levels[1:]):
        assert a.factor == 2 * b.factor
        assert abs(a.height - h / a.factor) <= 0.5 and abs(a.width - w / a.factor) <= 0.5


@pytest.mark.parametrize("box", [BBox(10, 5, 50, 30), BBox(3, 7, 301, 95), BBox(0, 0, 200, 200),
                                 BBox(40, 60, 41, 250)])
def test_tiles_cover_every_hole_box_pixel_exactly_once(box):
    h, w = 260, 320
    tiles = hires.plan_tiles(box, h, w, tile=64, margin=16)
    count = np.zeros((h, w), int)
    for t in tiles:
        count[t.core.slices] += 1
        inter = t.window.intersect(t.core)
        assert inter == t.core  # the window holds its core
        assert t.window == t.window.clip(w, h)
        assert max(t.core.width, t.core.height) <= 64
    inside = np.zeros((h, w), bool)
    inside[box.slices] = True
    assert (count[inside] == 1).all() and (count[~inside] == 0).all()


def test_small_hole_box_is_one_tile_with_a_clipped_margin():
    tiles = hires.plan_tiles(BBox(10, 20, 40, 50), 100, 120, tile=64, margin=16)
    assert tiles == [hires.Tile(BBox(10, 20, 40, 50), BBox(0, 4, 56, 66))]


class CountingRefiner:
    """Adds 1 to each hole pixel it is given: a pixel refined twice would show 2."""

    refine_takes_nnf = False

    def __init__(self):
        self.avoids = []
        self.sketches = []

    def refine(self, image, hole, init, *, params=None, closeness=0.5, avoid=None,
               sketch=None, progress=None, cancel=None):
        self.avoids.append(avoid)
        self.sketches.append(sketch)
        out = init.copy()
        out[hole] += 1
        return out


def test_refine_level_touches_each_hole_pixel_once(monkeypatch):
    monkeypatch.setattr(hires, "TILE", 24)
    monkeypatch.setattr(hires, "TILE_MARGIN", 6)
    hole = ellipse_hole(120, 150, 60, 70, 45, 60)
    cur = np.zeros((120, 150, 3), np.uint8)
    refiner = CountingRefiner()
    hires.refine_level(refiner, cur, hole)
    assert len(refiner.avoids) > 4  # really tiled
    assert (cur[hole] == 1).all() and (cur[~hole] == 0).all()


class NNFRefiner:
    """Takes and returns a starting NNF: records the field it is given and answers with
    the identity field (each hole pixel's source is itself) in window coordinates."""

    refine_takes_nnf = True

    def __init__(self):
        self.given = []  # (hole, nnf or None, return_nnf)

    def refine(self, image, hole, init, *, params=None, closeness=0.5, avoid=None,
               progress=None, cancel=None, nnf=None, return_nnf=False):
        self.given.append((hole.copy(), nnf, return_nnf))
        field = np.full(hole.shape + (2,), -1, np.int32)
        ys, xs = np.nonzero(hole)
        field[ys, xs] = np.stack([ys, xs], 1)
        return (init.copy(), field) if return_nnf else init.copy()


def test_upsample_nnf_doubles_sources_into_the_window():
    coarse = np.full((10, 12, 2), -1, np.int32)
    coarse[3, 4] = (7, 1)
    window = BBox(5, 4, 20, 18)  # x0, y0, x1, y1 at twice the size
    up = hires.upsample_nnf(coarse, window)
    assert up.shape == (14, 15, 2)
    # fine pixels (6..7, 8..9) have coarse parent (3, 4): source 2 * (7, 1) + parity
    for y in (6, 7):
        for x in (8, 9):
            assert tuple(up[y - 4, x - 5]) == (14 + y % 2 - 4, 2 + x % 2 - 5)
    assert (up[..., 0] >= -1).all() and np.count_nonzero(up[..., 0] != -1) == 4


def test_hires_passes_each_levels_nnf_up_the_pyramid():
    truth = periodic_texture(256, 256)
    hole = ellipse_hole(256, 256, 128, 128, 44, 32)
    refiner = NNFRefiner()
    hires.fill_component(TruthEngine(truth, native_size=64), truth, hole, refiner=refiner)
    (h1, nnf1, ret1), (h2, nnf2, ret2) = refiner.given  # 128 and 256
    assert nnf1 is None and ret1 and not ret2  # level 2 starts cold, the last keeps nothing
    # the identity field at 128 px, doubled, is the identity field at 256 px
    got = nnf2[h2]
    assert np.count_nonzero(got[:, 0] >= 0) > 0.9 * got.shape[0]
    ys, xs = np.nonzero(h2)
    known = got[:, 0] >= 0
    assert np.array_equal(got[known], np.stack([ys, xs], 1)[known])


class FieldEngine(TruthEngine):
    """A coarse engine that, like PatchMatch, can hand back its NNF (the identity)."""

    can_refine = refine_takes_nnf = fill_gives_nnf = True

    def fill_with_nnf(self, image, hole, sketch=None, params=None, *, avoid=None,
                      progress=None, cancel=None):
        out = self.fill(image, hole, sketch, params, avoid=avoid)
        ys, xs = np.mgrid[0:hole.shape[0], 0:hole.shape[1]]
        field = np.where(hole[..., None], np.stack([ys, xs], -1), -1).astype(np.int32)
        return out, field

    def refine(self, image, hole, init, *, params=None, closeness=0.5, avoid=None,
               progress=None, cancel=None, nnf=None, return_nnf=False):
        return self.refiner.refine(image, hole, init, nnf=nnf, return_nnf=return_nnf)


def test_the_coarse_fills_nnf_starts_the_first_refined_level():
    truth = periodic_texture(256, 256)
    hole = ellipse_hole(256, 256, 128, 128, 44, 32)
    engine = FieldEngine(truth, native_size=64)
    engine.refiner = NNFRefiner()
    hires.fill_component(engine, truth, hole)
    # one refined level: 256 px, from the 64 px fill's field, x4 (the 128 px level only
    # carries the field up)
    ((h1, nnf1, keep),) = engine.refiner.given
    assert h1.shape[0] > 128 and not keep
    got = nnf1[h1]
    known = got[:, 0] >= 0
    assert known.mean() > 0.9
    ys, xs = np.nonzero(h1)
    assert np.array_equal(got[known], np.stack([ys, xs], 1)[known])


def test_upsample_nnf_by_four_is_upsampling_twice():
    rng = np.random.default_rng(3)
    coarse = rng.integers(0, 40, (20, 24, 2)).astype(np.int32)
    coarse[rng.random((20, 24)) < 0.2] = -1
    mid = hires.upsample_nnf(coarse, BBox(0, 0, 48, 40))
    for window in (BBox(0, 0, 96, 80), BBox(9, 5, 61, 77), BBox(30, 41, 31, 42)):
        assert np.array_equal(hires.upsample_nnf(coarse, window, 4), hires.upsample_nnf(mid, window))


def test_a_field_carrying_refiner_refines_levels_x4_apart():
    truth = periodic_texture(512, 512)
    hole = ellipse_hole(512, 512, 256, 256, 60, 40)
    engine = FieldEngine(truth, native_size=32)  # levels 32, 64, 128, 256, 512
    engine.refiner = NNFRefiner()
    hires.fill_component(engine, truth, hole)  # the coarse fill hands its field up
    first, last = (h.shape[0] for h, _, _ in engine.refiner.given)  # windows at 128 and 512 px
    assert first <= 128 < 256 < last
    plain = CountingRefiner()  # takes no field: every level is refined
    hires.fill_component(FieldEngine(truth, native_size=32), truth, hole, refiner=plain)
    assert len(plain.avoids) == 4
    assert hires._skipped(5) == {1, 3} and hires._skipped(3) == {1} and hires._skipped(2) == set()


def test_refine_level_passes_avoid_and_sketch_windows():
    hole = ellipse_hole(400, 400, 200, 200, 30, 20)
    avoid = np.zeros_like(hole)
    avoid[200:210, 10:390] = True  # crosses the hole and sticks out of the window
    sketch = np.zeros_like(hole)
    sketch[:, 200] = True
    refiner = CountingRefiner()
    hires.refine_level(refiner, np.zeros((400, 400, 3), np.uint8), hole, avoid=avoid,
                       sketch=sketch)
    window = BBox.of_mask(hole).grow(hires.TILE_MARGIN).clip(400, 400)
    (got_avoid,), (got_sketch,) = refiner.avoids, refiner.sketches
    assert got_avoid.shape == got_sketch.shape == (window.height, window.width) != (400, 400)
    assert np.array_equal(got_avoid, avoid[window.slices])
    assert np.array_equal(got_sketch, sketch[window.slices])


# --- full component fill -------------------------------------------------------------

def test_pixels_outside_hole_are_identical_and_inputs_untouched():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (200, 260, 3), dtype=np.uint8)
    hole = ellipse_hole(200, 260, 100, 120, 40, 25)
    avoid = np.zeros_like(hole)
    avoid[:20] = True
    before, hole_before = image.copy(), hole.copy()
    engine = TruthEngine(np.full_like(image, 90), native_size=64)
    out = hires.fill_component(engine, image, hole, None, avoid, refiner=BlockRefiner())
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert np.array_equal(out[~hole], image[~hole])
    assert np.array_equal(image, before) and np.array_equal(hole, hole_before)
    assert engine.sizes[0][0] <= 64 and engine.sizes[0][1] <= 64  # coarse fill at 1/4 or less


def test_hole_at_the_corner_with_a_padded_native_size_engine():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (150, 230, 3), dtype=np.uint8)
    hole = np.zeros((150, 230), bool)
    hole[:40, 190:] = True  # touches two borders
    engine = MeanEngine(native_size=64, pad_multiple=8)
    out = hires.fill_component(engine, image, hole, refiner=BlockRefiner())
    (seen, seen_hole, _, _), = engine.calls
    assert seen.shape[0] % 8 == 0 and seen.shape[1] % 8 == 0 and max(seen.shape[:2]) <= 64
    assert out.shape == image.shape and np.array_equal(out[~hole], image[~hole])


def test_periodic_texture_comes_back_sharp_at_4x_the_coarse_size():
    truth = periodic_texture(256, 256)
    hole = ellipse_hole(256, 256, 128, 128, 44, 32)
    image = truth.copy()
    image[hole] = (255, 0, 0)  # the object to remove
    engine = TruthEngine(truth, native_size=64)
    refiner = BlockRefiner()
    out = hires.fill_component(engine, image, hole, refiner=refiner)
    assert engine.sizes == [(64, 64)] and len(refiner.calls) == 2  # 64 -> 128 -> 256

    # downscale - fill - upscale with the same perfect coarse fill
    coarse = resize_image(truth, 64, 64)
    blurry = image.copy()
    blurry[hole] = cv2.resize(coarse, (256, 256), interpolation=cv2.INTER_CUBIC)[hole]

    sharp_ratio = laplacian_energy(out, hole) / laplacian_energy(truth, hole)
    assert sharp_ratio >= 0.8
    assert laplacian_energy(blurry, hole) / laplacian_energy(truth, hole) < 0.5
    assert psnr(out, truth, hole) > psnr(blurry, truth, hole) + 6


def test_without_refiner_levels_only_upsample():
    truth = periodic_texture(128, 128)
    hole = ellipse_hole(128, 128, 64, 64, 20, 20)
    out = hires.fill_component(TruthEngine(truth, native_size=32), truth, hole)
    assert np.array_equal(out[~hole], truth[~hole])
    assert laplacian_energy(out, hole) < 0.5 * laplacian_energy(truth, hole)


def test_cancel_between_levels_raises_and_leaves_inputs_unchanged():
    truth = periodic_texture(128, 160)
    hole = ellipse_hole(128, 160, 64, 80, 30, 20)
    image = truth.copy()
    image[hole] = 0
    before, hole_before = image.copy(), hole.copy()
    token = CancelToken()
    seen = []

    def progress(fraction, message):
        seen.append(message)
        if message.startswith("level 2"):
            token.cancel()

    refiner = BlockRefiner()
    with pytest.raises(Cancelled):
        hires.fill_component(TruthEngine(truth, native_size=40), image, hole, refiner=refiner,
                             progress=progress, cancel=token)
    assert refiner.calls == []  # stopped before refining level 2
    assert any(m.startswith("coarse fill") for m in seen)
    assert np.array_equal(image, before) and np.array_equal(hole, hole_before)


def test_progress_is_monotone_and_ends_at_one():
    truth = periodic_texture(128, 128)
    hole = ellipse_hole(128, 128, 64, 64, 30, 20)
    fractions = []
    hires.fill_component(TruthEngine(truth, native_size=32), truth, hole,
                         refiner=BlockRefiner(), progress=lambda f, m: fractions.append(f))
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


# --- colour --------------------------------------------------------------------------

def test_membrane_reproduces_a_linear_ramp():
    y, x = np.mgrid[0:80, 0:100].astype(np.float32)
    ramp = (0.5 * x + 0.25 * y)[..., None]
    fixed = np.zeros((80, 100), bool)
    fixed[[0, -1], :] = True
    fixed[:, [0, -1]] = True
    field = membrane(np.where(fixed[..., None], ramp, 0), fixed)
    assert np.abs(field - ramp).max() < 1.0


def test_colour_drift_correction_removes_a_constant_offset():
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:160, 0:200].astype(np.float32)
    smooth = np.stack([80 + 0.3 * x, 100 + 0.2 * y, 120 + 0.1 * (x + y)], axis=2)
    truth = np.clip(smooth + rng.normal(0, 8, smooth.shape), 0, 255).astype(np.uint8)
    hole = ellipse_hole(160, 200, 80, 100, 40, 50)
    drifted = truth.copy()
    drifted[hole] = np.clip(truth[hole].astype(int) + (25, -20, 15), 0, 255)
    out = match_colour(truth, hole, drifted)
    err_before = np.abs(drifted[hole].astype(float) - truth[hole]).mean(axis=0)
    err_after = np.abs(out[hole].astype(float) - truth[hole]).mean(axis=0)
    assert err_before.min() > 14 and err_after.max() < 3
    assert np.array_equal(out[~hole], truth[~hole])
    # a fill that is already right stays right
    same = match_colour(truth, hole, truth)
    assert np.abs(same[hole].astype(float) - truth[hole]).mean() < 1.5


def test_colour_correction_on_a_large_crop_with_the_hole_at_its_edge():
    rng = np.random.default_rng(4)
    h, w = 700, 1100  # worked on in 5 x 5 blocks around the hole only
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    smooth = np.stack([60 + 0.1 * x, 90 + 0.15 * y, 140 - 0.05 * x], axis=2)
    truth = np.clip(smooth + rng.normal(0, 6, smooth.shape), 0, 255).astype(np.uint8)
    hole = np.zeros((h, w), bool)
    hole[300:420, 1030:] = True  # touches the right edge
    drifted = truth.copy()
    drifted[hole] = np.clip(truth[hole].astype(int) + (-22, 18, 20), 0, 255)
    out = match_colour(truth, hole, drifted)
    err_after = np.abs(out[hole].astype(float) - truth[hole]).mean(axis=0)
    assert err_after.max() < 4, err_after
    assert np.array_equal(out[~hole], truth[~hole])


# --- with the real PatchMatch engine ----------------------------------------------------

def test_real_patchmatch_refiner_restores_texture_at_full_size():
    from inpaint_studio.engines import registry

    pm = registry.create("patchmatch", "cpu")
    truth = periodic_texture(160, 160)
    hole = ellipse_hole(160, 160, 80, 80, 28, 20)
    image = truth.copy()
    image[hole] = (255, 0, 0)
    engine = TruthEngine(truth, native_size=40)  # coarse fill at 1/4 size
    out = hires.fill_component(engine, image, hole, refiner=pm)
    assert engine.sizes == [(40, 40)]
    assert np.array_equal(out[~hole], image[~hole])
    blurry = hires.fill_component(engine, image, hole)  # same levels, no refiner
    assert laplacian_energy(out, hole) >= 0.8 * laplacian_energy(truth, hole)
    assert psnr(out, truth, hole) > psnr(blurry, truth, hole) + 6

    # PatchMatch as both the coarse engine and the refiner (what run_fill does)
    whole = hires.fill_component(pm, image, hole, params={"seed": 1})
    assert np.array_equal(whole[~hole], image[~hole])
    assert not (whole[hole] == (255, 0, 0)).all(axis=1).any()


def test_run_fill_passes_the_refiner_to_hires_levels():
    from inpaint_studio.pipeline.run import run_fill

    truth = periodic_texture(256, 256)
    hole = ellipse_hole(256, 256, 128, 128, 40, 30)
    image = truth.copy()
    image[hole] = (255, 0, 0)
    refiner = CountingRefiner()
    engine = TruthEngine(truth, native_size=64)  # a learned-like engine: no refine()
    result = run_fill(image, hole, engine, hires="on", refiner=refiner)
    assert refiner.avoids  # every level above the coarse one was refined
    assert np.array_equal(result.image[~hole], image[~hole])
    plain = TruthEngine(truth, native_size=64)
    run_fill(image, hole, plain, hires="on")  # no refiner: levels only upsample
    assert len(plain.sizes) == 1


def test_refiner_for_uses_patchmatch_unless_the_engine_refines_itself():
    from inpaint_studio.engines import registry

    telea = registry.create("telea", "cpu")
    refiner = registry.refiner_for(telea, "cpu")
    assert refiner.info.name == "patchmatch" and refiner.can_refine and not telea.can_refine
    assert registry.refiner_for(refiner, "cpu") is refiner


def test_capabilities_are_declared_not_probed():
    # an engine with refine/fill_with_nnf methods that does not declare them is not used so
    truth = periodic_texture(256, 256)
    hole = ellipse_hole(256, 256, 128, 128, 44, 32)
    engine = FieldEngine(truth, native_size=64)
    engine.refiner = NNFRefiner()
    engine.can_refine = False
    hires.fill_component(engine, truth, hole)
    assert engine.refiner.given == []  # levels only upsampled: its refine() was never called
    engine.can_refine = True
    engine.fill_gives_nnf = False
    hires.fill_component(engine, truth, hole)
    (h1, nnf1, _), _ = engine.refiner.given
    assert nnf1 is None  # refined, but the coarse fill's field was not asked for


def test_refine_window_holds_the_sources_of_the_coarser_field():
    # A source outside the refiner's window would be moved to the window's edge: a wrong
    # patch pasted into the fill (the blotches seen in hires fills of skies).
    from inpaint_studio.pipeline.hires import refine_level

    seen = []

    class Refiner:
        refine_takes_nnf = True

        def refine(self, image, hole, init, *, params=None, closeness=0.5, avoid=None,
                   progress=None, cancel=None, sketch=None, nnf=None, return_nnf=False):
            seen.append((image.shape, nnf))
            return image.copy()

    cur = np.zeros((200, 400, 3), np.uint8)
    hole = np.zeros((200, 400), bool)
    hole[80:120, 40:80] = True
    coarse = np.full((100, 200, 2), -1, np.int32)
    coarse[40:60, 20:40] = (50, 180)  # every hole pixel's source: far right, near (100, 360)
    refine_level(Refiner(), cur, hole, nnf=coarse)
    (shape, nnf), = seen
    inside = nnf[..., 0] >= 0
    assert inside.any()
    assert (nnf[inside] < (shape[0], shape[1])).all()  # in the window's coordinates, inside it
    assert shape[1] > 300
