import cv2
import numpy as np
import pytest

from inpaint_studio.core.errors import Cancelled, UserError
from inpaint_studio.core.types import CancelToken
from inpaint_studio.engines import registry


def _psnr(a, b):
    mse = ((a.astype(float) - b.astype(float)) ** 2).mean()
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-9))


def _texture(img, hole):
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.abs(cv2.Laplacian(grey, cv2.CV_32F))[hole].mean()


def _tiles(seed=0):
    tile = np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    return np.tile(tile, (12, 12, 1))


def _stripes():
    y, x = np.mgrid[0:96, 0:96]
    v = (127 + 100 * np.sin(x * 2 * np.pi / 9 + y * 0.3)).astype(np.uint8)
    return np.stack([v, v // 2, 255 - v], axis=-1)


def _box_hole(y0=38, x0=40, size=20, shape=(96, 96)):
    hole = np.zeros(shape, bool)
    hole[y0:y0 + size, x0:x0 + size] = True
    return hole


@pytest.fixture(scope="module")
def engine():
    return registry.create("patchmatch", "cpu")


def test_contract(engine):
    img = _stripes()
    hole = _box_hole()
    before, hole_before = img.copy(), hole.copy()
    seen = []
    out = engine.fill(img, hole, progress=lambda f, m: seen.append(f))
    assert out.shape == img.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(img, before)
    np.testing.assert_array_equal(hole, hole_before)
    np.testing.assert_array_equal(out[~hole], img[~hole])
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    with pytest.raises(UserError):
        engine.fill(img, hole[:50])
    with pytest.raises(UserError):
        engine.fill(img, hole, params={"radius": 3})
    np.testing.assert_array_equal(engine.fill(img, np.zeros_like(hole)), img)


def test_periodic_texture_reconstructed(engine):
    telea = registry.create("telea")
    for img in (_tiles(), _stripes()):
        hole = _box_hole()
        ours = _psnr(engine.fill(img, hole)[hole], img[hole])
        theirs = _psnr(telea.fill(img, hole)[hole], img[hole])
        assert ours > theirs + 10, (ours, theirs)  # measured: tiles exact, stripes ~+17 dB


def test_fill_keeps_texture_sharp(engine):
    img = _tiles(3)
    hole = _box_hole(30, 30, 24)
    out = engine.fill(img, hole, params={"seed": 5})
    ratio = _texture(out, hole) / _texture(img, hole)
    assert 0.8 < ratio < 1.25, ratio


def test_flat_region_filled_flat(engine):
    img = _tiles(1)
    img[20:80, 16:84] = (90, 140, 200)
    hole = _box_hole(38, 38, 20)
    out = engine.fill(img, hole)
    assert out[hole].std(axis=0).max() < 0.5
    np.testing.assert_array_equal(np.median(out[hole], axis=0), [90, 140, 200])


def test_same_seed_same_fill(engine):
    img = _tiles(2)
    img[::3] //= 2  # break the exact period so the search has real choices
    hole = _box_hole(30, 30, 26)
    a = engine.fill(img, hole, params={"seed": 7})
    b = engine.fill(img, hole, params={"seed": 7})
    np.testing.assert_array_equal(a, b)


def _is_red(px):
    return (px[:, 0] > 150) & (px[:, 1] < 100) & (px[:, 2] < 100)


def test_avoid_is_never_sampled(engine):
    rng = np.random.default_rng(4)
    img = np.zeros((96, 96, 3), np.uint8)
    img[..., 1] = rng.integers(60, 200, (96, 96))
    img[..., 2] = rng.integers(60, 200, (96, 96))
    img[10:46, 10:46] = (230, 20, 20)  # the only red in the photo
    hole = _box_hole(30, 30, 24)  # overlaps the red square's corner
    avoid = np.zeros_like(hole)
    avoid[:48, :48] = True
    free = engine.fill(img, hole)
    assert _is_red(free[hole]).sum() > 20  # without avoid, red is copied in
    out = engine.fill(img, hole, avoid=avoid & ~hole)
    assert _is_red(out[hole]).sum() == 0


def test_sketch_steers_structure(engine):
    img = np.full((96, 96, 3), 235, np.uint8)
    img[29:32, :] = 30  # horizontal dark line
    img[:, 69:72] = 30  # vertical dark line
    hole = _box_hole(50, 18, 26)
    sketch = np.zeros_like(hole)
    sketch[62, 12:50] = True  # a new horizontal line through the hole
    plain = engine.fill(img, hole)
    guided = engine.fill(img, hole, sketch=sketch)
    under = sketch & hole
    assert plain[under].mean() > 200  # nothing suggests a line there without the sketch
    assert guided[under].mean() < 110
    away = hole.copy()
    away[56:69] = False
    assert guided[away].mean() > 200  # the rest of the hole stays background


def test_cancel_raises(engine):
    img = _stripes()
    hole = _box_hole()
    token = CancelToken()

    def progress(fraction, message):
        token.cancel()

    with pytest.raises(Cancelled):
        engine.fill(img, hole, progress=progress, cancel=token)


def test_refine_stays_near_smooth_init(engine):
    y, x = np.mgrid[0:96, 0:96].astype(np.float32)
    img = np.stack([x * 2, y * 2, 128 + 0 * x], -1).astype(np.uint8)
    img = cv2.add(img, np.random.default_rng(0).integers(0, 6, img.shape, dtype=np.uint8))
    hole = _box_hole()
    init = registry.create("telea").fill(img, hole)
    before = img.copy()
    out = engine.refine(img, hole, init, closeness=0.5)
    np.testing.assert_array_equal(img, before)
    np.testing.assert_array_equal(out[~hole], img[~hole])
    diff = np.abs(out[hole].astype(int) - init[hole].astype(int))
    assert diff.mean() < 6, diff.mean()


def test_refine_draws_texture_from_known_pixels(engine):
    img = _tiles(5)
    hole = _box_hole()
    coarse = cv2.resize(cv2.resize(img, (24, 24), interpolation=cv2.INTER_AREA), (96, 96))
    init = np.where(hole[..., None], coarse, img)
    for closeness in (0.0, 0.5):
        out = engine.refine(img, hole, init, closeness=closeness)
        np.testing.assert_array_equal(out[~hole], img[~hole])
        assert _psnr(out[hole], img[hole]) > _psnr(init[hole], img[hole]) + 10
        assert 0.8 < _texture(out, hole) / _texture(img, hole) < 1.25


def test_refine_keeps_to_the_given_nnf(engine):
    # three identical copies of a noise strip: the hole's texture exists twice in full
    strip = np.random.default_rng(3).integers(0, 256, (96, 48, 3), dtype=np.uint8)
    truth = np.concatenate([strip] * 3, axis=1)
    hole = _box_hole(38, 12, 20, shape=(96, 144))
    img = truth.copy()
    img[hole] = 0
    nnf = np.stack(np.mgrid[0:96, 0:144], -1).astype(np.int32)
    nnf[..., 1] += 96  # start every patch on the third copy
    out, field = engine.refine(img, hole, truth, nnf=nnf, return_nnf=True)
    np.testing.assert_array_equal(out[~hole], img[~hole])
    np.testing.assert_array_equal(out[hole], truth[hole])
    np.testing.assert_array_equal(field[hole], nnf[hole])  # exact matches are kept
    assert (field[0, 0] == -1).all() and field.shape == (96, 144, 2)  # nothing far away
    _, cold = engine.refine(img, hole, truth, return_nnf=True)  # random start: other copy too
    assert not np.array_equal(cold[hole], nnf[hole])
    with pytest.raises(UserError, match="nnf"):
        engine.refine(img, hole, truth, nnf=nnf[:10])


def test_fill_can_return_its_field(engine):
    img = _tiles(5)
    hole = _box_hole()
    plain = engine.fill(img, hole)
    out, field = engine.fill_with_nnf(img, hole)
    np.testing.assert_array_equal(out, plain)  # same fill either way
    assert field.shape == hole.shape + (2,)
    src = field[hole]
    assert (src >= 0).all()  # every hole pixel has a source ...
    assert not hole[src[:, 0], src[:, 1]].any()  # ... among the known pixels
    # the field copies the fill: each hole pixel's source has the colour it was given
    # (up to the smooth seam correction)
    near = (np.abs(img[src[:, 0], src[:, 1]].astype(int) - out[hole]) <= 12).all(axis=1)
    assert near.mean() > 0.5


def test_hole_at_border_and_param_range(engine):
    img = _tiles(6)
    hole = np.zeros((96, 96), bool)
    hole[:18, 70:] = True  # touches the top and right edges
    telea = _psnr(registry.create("telea").fill(img, hole)[hole], img[hole])
    for params in ({"patch_size": 7}, {"patch_size": 15, "iterations": 2}):
        out = engine.fill(img, hole, params=params)
        np.testing.assert_array_equal(out[~hole], img[~hole])
        assert _psnr(out[hole], img[hole]) > telea + 10
    out = engine.fill(img, hole, params={"patch_size": 3})
    np.testing.assert_array_equal(out[~hole], img[~hole])


def test_no_known_source_is_a_user_error(engine):
    img = _stripes()
    with pytest.raises(UserError, match="not enough known pixels"):
        engine.fill(img, np.ones((96, 96), bool))


def _gradient(h=128, w=160):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    v = 40 + 150 * x / w + 30 * y / h
    return np.clip(np.stack([v, 0.8 * v, 255 - v], axis=-1), 0, 255).astype(np.uint8)


def test_thin_scratch_in_a_smooth_gradient_comes_back_smooth(engine):
    # A thin hole is filled at full resolution (no pyramid from its length) and the
    # copied fill is joined to its border in the gradient domain: no blotches or steps.
    img = _gradient()
    hole = np.zeros(img.shape[:2], np.uint8)
    cv2.polylines(hole, [np.array([[10, 20], [60, 90], [150, 70]], np.int32)], False, 1, 3)
    hole = hole > 0
    out = engine.fill(img, hole)
    err = np.abs(out[hole].astype(int) - img[hole])
    assert err.max() <= 6, err.max()


def test_wide_hole_in_a_periodic_texture_keeps_its_period(engine):
    y, x = np.mgrid[0:160, 0:160]
    v = (127 + 100 * np.sin(2 * np.pi * (x / 9 + y / 12))).astype(np.uint8)  # period 9 px along x
    img = np.stack([v, v // 2, 255 - v], axis=-1)
    hole = np.zeros(img.shape[:2], bool)
    hole[40:120, 40:120] = True  # half the photo's side
    out = engine.fill(img, hole)
    assert _psnr(out[hole], img[hole]) > 30
    row = out[80, 40:120, 0].astype(float) - out[80, 40:120, 0].mean()
    spectrum = np.abs(np.fft.rfft(row))
    assert abs(len(row) / (1 + spectrum[1:].argmax()) - 9) < 1.5  # the strongest period


def test_seam_correction_joins_an_offset_copy_to_its_border(engine):
    # The only sources (top rows) are far darker than the hole's surroundings: the copied
    # texture is shifted in colour so that it meets the border without a step.
    rng = np.random.default_rng(0)
    y = np.mgrid[0:96, 0:96][0]
    img = np.clip(60 + 1.5 * y[..., None] + rng.integers(-6, 7, (96, 96, 3)), 0, 255).astype(np.uint8)
    hole = _box_hole(40, 30, 20)
    band = cv2.dilate(hole.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    avoid = (y >= 20) & ~band  # sources only above row 20; the hole's border stays known
    out = engine.fill(img, hole, avoid=avoid).astype(int)
    inner = hole & ~(cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    outer = band & ~hole & (cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    assert abs(out[inner].mean() - out[outer].mean()) < 6
    assert abs(out[hole].mean() - img[hole].mean()) < 10  # and so the fill's level too


def test_a_wide_sketch_stroke_continues_as_a_thin_line(engine):
    # The pen draws lines 4 px or wider; the fill continues the photo's 3 px line, not a bar.
    img = np.full((96, 96, 3), 235, np.uint8)
    img[29:32, :] = 30
    hole = _box_hole(50, 18, 26)
    sketch = np.zeros_like(hole)
    sketch[60:66, 12:50] = True  # a 6 px stroke
    out = engine.fill(img, hole, sketch=sketch)
    dark = (out[..., 0] < 130) & hole
    rows = np.flatnonzero(dark[:, 24:38].any(axis=1))
    assert 58 <= rows.min() and rows.max() <= 67 and len(rows) <= 4, rows
    assert dark[:, 24:38].sum() >= 14 * 2  # a line all the way across the middle


def test_a_wide_hole_across_a_horizon_continues_it(engine):
    # Sky (smooth, light) over sea (textured, dark); the hole covers a third of the width
    # across the horizon. The fill keeps the horizon's row: sky above it, sea below it.
    rng = np.random.default_rng(1)
    h, w = 160, 240
    y = np.mgrid[0:h, 0:w][0]
    sky = 200 + 20 * y / h
    sea = 70 + 25 * np.sin(np.arange(w) / 3.0)[None, :] * np.cos(y / 2.0)
    grey = np.where(y < 80, sky, sea) + rng.normal(0, 3, (h, w))
    img = np.clip(np.stack([grey, grey, grey + 20], axis=-1), 0, 255).astype(np.uint8)
    hole = np.zeros((h, w), bool)
    hole[40:120, 80:160] = True
    out = engine.fill(img, hole).astype(float)
    above, below = out[44:76, 84:156].mean(), out[84:116, 84:156].mean()
    assert above > 180 and below < 110, (above, below)
    rows = out[40:120, 84:156, 0].mean(axis=1)
    edge = 40 + int(np.argmax(np.abs(np.diff(rows))))  # the fill's own horizon
    assert abs(edge - 79) <= 2, edge


def test_fast_gathers_equal_tensor_indexing():
    import torch

    from inpaint_studio.engines.patchmatch import _put, _take

    gen = torch.Generator().manual_seed(0)
    rows = torch.rand(1000, 12, generator=gen)
    flat = torch.randint(0, 1000, (1000,), generator=gen)
    idx = torch.randint(0, 1000, (4, 300), generator=gen)
    # row tables moved as 16-, 8- and 4-byte words, a 1-D table, a column view
    tables = (rows, rows[:, :4].clone(), rows[:, :2].clone(), rows[:, :3].clone(), flat,
              torch.stack([flat, -flat], 1), rows[:, :3])
    for table in tables:
        got = _take(table, idx)
        assert got.shape == table[idx].shape and torch.equal(got, table[idx])
    pix = rows.clone()
    at = torch.tensor([5, 17, 999])
    _put(pix[:, :3], at, torch.zeros(3, 3))  # writes through the view, other columns kept
    assert torch.equal(pix[at, :3], torch.zeros(3, 3)) and torch.equal(pix[at, 3:], rows[at, 3:])
    assert torch.equal(pix[6], rows[6])
    _put(flat, at, torch.tensor([-1, -2, -3]))
    assert flat[at].tolist() == [-1, -2, -3]


def test_nearest_other_patch_equals_a_brute_force_search():
    from inpaint_studio.engines.patchmatch import _nearest_other

    rng = np.random.default_rng(1)
    wp, p = 40, 5
    ys, xs = np.meshgrid(np.arange(p, 30), np.arange(p, wp - p), indexing="ij")
    grid = (ys * wp + xs).ravel()
    ok = np.sort(rng.choice(grid, 500, replace=False))  # flat canvas indices of sources
    da = rng.integers(0, 2, (len(ok), 6)).astype(np.float32)  # many exact repeats
    pick = rng.integers(0, len(ok), 60)
    samp, ds = ok[pick], da[pick]
    got = _nearest_other(ds, da, samp, ok, wp, p)
    oy, ox = ok // wp, ok % wp
    for s, d_s, g in zip(samp, ds, got):
        dist = ((da - d_s) ** 2).sum(1).astype(np.float64)
        dy, dx = np.abs(oy - s // wp), np.abs(ox - s % wp)
        key = dist * 1e6 + dy + dx  # most similar; of equals, the nearest
        key[(dy < p) & (dx < p)] = np.inf  # an overlapping patch is not another one
        assert g == ok[np.argmin(key)]


def test_a_large_hole_runs_one_finest_iteration_and_stays_sharp(engine, monkeypatch):
    from inpaint_studio.engines import patchmatch

    img = _tiles(3)
    img[::3] //= 2
    hole = _box_hole(30, 30, 36)
    seen = {}
    for limit in (10 ** 9, 100):  # the shipped limit (not reached here), then a large hole
        monkeypatch.setattr(patchmatch, "LARGE_HOLE", limit)
        labels = []
        out = engine.fill(img, hole, params={"seed": 5}, progress=lambda f, label: labels.append(label))
        finest = [s for s in labels if s.startswith(labels[-1].split(",")[0] + ",")]
        seen[limit] = len(finest)
        assert 0.8 < _texture(out, hole) / _texture(img, hole) < 1.25  # copied, not blurred
        assert _psnr(out[hole], img[hole]) > 25
        np.testing.assert_array_equal(out[~hole], img[~hole])
    assert seen == {10 ** 9: 2, 100: 1}


def test_refine_from_a_field_starts_from_its_sources_not_the_blurred_init(engine):
    # A blurred init with the exact field (one period away): the refiner must keep the
    # field's real texture; matched against the blurred start it drifted (20-36 dB).
    for seed in range(3):
        img = _tiles(seed)
        img[::3] //= 2  # period 24 down, 8 across
        hole = _box_hole(30, 20, 24)
        init = img.copy()
        init[hole] = cv2.GaussianBlur(img, (0, 0), 2.0)[hole]
        ys, xs = np.mgrid[0:96, 0:96]
        nnf = np.stack([ys, xs + 48], -1).astype(np.int32)  # six periods to the right
        nnf[~hole] = -1
        out = engine.refine(img, hole, init, nnf=nnf)
        np.testing.assert_array_equal(out, img)


def _level(img, hole):
    import torch

    from inpaint_studio.engines import patchmatch

    lvl = patchmatch._Level(torch.from_numpy(img).float() / 255, hole, np.zeros_like(hole), None, 7,
                            torch.Generator().manual_seed(0))
    lvl.make_basis(0.0)
    lvl.update_desc(full=True)
    return lvl


def test_dominant_offsets_are_the_periods_of_regular_structure():
    y, x = np.mgrid[0:96, 0:120]
    v = np.where((x + 2 * y) % 11 < 3, 50, 210).astype(np.uint8)  # slanted bars, period 11 across
    img = np.stack([v, v, v // 2], -1)
    offsets = _level(img, _box_hole(40, 50, 16, (96, 120))).dominant_offsets(4).tolist()
    assert offsets and len(offsets) % 2 == 0
    for dy, dx in offsets:
        assert (dx + 2 * dy) % 11 == 0, (dy, dx)  # a period
        assert [-dy, -dx] in offsets
    tiles = _level(_tiles(0), _box_hole()).dominant_offsets(4).tolist()  # repeats every 8 px
    assert sorted(tiles) == [[-8, 0], [0, -8], [0, 8], [8, 0]]
    noise = np.random.default_rng(1).integers(0, 256, (96, 120, 3), dtype=np.uint8)
    assert _level(noise, _box_hole(40, 50, 16, (96, 120))).dominant_offsets(4).numel() == 0


def test_without_dominant_offsets_the_fill_is_as_before(engine, monkeypatch):
    from inpaint_studio.engines import patchmatch

    img = np.random.default_rng(2).integers(0, 256, (96, 96, 3), dtype=np.uint8)  # no period
    hole = _box_hole(30, 30, 30)
    with_search = engine.fill(img, hole, params={"seed": 3})
    monkeypatch.setattr(patchmatch, "DOMINANT", 0)
    np.testing.assert_array_equal(engine.fill(img, hole, params={"seed": 3}), with_search)


def test_a_small_fill_runs_on_one_thread_and_restores_the_count(engine, monkeypatch):
    import torch

    from inpaint_studio.engines import patchmatch

    img = _tiles(4)
    hole = np.zeros(img.shape[:2], bool)
    hole[40:56, 40:56] = True
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = []
        engine.fill(img, hole, progress=lambda f, msg: seen.append(torch.get_num_threads()))
        assert seen and set(seen) == {1} and torch.get_num_threads() == 2
        seen.clear()
        monkeypatch.setattr(patchmatch, "SMALL_CANVAS", 100)  # now "large": keeps both threads
        engine.refine(img, hole, img, progress=lambda f, msg: seen.append(torch.get_num_threads()))
        assert seen and set(seen) == {2} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
