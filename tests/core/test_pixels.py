"""core.pixels: the one 8 <-> 16-bit conversion and its rounding rule."""
from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio.core import pixels

EVERY16 = np.arange(65536, dtype=np.uint32)


def test_to8_is_the_nearest_8_bit_value_for_every_16_bit_value():
    out = pixels.to8(EVERY16.astype(np.uint16))
    exact = EVERY16 * 255 / 65535  # float64 holds these exactly enough: no value is a tie
    assert out.dtype == np.uint8
    assert np.array_equal(out, np.floor(exact + 0.5).astype(np.uint8))
    assert (np.abs(out - exact) <= 0.5).all() and not (np.abs(out - exact) == 0.5).any()


@pytest.mark.parametrize("k", [1, 2, 77, 128, 254, 255])
def test_to8_boundaries(k):
    low, high = 257 * k - 129, 257 * k - 128  # the last value below k, the first at k
    assert pixels.to8(np.array([low, high], np.uint16)).tolist() == [k - 1, k]
    if k < 255:
        assert pixels.to8(np.array([257 * k + 128, 257 * k + 129], np.uint16)).tolist() == [k, k + 1]


def test_to16_spans_the_range_and_to8_undoes_it():
    every8 = np.arange(256, dtype=np.uint8)
    up = pixels.to16(every8)
    assert up.dtype == np.uint16 and up[0] == 0 and up[255] == 65535
    assert np.array_equal(up, every8.astype(np.uint32) * 257)
    assert np.array_equal(pixels.to8(up), every8)


def test_same_depth_is_returned_untouched_and_other_dtypes_refused():
    a8 = np.zeros((2, 2, 3), np.uint8)
    a16 = np.zeros((2, 2, 3), np.uint16)
    assert pixels.to8(a8) is a8 and pixels.to16(a16) is a16
    assert pixels.to_dtype(a8, np.uint16).dtype == np.uint16 and pixels.to_dtype(a16, np.uint8).dtype == np.uint8
    for bad in (np.zeros(3, np.float32), np.zeros(3, np.int32)):
        with pytest.raises(TypeError):
            pixels.to8(bad)
        with pytest.raises(TypeError):
            pixels.to16(bad)


def test_to_rgb8_drops_alpha_and_rounds():
    deep = np.zeros((2, 2, 4), np.uint16)
    deep[0, 0] = [65535, 128, 129, 7]
    out = pixels.to_rgb8(deep)
    assert out.shape == (2, 2, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    assert out[0, 0].tolist() == [255, 0, 1]
    assert pixels.to_rgb8(np.full((3, 4), 9, np.uint8)).shape == (3, 4, 3)
    with pytest.raises(ValueError):
        pixels.to_rgb8(np.zeros((2, 2, 2), np.uint8))
