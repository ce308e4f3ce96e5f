import numpy as np
import pytest

from inpaint_studio.core.errors import Cancelled, UserError
from inpaint_studio.core.types import CancelToken
from inpaint_studio.engines import registry


def _gradient_image(h=64, w=80):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x * 3, y * 3, 255 - x * 2], axis=-1)
    return np.clip(img, 0, 255).astype(np.uint8)


def _scratch(h=64, w=80):
    hole = np.zeros((h, w), bool)
    for x in range(10, 70):  # thin diagonal scratch, 2 px wide
        y = 10 + (x - 10) * 40 // 60
        hole[y:y + 2, x] = True
    return hole


@pytest.mark.parametrize("name", ["telea", "ns"])
def test_thin_scratch_filled_with_small_error(name):
    img = _gradient_image()
    hole = _scratch()
    damaged = img.copy()
    damaged[hole] = (255, 0, 255)
    before = damaged.copy()
    out = registry.create(name).fill(damaged, hole)
    assert out.shape == img.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(damaged, before)  # input not mutated
    np.testing.assert_array_equal(out[~hole], img[~hole])
    err = np.abs(out[hole].astype(int) - img[hole].astype(int)).mean()
    assert err < 4.0, err
    bad = np.abs(damaged[hole].astype(int) - img[hole].astype(int)).mean()
    assert bad > 50


@pytest.mark.parametrize("name", ["telea", "ns"])
def test_progress_cancel_and_params(name):
    img = _gradient_image()
    hole = _scratch()
    eng = registry.create(name)
    seen = []
    eng.fill(img, hole, params={"radius": 3}, progress=lambda f, m: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        eng.fill(img, hole, cancel=token)
    with pytest.raises(UserError):
        eng.fill(img, hole, params={"patch_size": 3})
    with pytest.raises(UserError):
        eng.fill(img, hole[:10])


def test_empty_hole_returns_copy():
    img = _gradient_image()
    hole = np.zeros(img.shape[:2], bool)
    out = registry.create("telea").fill(img, hole)
    np.testing.assert_array_equal(out, img)
    assert out is not img
