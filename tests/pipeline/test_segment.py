"""Smart selection (GrabCut) on synthetic objects on texture."""
from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core.types import BBox
from inpaint_studio.pipeline.segment import halo_for, select_object


def object_on_texture(h=300, w=400, seed=1):
    """A textured backdrop with a textured, differently coloured ellipse; returns (image, truth)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    back = np.stack([90 + 40 * np.sin(x / 9.0), 120 + 30 * np.cos(y / 7.0), 80 + 0 * x], axis=2)
    back += rng.normal(0, 14, back.shape)
    truth = ((x - 210) / 80.0) ** 2 + ((y - 150) / 60.0) ** 2 <= 1.0
    obj = np.stack([200 + 0 * x, 60 + 20 * np.sin((x + y) / 5.0), 150 + 0 * x], axis=2)
    obj += rng.normal(0, 14, obj.shape)
    image = np.where(truth[..., None], obj, back)
    return np.clip(image, 0, 255).astype(np.uint8), truth


def paste(shape, box: BBox, part: np.ndarray) -> np.ndarray:
    full = np.zeros(shape, bool)
    full[box.slices] = part
    return full


def scores(mask, truth):
    return (mask & truth).sum() / truth.sum(), (mask & ~truth).sum() / truth.sum()


def test_box_selects_the_object():
    image, truth = object_on_texture()
    box, part = select_object(image, box=(120, 80, 300, 220), halo=0)
    cover, outside = scores(paste(truth.shape, box, part), truth)
    assert cover >= 0.97 and outside <= 0.03


def test_halo_grows_the_selection_by_that_many_pixels():
    image, truth = object_on_texture()
    bare_box, bare = select_object(image, box=(120, 80, 300, 220), halo=0)
    box, grown = select_object(image, box=(120, 80, 300, 220), halo=5)
    bare_full = paste(truth.shape, bare_box, bare)
    grown_full = paste(truth.shape, box, grown)
    assert (grown_full >= bare_full).all()
    ys, xs = np.nonzero(bare_full)
    assert grown_full[:, xs.max() + 5].any() and not grown_full[:, xs.max() + 7].any()


def test_scribble_alone_finds_the_object():
    image, truth = object_on_texture()
    scribble = np.zeros(truth.shape, bool)
    scribble[145:155, 170:250] = True
    box, part = select_object(image, scribble=scribble, halo=0)
    cover, outside = scores(paste(truth.shape, box, part), truth)
    assert cover >= 0.9 and outside <= 0.1


def test_big_photo_is_worked_small_and_refined_at_full_size():
    image, truth = object_on_texture()
    big = np.repeat(np.repeat(image, 4, axis=0), 4, axis=1)  # 1600 x 1200
    big_truth = np.repeat(np.repeat(truth, 4, axis=0), 4, axis=1)
    box, part = select_object(big, box=(480, 320, 1200, 880), halo=0)
    cover, outside = scores(paste(big_truth.shape, box, part), big_truth)
    assert cover >= 0.97 and outside <= 0.03
    # the edge follows the object at full resolution, not GrabCut's 4x-coarser grid
    edge_error = (paste(big_truth.shape, box, part) ^ big_truth).sum() / big_truth.sum()
    assert edge_error < 0.03


@pytest.mark.parametrize("box", [(10, 10, 12, 12), None])
def test_nothing_to_select(box):
    image, _ = object_on_texture()
    found, part = select_object(image, box=box)
    assert found.empty and part.size == 0


def test_flat_photo_and_input_untouched():
    flat = np.full((60, 80, 3), 128, np.uint8)
    copy = flat.copy()
    select_object(flat, box=(0, 0, 80, 60))  # no error, whatever it finds
    assert np.array_equal(flat, copy)


def test_halo_scales_with_the_photo():
    assert halo_for((300, 400)) == 3 and halo_for((4000, 6000, 3)) == 8
