"""A small synthetic old photo with known scratches and dust, for the damage tests."""
from __future__ import annotations

import cv2
import numpy as np


def old_photo(seed: int = 0, size=(320, 480), damaged: bool = True):
    """(uint8 RGB photo, bool mask of the damage). Soft shapes, grain, sepia tone."""
    rng = np.random.default_rng(seed)
    h, w = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    g = 0.35 + 0.25 * np.sin(x / 70) * np.cos(y / 55) + 0.15 * (x / w)
    g = cv2.GaussianBlur(g, (0, 0), 2)
    noise = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 0.6)
    g = g + 0.02 * noise / noise.std()
    mask = np.zeros((h, w), np.uint8)
    if damaged:
        lines = [((20, 30), (460, 80), 1, 0.95), ((60, 300), (300, 10), 3, 0.05),
                 ((400, 310), (330, 20), 2, 0.95), ((10, 200), (470, 260), 5, 0.08)]
        for p0, p1, width, value in lines:
            layer = np.zeros((h, w), np.uint8)
            cv2.line(layer, p0, p1, 255, width)
            g[layer > 0] = value
            mask |= layer
        for _ in range(25):
            cx, cy = int(rng.integers(10, w - 10)), int(rng.integers(10, h - 10))
            layer = np.zeros((h, w), np.uint8)
            cv2.circle(layer, (cx, cy), int(rng.integers(1, 4)), 255, -1)
            g[layer > 0] = 0.05 if rng.random() < 0.5 else 0.95
            mask |= layer
    g = np.clip(g, 0, 1)
    rgb = np.stack([g * 1.07, g * 0.93, g * 0.72], axis=2)
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8), mask > 0
