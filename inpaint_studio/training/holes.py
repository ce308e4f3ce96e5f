"""Random free-form holes for training: strokes, rectangles, blobs and scratches.

Every generator draws with a numpy Generator so a seed reproduces a mask exactly.
`random_hole(size, rng)` mixes them until the hole covers 5-60 % of the image (or a
given range).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from inpaint_studio.core.errors import UserError

MIN_RATIO = 0.05
MAX_RATIO = 0.60


def strokes(size: int, rng: np.random.Generator, count: int = 4) -> np.ndarray:
    """DeepFill v2-style brush strokes: random walks of thick line segments."""
    mask = np.zeros((size, size), np.uint8)
    for _ in range(count):
        x, y = rng.uniform(0, size, 2)
        width = int(rng.uniform(size / 40, size / 12)) + 1
        angle = rng.uniform(0, 2 * math.pi)
        for _ in range(int(rng.integers(3, 9))):
            angle += rng.uniform(-0.6 * math.pi, 0.6 * math.pi)
            length = rng.uniform(size / 16, size / 4)
            nx = float(np.clip(x + length * math.cos(angle), 0, size - 1))
            ny = float(np.clip(y + length * math.sin(angle), 0, size - 1))
            cv2.line(mask, (int(x), int(y)), (int(nx), int(ny)), 1, width)
            cv2.circle(mask, (int(nx), int(ny)), width // 2, 1, -1)
            x, y = nx, ny
    return mask.astype(bool)


def rectangles(size: int, rng: np.random.Generator, count: int = 2) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    for _ in range(count):
        w, h = (rng.uniform(0.1, 0.45, 2) * size).astype(int)
        x = int(rng.integers(0, size - w))
        y = int(rng.integers(0, size - h))
        mask[y:y + h, x:x + w] = True
    return mask


def blob(size: int, rng: np.random.Generator) -> np.ndarray:
    """An object-like silhouette: a smoothed random polygon, sometimes person-shaped (tall)."""
    cx, cy = rng.uniform(0.2, 0.8, 2) * size
    rx = rng.uniform(0.06, 0.25) * size
    ry = rx * rng.uniform(1.0, 3.0)
    angles = np.sort(rng.uniform(0, 2 * math.pi, 12))
    radii = rng.uniform(0.6, 1.0, 12)
    pts = np.stack([cx + rx * radii * np.cos(angles), cy + ry * radii * np.sin(angles)], 1)
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [pts.astype(np.int32)], 1)
    k = max(3, int(rx / 3) | 1)
    mask = cv2.GaussianBlur(mask.astype(np.float32), (k, k), 0) > 0.5
    return mask


def scratches(size: int, rng: np.random.Generator, count: int = 6) -> np.ndarray:
    """Thin, long, slightly curved lines like scratches on an old print."""
    mask = np.zeros((size, size), np.uint8)
    for _ in range(count):
        p0 = rng.uniform(0, size, 2)
        p1 = rng.uniform(0, size, 2)
        mid = (p0 + p1) / 2 + rng.normal(0, size / 20, 2)
        t = np.linspace(0, 1, 24)[:, None]
        curve = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * mid + t ** 2 * p1
        cv2.polylines(mask, [curve.astype(np.int32)], False, 1, int(rng.integers(1, 4)))
    return mask.astype(bool)


def random_hole(size: int, rng: np.random.Generator, low: float = MIN_RATIO,
                high: float = MAX_RATIO) -> np.ndarray:
    """A bool (size, size) hole mask covering between ``low`` and ``high`` of the image
    (5 % and 60 % by default)."""
    kinds = (strokes, rectangles, blob, scratches)
    mask = np.zeros((size, size), bool)
    target = rng.uniform(low, high)
    for _ in range(12):
        kind = kinds[int(rng.choice(4, p=[0.4, 0.15, 0.3, 0.15]))]
        candidate = mask | kind(size, rng)
        if candidate.mean() > high:
            continue
        mask = candidate
        if mask.mean() >= target:
            break
    if mask.mean() < low:  # top up with a rectangle; alone if together they are too big
        side = int(math.ceil(math.sqrt(min(low * 1.2, (low + high) / 2)) * size))
        x, y = (int(v) for v in rng.integers(0, size - side, 2))
        rect = np.zeros_like(mask)
        rect[y:y + side, x:x + side] = True
        mask = mask | rect if (mask | rect).mean() <= high else rect
    return mask


def check_hole_range(low: float, high: float) -> None:
    """UserError unless 0.01 <= low < high <= 0.9 (what ``random_hole`` can honour)."""
    if not 0.01 <= low < high <= 0.9:
        raise UserError(f"holes must be two ratios 0.01 <= LOW < HIGH <= 0.9, got {low}-{high}")


def sketch_from_edges(image: np.ndarray, hole: np.ndarray, rng: np.random.Generator,
                      drop: float = 0.3) -> np.ndarray:
    """Edges of the true image inside the hole, randomly thinned or dropped.

    With probability `drop` the sketch is empty, so a model also works without one.
    """
    if rng.random() < drop:
        return np.zeros(hole.shape, bool)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    grey = cv2.GaussianBlur(grey, (5, 5), 1.2)
    low = int(rng.integers(60, 120))
    edges = cv2.Canny(grey, low, low * 2) > 0
    keep = rng.uniform(0.5, 1.0)  # drop random short pieces of line
    tiles = rng.random((hole.shape[0] // 8 + 1, hole.shape[1] // 8 + 1)) < keep
    tiles = np.repeat(np.repeat(tiles, 8, 0), 8, 1)[: hole.shape[0], : hole.shape[1]]
    return edges & hole & tiles
