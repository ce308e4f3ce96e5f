"""Compositing: only alpha > 0 changes, exact fill in the hole, dtype and alpha kept."""
from __future__ import annotations

import numpy as np

from inpaint_studio.pipeline.blend import composite, feather_alpha, feather_band


def test_composite_uint8_bool_alpha():
    base = np.full((10, 10, 3), 50, np.uint8)
    fill = np.full((10, 10, 3), 200, np.uint8)
    alpha = np.zeros((10, 10), bool)
    alpha[2:4, 2:4] = True
    out = composite(base, fill, alpha)
    assert (out[alpha] == 200).all() and (out[~alpha] == 50).all()
    assert (base == 50).all()  # input untouched


def test_composite_uint16_rgba_keeps_alpha_and_scales():
    base = np.full((6, 6, 4), 1000, np.uint16)
    fill = np.full((6, 6, 3), 255, np.uint8)
    alpha = np.zeros((6, 6), bool)
    alpha[0, 0] = True
    out = composite(base, fill, alpha)
    assert out.dtype == np.uint16
    assert list(out[0, 0]) == [65535, 65535, 65535, 1000]
    assert (out[1:] == base[1:]).all()


def test_feather_ramp():
    hole = np.zeros((20, 20), bool)
    hole[5:10, 5:10] = True
    a = feather_alpha(hole, 3)
    assert (a[hole] == 1).all()
    assert 0 < a[7, 10] < 1 and a[7, 10] > a[7, 11] > a[7, 12] > 0  # 1, 2, 3 px out
    assert a[7, 13] == 0 and a[0, 0] == 0
    base = np.zeros((20, 20, 3), np.uint8)
    fill = np.full((20, 20, 3), 100, np.uint8)
    out = composite(base, fill, a)
    assert (out[hole] == 100).all()
    assert 0 < out[7, 10, 0] < 100 and out[7, 13, 0] == 0
    assert np.array_equal(feather_alpha(hole, 0), hole.astype(np.float32))


def test_feather_band_matches_alpha():
    rng = np.random.default_rng(4)
    hole = rng.random((60, 70)) > 0.995
    for feather in (1, 3, 6):
        assert np.array_equal(feather_band(hole, feather), feather_alpha(hole, feather) > 0)
    assert np.array_equal(feather_band(hole, 0), hole)
