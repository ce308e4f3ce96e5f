"""Make a real photo look old, with synthetic scratches and dust of known masks.

Used by bench_damage.py. ``age(rgb, rng)`` -> the clean old print (grey or sepia, faded,
film grain, paper texture); ``damage(old, rng)`` -> (damaged, mask of visibly changed
pixels, mask of every touched pixel). All float32 RGB in 0..1.
"""
from __future__ import annotations

import cv2
import numpy as np

SS = 4  # supersampling for anti-aliased scratch rendering
SEPIA = np.array([1.07, 0.93, 0.72], np.float32)
VISIBLE = 0.06  # a pixel counts as damaged when it changed by at least this much


def luminance(rgb: np.ndarray) -> np.ndarray:
    return (rgb @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.float32)


def _noise(shape, rng, sigma: float) -> np.ndarray:
    n = rng.standard_normal(shape).astype(np.float32)
    if sigma > 0:
        n = cv2.GaussianBlur(n, (0, 0), sigma)
    return n / max(float(n.std()), 1e-6)


def age(rgb: np.ndarray, rng: np.random.Generator, sepia: bool = None, grain: float = None) -> np.ndarray:
    """Grey or sepia, faded, grainy print on textured paper."""
    h, w = rgb.shape[:2]
    g = luminance(rgb)
    g = 0.08 + 0.82 * g  # faded blacks and whites
    grain = rng.uniform(0.012, 0.03) if grain is None else grain
    g = g + grain * _noise((h, w), rng, 0.6)
    paper = 0.025 * _noise((h, w), rng, 3.0) + 0.012 * _noise((h, w), rng, 1.2)
    g = g * (1 + paper)
    sepia = rng.random() < 0.5 if sepia is None else sepia
    tone = SEPIA if sepia else np.ones(3, np.float32)
    return np.clip(g[..., None] * tone, 0, 1).astype(np.float32)


def _curve(rng, w, h, length: float) -> np.ndarray:
    """A smooth random curve (points in pixels) of about ``length`` pixels."""
    p = np.array([rng.uniform(0, w), rng.uniform(0, h)])
    angle = rng.uniform(0, np.pi)
    if rng.random() < 0.6:  # most scratches run roughly along one axis
        angle = rng.choice([0, np.pi / 2]) + rng.normal(0, 0.3)
    bend = rng.normal(0, 0.002)
    points = [p.copy()]
    step = 4.0
    for _ in range(int(length / step)):
        angle += bend * step + rng.normal(0, 0.01)
        p = p + step * np.array([np.cos(angle), np.sin(angle)])
        points.append(p.copy())
    return np.array(points)


def _scratch_alpha(shape, rng, n: int) -> list[tuple[np.ndarray, float]]:
    """n scratches: (alpha map, target brightness) each."""
    h, w = shape
    out = []
    for _ in range(n):
        width = rng.choice([1, 1.5, 2, 3, 4, 5, 6], p=[0.2, 0.15, 0.2, 0.2, 0.1, 0.08, 0.07])
        curve = _curve(rng, w, h, rng.uniform(60, 0.9 * max(w, h)))
        canvas = np.zeros((h * SS, w * SS), np.uint8)
        pts = np.round(curve * SS * 8).astype(np.int32).reshape(-1, 1, 2)  # 3 fractional bits
        cv2.polylines(canvas, [pts], False, 255, max(1, int(round(width * SS))), cv2.LINE_AA, shift=3)
        alpha = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        alpha *= rng.uniform(0.55, 1.0)  # scratch depth
        if rng.random() < 0.3:  # depth varies along the scratch
            alpha *= 0.5 + 0.5 * cv2.resize(rng.random((4, 4)).astype(np.float32), (w, h))
        out.append((alpha, float(rng.choice([0.97, 0.04], p=[0.6, 0.4]))))
    return out


def _dust_alpha(shape, rng, n: int) -> list[tuple[np.ndarray, float]]:
    """n specks (small blobs) and a few short fibres, grouped by brightness."""
    h, w = shape
    dark = np.zeros((h * SS, w * SS), np.uint8)
    bright = np.zeros_like(dark)
    for _ in range(n):
        canvas = dark if rng.random() < 0.6 else bright
        cx, cy = rng.uniform(0, w) * SS, rng.uniform(0, h) * SS
        if rng.random() < 0.1:  # a fibre
            curve = _curve(rng, w, h, rng.uniform(10, 40))
            curve = curve - curve[0] + [cx / SS, cy / SS]
            pts = np.round(curve * SS * 8).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(canvas, [pts], False, 255, int(rng.uniform(1, 2.5) * SS), cv2.LINE_AA, shift=3)
            continue
        r = rng.uniform(0.8, 4.0) * SS
        axes = (max(1, int(r)), max(1, int(r * rng.uniform(0.5, 1.0))))
        cv2.ellipse(canvas, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA)
    out = []
    for canvas, target in ((dark, 0.05), (bright, 0.96)):
        alpha = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        out.append((alpha * rng.uniform(0.7, 1.0), target))
    return out


def damage(old: np.ndarray, rng: np.random.Generator, scratches: int = None, dust: int = None):
    """Add scratches and dust; returns (damaged, visible mask, touched mask)."""
    h, w = old.shape[:2]
    mp = h * w / 1e6
    scratches = int(rng.integers(10, 25) * max(mp, 0.3)) if scratches is None else scratches
    dust = int(rng.integers(100, 250) * max(mp, 0.3)) if dust is None else dust
    tone = old.mean(axis=(0, 1)) / max(float(old.mean()), 1e-6)  # keep the print's tint
    out = old.copy()
    for alpha, target in _scratch_alpha((h, w), rng, scratches) + _dust_alpha((h, w), rng, dust):
        a = alpha[..., None]
        out = out * (1 - a) + a * (target * tone)
    out = np.clip(out, 0, 1).astype(np.float32)
    change = np.abs(luminance(out) - luminance(old))
    touched = change > 0.01
    return out, change >= VISIBLE, touched
