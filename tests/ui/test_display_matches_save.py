"""The editor shows a 16-bit photo with the same 8-bit values a save to an 8-bit format
writes (one rounding rule, core.pixels.to8): checked for all 65536 values and at every
boundary between two 8-bit steps."""
from __future__ import annotations

import numpy as np
import pytest

from inpaint_studio import fileio
from inpaint_studio.ui.canvas.display import DisplayImage, to_display


def every_value() -> np.ndarray:
    """256 x 256 RGB uint16: red runs through all 65536 values, green backwards, blue shifted."""
    values = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    return np.stack([values, values[::-1, ::-1], np.roll(values, 12345)], axis=2)


def boundaries() -> np.ndarray:
    """1 x N RGB uint16 of each side of every 8-bit step: 257k - 129 and 257k - 128."""
    k = np.arange(1, 256)
    values = np.stack([257 * k - 129, 257 * k - 128], axis=1).reshape(-1).astype(np.uint16)
    return np.repeat(values[None, :, None], 3, axis=2)


def shown(pixels: np.ndarray) -> np.ndarray:
    """RGB the canvas holds (its BGRA buffer)."""
    return to_display(pixels)[..., [2, 1, 0]]


@pytest.mark.parametrize("suffix", [".bmp", ".webp"])
@pytest.mark.parametrize("make", [every_value, boundaries])
def test_display_and_8_bit_save_agree(tmp_path, suffix, make):
    deep = make()
    path = tmp_path / ("out" + suffix)
    fileio.save_image(path, deep, quality=100)  # WebP at 100 is lossless
    saved = fileio.load_image(path).pixels
    assert saved.dtype == np.uint8
    assert np.array_equal(saved, shown(deep))


def test_boundaries_are_rounded_to_nearest_on_screen():
    deep = boundaries()
    k = np.arange(1, 256)
    expected = np.stack([k - 1, k], axis=1).reshape(-1)
    assert np.array_equal(shown(deep)[0, :, 0], expected)


def test_the_canvas_image_holds_the_rounded_values(qapp):
    deep = boundaries()
    image = DisplayImage(deep).image
    k = np.arange(1, 256)
    expected = np.stack([k - 1, k], axis=1).reshape(-1)
    reds = [image.pixelColor(x, 0).red() for x in range(image.width())]
    assert reds == expected.tolist()
    greens = [image.pixelColor(x, 0).green() for x in range(image.width())]
    assert greens == expected.tolist()
