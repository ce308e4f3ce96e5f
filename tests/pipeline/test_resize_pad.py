"""Mask-safe resampling, padding to a multiple, exact unpadding."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint_studio.pipeline.padding import pad_inputs, padded_size, unpad
from inpaint_studio.pipeline.resize import native_scale, resize_image, resize_mask, scaled_size


@pytest.mark.parametrize("size", [(37, 53), (100, 61), (8, 8)])
def test_shrunk_mask_covers_every_hole_pixel(size):
    rng = np.random.default_rng(1)
    mask = rng.random((301, 457)) > 0.995  # isolated single pixels are the hard case
    small = resize_mask(mask, *size)
    assert small.shape == size and small.dtype == np.bool_
    ys, xs = np.nonzero(mask)
    sy = (ys * size[0]) // mask.shape[0]
    sx = (xs * size[1]) // mask.shape[1]
    assert small[sy, sx].all()  # the small pixel over each hole pixel is hole
    back = resize_mask(small, *mask.shape)
    assert back[mask].all()  # and growing it back covers the original hole


def test_shrunk_mask_does_not_swallow_everything():
    mask = np.zeros((400, 400), bool)
    mask[100:140, 100:140] = True
    small = resize_mask(mask, 100, 100)
    assert 100 <= small.sum() <= 12 * 12


def test_native_scale_only_shrinks():
    assert native_scale(100, 200, 256) == 1.0
    assert native_scale(100, 200, None) == 1.0
    assert native_scale(300, 1024, 512) == 0.5
    h, w = scaled_size(301, 1030, native_scale(301, 1030, 512))
    assert max(h, w) <= 512


def test_resize_image_keeps_dtype_and_channels():
    img = np.random.default_rng(2).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    small = resize_image(img, 25, 35)
    assert small.shape == (25, 35, 3) and small.dtype == np.uint8
    assert resize_image(small, 50, 70).shape == img.shape


def test_pad_to_multiple_and_unpad_exactly():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (13, 21, 3), dtype=np.uint8)
    hole = np.zeros((13, 21), bool)
    hole[10:13, 0:4] = True  # touches the bottom border
    sketch = np.ones((13, 21), bool)
    p_img, p_hole, p_sketch, p_avoid = pad_inputs(img, hole, sketch, None, 8)
    assert p_img.shape == (16, 24, 3) and p_hole.shape == p_sketch.shape == (16, 24)
    assert p_avoid is None
    assert np.array_equal(unpad(p_img, 13, 21), img)
    assert np.array_equal(unpad(p_hole, 13, 21), hole)
    # mirrored: the hole at the border continues into the padding, sketch does not
    assert p_hole[13:16, 0:4].all() and not p_hole[13:16, 4:].any()
    assert not p_sketch[13:].any() and not p_sketch[:, 21:].any()
    assert padded_size(16, 24, 8) == (16, 24)
    assert padded_size(5, 5, 1) == (5, 5)


def test_pad_larger_than_the_crop():
    img = np.full((3, 2, 3), 7, np.uint8)
    p_img, p_hole, _, _ = pad_inputs(img, np.zeros((3, 2), bool), None, None, 16)
    assert p_img.shape == (16, 16, 3) and (p_img == 7).all()


@pytest.mark.parametrize("size", [(200, 154), (401, 300), (563, 207)])
@pytest.mark.parametrize("interp", [cv2.INTER_LINEAR, cv2.INTER_CUBIC])
def test_resize_part_is_the_same_part_of_a_full_resize(size, interp):
    from inpaint_studio.core.types import BBox
    from inpaint_studio.pipeline.resize import resize_part

    rng = np.random.default_rng(1)
    img = rng.random((100, 77, 3)).astype(np.float32)
    h, w = size
    box = BBox(5, 7, w - 3, h - 11)
    full = cv2.resize(img, (w, h), interpolation=interp)
    part = resize_part(img, h, w, box, interp)
    assert part.shape == (box.height, box.width, 3)
    np.testing.assert_allclose(part, full[box.slices], atol=1e-4)
