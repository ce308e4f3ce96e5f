import numpy as np
import pytest

from inpaint_studio.training.dataset import PhotoCrops, split_photos
from inpaint_studio.training.holes import MAX_RATIO, MIN_RATIO, random_hole, scratches, sketch_from_edges


@pytest.mark.parametrize("seed", range(40))
def test_random_hole_ratio_in_range(seed):
    hole = random_hole(128, np.random.default_rng(seed))
    assert hole.dtype == bool and hole.shape == (128, 128)
    assert MIN_RATIO <= hole.mean() <= MAX_RATIO


@pytest.mark.parametrize("seed", range(20))
def test_random_hole_keeps_to_a_narrower_range(seed):
    hole = random_hole(128, np.random.default_rng(seed), 0.10, 0.20)
    assert 0.10 <= hole.mean() <= 0.20


def test_random_hole_keeps_to_a_narrow_high_range():
    # the top-up rectangle must not push a hole past the range's top
    ratios = [random_hole(256, np.random.default_rng(s), 0.30, 0.35).mean() for s in range(200)]
    assert min(ratios) >= 0.30 and max(ratios) <= 0.35


def test_crops_use_their_hole_range():
    photo = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    crops = PhotoCrops([photo], size=64, holes=(0.30, 0.40))
    rng = np.random.default_rng(5)
    ratios = [crops.sample(rng)[1].mean() for _ in range(20)]
    assert min(ratios) >= 0.30 and max(ratios) <= 0.40


def test_random_hole_is_reproducible_and_varied():
    a = random_hole(96, np.random.default_rng(7))
    b = random_hole(96, np.random.default_rng(7))
    c = random_hole(96, np.random.default_rng(8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_scratches_are_thin():
    mask = scratches(256, np.random.default_rng(1))
    assert 0 < mask.mean() < 0.08


def test_sketch_lies_on_true_edges_inside_hole():
    image = np.zeros((64, 64, 3), np.uint8)
    image[:, 32:] = 255  # one vertical edge at x=32
    hole = np.zeros((64, 64), bool)
    hole[16:48, 16:48] = True
    rng = np.random.default_rng(0)
    sketches = [sketch_from_edges(image, hole, rng, drop=0.0) for _ in range(5)]
    for sketch in sketches:
        assert not (sketch & ~hole).any()
        cols = np.flatnonzero(sketch.any(axis=0))
        assert cols.size and cols.min() >= 29 and cols.max() <= 34
    empty = sketch_from_edges(image, hole, rng, drop=1.0)
    assert not empty.any()


def test_crops_have_size_and_come_from_photo():
    photo = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    crops = PhotoCrops([photo], size=64)
    image, hole, sketch = crops.sample(np.random.default_rng(3), with_sketch=True)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert hole.shape == (64, 64) and sketch.shape == (64, 64)
    flat = PhotoCrops([np.full((100, 120, 3), 100, np.uint8)], size=32)
    values = flat.crop(np.random.default_rng(1))
    assert values.reshape(-1, 3).std(axis=0).max() == 0  # flat stays flat
    assert 70 <= values.mean() <= 130  # jitter is small


def test_split_holds_out_a_tenth_deterministically(tmp_path):
    paths = [tmp_path / f"p{i:02d}.jpg" for i in range(30)]
    train, val = split_photos(list(reversed(paths)))
    assert len(val) == 3 and len(train) == 27
    assert not set(train) & set(val)
    assert split_photos(paths) == (train, val)
