"""Test photos for the editor tests."""
from __future__ import annotations

import numpy as np
from PIL import Image


def make_photo(path, width=160, height=120, seed=0):
    """A textured RGB photo saved as PNG; returns its pixels."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([(x * 255 // width), (y * 255 // height), ((x + y) * 3) % 256], axis=2)
    pixels = np.clip(pixels + rng.integers(-12, 13, pixels.shape), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels
