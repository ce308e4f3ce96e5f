"""Synthetic scenes for the object-removal GUI tests."""
from __future__ import annotations

import numpy as np

MAGENTA = np.array([255, 0, 255])


def object_on_texture(h=300, w=400, seed=1):
    """A textured backdrop with a textured, differently coloured ellipse: (image, truth)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    back = np.stack([90 + 40 * np.sin(x / 9.0), 120 + 30 * np.cos(y / 7.0), 80 + 0 * x], axis=2)
    back += rng.normal(0, 14, back.shape)
    cx, cy, rx, ry = w * 0.525, h * 0.5, w * 0.2, h * 0.2
    truth = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0
    obj = np.stack([200 + 0 * x, 60 + 20 * np.sin((x + y) / 5.0), 150 + 0 * x], axis=2)
    obj += rng.normal(0, 14, obj.shape)
    image = np.where(truth[..., None], obj, back)
    return np.clip(image, 0, 255).astype(np.uint8), truth


def avoid_scene():
    """Texture with a magenta patch touching the hole: (pixels, hole, avoid, MAGENTA)."""
    rng = np.random.default_rng(3)
    h, w = 72, 96
    y, x = np.mgrid[0:h, 0:w]
    pixels = np.stack([70 + 25 * np.sin(x / 4.0), 110 + 20 * np.cos(y / 5.0), 60 + 0 * x], axis=2)
    pixels = np.clip(pixels + rng.normal(0, 10, pixels.shape), 0, 255).astype(np.uint8)
    pixels[20:52, 14:40] = MAGENTA
    hole = np.zeros((h, w), bool)
    hole[24:48, 40:64] = True
    avoid = np.zeros((h, w), bool)
    avoid[16:56, 10:40] = True
    return pixels, hole, avoid, MAGENTA
