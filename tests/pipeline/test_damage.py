"""Scratch and dust detection on synthetic old photos with known damage."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from damage_photos import old_photo
from inpaint_studio.pipeline import damage


def near(a: np.ndarray, b: np.ndarray, px: int = 2) -> np.ndarray:
    """Pixels of ``a`` within ``px`` pixels of ``b``."""
    grown = cv2.dilate(b.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0
    return a & grown


def test_finds_scratches_and_dust_and_little_else():
    photo, truth = old_photo()
    found = damage.detect_damage(photo)
    recall = near(truth, found).sum() / truth.sum()
    precision = near(found, truth).sum() / found.sum()
    assert recall >= 0.8, recall
    assert precision >= 0.8, precision


def test_clean_photo_is_barely_flagged():
    photo, _ = old_photo(damaged=False)
    assert damage.detect_damage(photo).mean() < 0.005


def test_family_of_thin_lines_is_real_detail():
    """Bricks, ruled paper, planks: many parallel thin lines are not scratches."""
    photo, _ = old_photo(damaged=False)
    for x in range(0, photo.shape[1], 24):
        photo[:, x:x + 2] = 240
    found = damage.detect_damage(photo)
    assert found.mean() < 0.02  # 20 lines would be 0.09; the last one, at the edge, is less crowded
    assert not found[:, :400].any()


def test_higher_sensitivity_only_adds():
    analysis = damage.analyse(old_photo(seed=3)[0])
    low, mid, high = (damage.propose(analysis, s) for s in (0.2, 0.5, 0.9))
    assert low.sum() <= mid.sum() <= high.sum()
    assert not (low & ~mid).any() and not (mid & ~high).any()


def test_progress_reports_and_can_stop_analyse():
    photo = old_photo(seed=3)[0]
    seen = []
    analysis = damage.analyse(photo, progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 10
    assert np.array_equal(damage.propose(analysis), damage.detect_damage(photo))

    class Stop(Exception):
        pass

    def stop_halfway(fraction):
        if fraction >= 0.5:
            raise Stop

    with pytest.raises(Stop):
        damage.analyse(photo, progress=stop_halfway)


def test_bands_wider_than_max_width_are_left():
    photo, _ = old_photo(damaged=False)
    cv2.line(photo, (0, 150), (479, 170), (250, 250, 250), 14)
    found = damage.detect_damage(photo, max_width=6)
    assert found[140:180].mean() < 0.02
    assert damage.detect_damage(photo, max_width=16)[140:180].mean() > 10 * found[140:180].mean() + 0.1


@pytest.mark.parametrize("convert", [
    lambda p: p[..., 0],  # grey
    lambda p: p.astype(np.uint16) * 257,  # 16-bit
    lambda p: np.dstack([p, np.full(p.shape[:2], 255, np.uint8)]),  # RGBA
])
def test_pixel_formats_give_the_same_mask(convert):
    photo, truth = old_photo(seed=1)
    rgb = damage.detect_damage(photo[..., [0, 0, 0]])
    assert (damage.detect_damage(convert(photo[..., [0, 0, 0]])) == rgb).mean() > 0.999


def test_bad_parameters_are_refused():
    photo, _ = old_photo()
    with pytest.raises(ValueError, match="sensitivity"):
        damage.detect_damage(photo, sensitivity=1.5)
    with pytest.raises(ValueError, match="max width"):
        damage.detect_damage(photo, max_width=0)


def test_is_thin():
    mask = np.zeros((100, 100), bool)
    assert not damage.is_thin(mask)
    cv2.line(mask.view(np.uint8), (0, 10), (99, 60), 1, 3)
    assert damage.is_thin(mask)
    mask[40:80, 40:80] = True
    assert not damage.is_thin(mask)
