"""run_fill invariants: only hole pixels change, crops, native size, cancel, errors."""
from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core.errors import Cancelled, UserError
from inpaint_studio.core.types import BBox, CancelToken
from inpaint_studio.pipeline.regions import default_margin
from inpaint_studio.pipeline.run import run_fill
from pipeline_fakes import ConstEngine, MeanEngine


def photo(h, w, channels=3, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    top = 65536 if dtype == np.uint16 else 256
    return rng.integers(0, top, (h, w, channels), dtype=dtype)


def two_holes(h=120, w=160):
    hole = np.zeros((h, w), bool)
    hole[10:25, 12:30] = True
    hole[80:100, 120:150] = True
    return hole


@pytest.mark.parametrize("channels,dtype", [(3, np.uint8), (4, np.uint8), (3, np.uint16),
                                            (4, np.uint16)])
def test_only_hole_pixels_change(channels, dtype):
    image = photo(120, 160, channels, dtype)
    before = image.copy()
    hole = two_holes()
    result = run_fill(image, hole, ConstEngine(), colour_match=False)
    assert np.array_equal(image, before)  # input untouched
    out = result.image
    assert out.shape == image.shape and out.dtype == image.dtype
    assert np.array_equal(out[~hole], image[~hole])
    scale = 257 if dtype == np.uint16 else 1
    assert (out[hole][:, :3] == np.array(ConstEngine.colour) * scale).all()
    if channels == 4:
        assert np.array_equal(out[..., 3], image[..., 3])
    assert result.bbox == BBox.of_mask(np.any(out != image, axis=2)) == BBox(12, 10, 150, 100)


def test_feather_band_changes_and_nothing_beyond():
    image = np.zeros((80, 80, 3), np.uint8)
    hole = np.zeros((80, 80), bool)
    hole[30:40, 30:40] = True
    out = run_fill(image, hole, ConstEngine(), feather=4, colour_match=False).image
    changed = np.any(out != 0, axis=2)
    assert changed[hole].all()
    assert changed[35, 41] and changed[35, 43]  # inside the 4 px band
    band = np.zeros_like(hole)
    band[26:44, 26:44] = True
    assert not changed[~band].any()
    assert out[35, 41, 1] > out[35, 43, 1] > 0  # ramps down


def test_auto_feather_scales_with_the_photo():
    from inpaint_studio.pipeline.blend import auto_feather

    assert auto_feather(150, 120) == 0 and auto_feather(3000, 4000) == 10
    image = np.zeros((400, 1200, 3), np.uint8)  # auto: 3 px
    hole = np.zeros((400, 1200), bool)
    hole[180:220, 580:620] = True
    out = run_fill(image, hole, ConstEngine(), feather="auto", colour_match=False).image
    changed = np.any(out != 0, axis=2)
    assert changed[hole].all() and changed[200, 621] and changed[200, 622]
    assert not changed[200, 624:].any() and not changed[:176].any()
    with pytest.raises(UserError, match="feather"):
        run_fill(image, hole, ConstEngine(), feather="wide")


def test_each_component_gets_its_own_crop_and_local_fill():
    image = np.zeros((200, 300, 3), np.uint8)
    image[:, 150:] = (200, 100, 50)  # right half another colour
    hole = np.zeros((200, 300), bool)
    hole[50:60, 40:60] = True
    hole[120:140, 220:240] = True
    engine = MeanEngine()
    out = run_fill(image, hole, engine).image
    assert len(engine.calls) == 2
    assert (out[50:60, 40:60] == 0).all()
    assert (out[120:140, 220:240] == (200, 100, 50)).all()
    # crops no larger than the hole box plus the default margin
    expected = []
    for box in (BBox(40, 50, 60, 60), BBox(220, 120, 240, 140)):
        m = default_margin(box, engine.info.min_context)
        expected.append((box.height + 2 * m, box.width + 2 * m))
    assert [c[0].shape[:2] for c in engine.calls] == expected
    assert [int(c[1].sum()) for c in engine.calls] == [200, 400]


def test_neighbouring_unfilled_hole_is_not_context():
    image = photo(160, 160)
    hole = np.zeros((160, 160), bool)
    hole[10:20, 10:20] = True
    hole[65:75, 65:75] = True  # inside the first crop, crops overlap < 30 %: not merged
    engine = MeanEngine()
    run_fill(image, hole, engine, margin=30)
    assert len(engine.calls) == 2
    assert engine.calls[0][1].sum() == 100 + 25  # the other hole is hole, not known
    assert engine.calls[1][1].sum() == 100  # the first one is filled by then


def test_sketch_and_avoid_are_cropped_with_the_image():
    image = photo(100, 100)
    hole = np.zeros((100, 100), bool)
    hole[40:50, 40:50] = True
    sketch = np.zeros_like(hole)
    sketch[45, :] = True
    avoid = np.zeros_like(hole)
    avoid[0:30, :] = True
    engine = MeanEngine()
    run_fill(image, hole, engine, sketch=sketch, avoid=avoid, margin=20)
    (img, h, s, a), = engine.calls
    assert img.shape == (50, 50, 3)
    assert np.array_equal(s, sketch[20:70, 20:70]) and np.array_equal(a, avoid[20:70, 20:70])


def test_native_size_path_shrinks_pads_and_composites_in_hole_only():
    image = photo(400, 500)
    hole = np.zeros((400, 500), bool)
    hole[150:250, 200:330] = True
    hole[160, 190] = True  # a speck next to it joins the same crop
    engine = ConstEngine(native_size=64, pad_multiple=8)
    result = run_fill(image, hole, engine, colour_match=False)
    (img, small_hole, _, _), = engine.calls
    assert max(img.shape[:2]) <= 64
    assert img.shape[0] % 8 == 0 and img.shape[1] % 8 == 0
    out = result.image
    assert np.array_equal(out[~hole], image[~hole])
    # every hole pixel, even the lone speck, gets pure fill: nothing known leaked in
    assert (out[hole] == ConstEngine.colour).all()


class ShiftedTruthEngine(ConstEngine):
    """Returns the true photo with its colours shifted: a fill with the right detail but the
    wrong overall colour (what an under-trained network or a dark source patch gives).
    Use a margin that makes the crop the whole photo."""

    def __init__(self, truth, shift):
        super().__init__()
        self.truth, self.shift = truth, np.array(shift)

    def fill(self, image, hole, sketch=None, params=None, **kwargs):
        assert image.shape == self.truth.shape
        return np.clip(self.truth.astype(int) + self.shift, 0, 255).astype(np.uint8)


def smooth_photo(h=160, w=200):
    y, x = np.mgrid[0:h, 0:w]
    r = 90 + 60 * np.sin(x / 37.0) + 0.3 * y
    g = 120 + 40 * np.cos(y / 29.0)
    b = 60 + 0.4 * x
    rng = np.random.default_rng(3)
    texture = rng.normal(0, 6, (h, w, 1))
    return np.clip(np.stack([r, g, b], -1) + texture, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("hires", ["off", "on"])
def test_colour_match_pulls_a_shifted_fill_to_its_surroundings(hires):
    truth = smooth_photo()
    hole = np.zeros(truth.shape[:2], bool)
    hole[50:110, 60:140] = True
    engine = ShiftedTruthEngine(truth, (-40, 25, 30))
    margin = 300  # one crop: the whole photo, so the fake can return the truth
    raw = run_fill(truth, hole, engine, margin=margin, hires=hires, colour_match=False).image
    matched = run_fill(truth, hole, engine, margin=margin, hires=hires, colour_match=True).image
    assert np.array_equal(matched[~hole], truth[~hole])
    err_raw = np.abs(raw[hole].astype(int) - truth[hole]).mean(axis=0)
    err = np.abs(matched[hole].astype(int) - truth[hole]).mean(axis=0)
    assert (err_raw > 20).all() and (err < 4).all()  # shifts of 25-40 fall below 4
    # the fill keeps its own detail: the correction is smooth
    def detail(a):
        return np.abs(np.diff(a[50:110, 60:140, 0].astype(int), 2, axis=1)).mean()

    assert abs(detail(matched) - detail(truth)) < 0.05 * detail(truth)


def test_colour_match_is_limited_so_wrong_content_is_tinted_not_smeared():
    from inpaint_studio.pipeline.colour import LIMIT

    truth = smooth_photo()
    hole = np.zeros(truth.shape[:2], bool)
    hole[50:110, 60:140] = True
    shift = np.array([-110, 0, 100])
    raw = run_fill(truth, hole, ShiftedTruthEngine(truth, shift), margin=300,
                   colour_match=False).image
    out = run_fill(truth, hole, ShiftedTruthEngine(truth, shift), margin=300, colour_match=True).image
    moved = (out[hole].astype(int) - raw[hole]).mean(axis=0)
    assert moved[0] == pytest.approx(LIMIT, abs=2) and moved[2] == pytest.approx(-LIMIT, abs=2)
    assert abs(moved[1]) < 2
    assert (np.abs(out[hole].astype(int) - raw[hole]) <= LIMIT + 1).all()


def test_colour_match_leaves_a_fill_that_already_fits_nearly_alone():
    truth = smooth_photo()
    hole = np.zeros(truth.shape[:2], bool)
    hole[40:90, 30:100] = True
    engine = ShiftedTruthEngine(truth, (0, 0, 0))
    out = run_fill(truth, hole, engine, margin=300, colour_match=True).image
    assert np.abs(out[hole].astype(int) - truth[hole]).mean() < 1.5


def test_native_size_never_upscales():
    image = photo(60, 60)
    hole = np.zeros((60, 60), bool)
    hole[25:30, 25:30] = True
    engine = MeanEngine(native_size=256, pad_multiple=8)
    run_fill(image, hole, engine, margin=10)
    (img, h, _, _), = engine.calls
    assert img.shape[:2] == (32, 32)  # 25 px crop padded up to a multiple of 8
    assert h[:25, :25].sum() == 25


def test_cancel_mid_run_leaves_input_untouched():
    image = photo(200, 200)
    before = image.copy()
    hole = np.zeros((200, 200), bool)
    for y in (10, 90, 170):
        hole[y:y + 10, y:y + 10] = True
    token = CancelToken()
    engine = MeanEngine(cancel_after=(2, token))
    with pytest.raises(Cancelled):
        run_fill(image, hole, engine, cancel=token)
    assert len(engine.calls) == 2  # stopped before the third hole
    assert np.array_equal(image, before)


def test_cancel_before_start():
    token = CancelToken()
    token.cancel()
    engine = MeanEngine()
    with pytest.raises(Cancelled):
        run_fill(photo(50, 50), np.eye(50, dtype=bool), engine, cancel=token)
    assert engine.calls == []


def test_progress_is_split_and_monotonic():
    seen = []
    run_fill(photo(120, 160), two_holes(), MeanEngine(), progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("hole 2/2" in m for _, m in seen)


def test_size_mismatch_names_both_sizes():
    with pytest.raises(UserError, match="hole mask is 40x30 but the image is 50x20"):
        run_fill(photo(20, 50), np.zeros((30, 40), bool), MeanEngine())
    with pytest.raises(UserError, match="sketch is"):
        run_fill(photo(20, 50), np.zeros((20, 50), bool), MeanEngine(),
                 sketch=np.zeros((5, 5), bool))


def test_bad_image_and_hires_values():
    with pytest.raises(UserError):
        run_fill(np.zeros((5, 5), np.uint8), np.zeros((5, 5), bool), MeanEngine())
    with pytest.raises(UserError, match="hires"):
        run_fill(photo(5, 5), np.zeros((5, 5), bool), MeanEngine(), hires="maybe")


def test_empty_mask_returns_a_copy():
    image = photo(30, 30)
    engine = MeanEngine()
    result = run_fill(image, np.zeros((30, 30), bool), engine)
    assert result.image is not image and np.array_equal(result.image, image)
    assert result.bbox.empty and engine.calls == []


def test_hires_modes_delegate_to_coarse_to_fine(monkeypatch):
    from inpaint_studio.pipeline import hires, run

    used = []

    def spy(engine, *args, refiner=None, **kwargs):
        used.append(args[0].shape)
        return run.fill_crop(engine, *args, **kwargs)

    monkeypatch.setattr(hires, "fill_component", spy)
    monkeypatch.setattr(run, "HIRES_AUTO_PIXELS", 100 * 100)
    image = photo(400, 400)
    small, large = np.zeros((400, 400), bool), np.zeros((400, 400), bool)
    small[180:190, 180:190] = True  # context crop 74 x 74: under the threshold
    large[150:250, 150:250] = True  # crop of the whole photo: over it
    for mode, hole, expect in [("off", large, 0), ("auto", small, 0), ("auto", large, 1),
                               ("on", small, 1)]:
        used.clear()
        out = run_fill(image, hole, ConstEngine(), hires=mode).image
        assert len(used) == expect, mode
        assert np.array_equal(out[~hole], image[~hole])
    # auto decides per hole, by the hole's context crop, not by the photo's size
    used.clear()
    run_fill(image, small | np.roll(large, 120, axis=1), ConstEngine(), hires="auto")
    assert len(used) == 1
