"""Find scratches and dust on scanned old photos: a mask to fill, proposed to the user.

Lives in pipeline (not core) because it needs OpenCV's fast morphology. Two stages, so
a sensitivity slider can re-threshold without redoing the costly part::

    analysis = analyse(image, max_width=6)      # per photo (4-6 s at 12 MP on 2 cores)
    mask = propose(analysis, sensitivity=0.5)   # per sensitivity (fast)
    mask = detect_damage(image, 0.5, 6)         # both

How: every score is a contrast divided by the local level of fine detail (grain, paper,
hair, foliage, text and edges raise it, so busy places need more). Lines: at half
resolution, a short segment's mean in 12 orientations must be brighter (darker) than
both parallel side segments, less any difference between the sides (edges and halos
score nothing). Specks: a small blur must be brighter (darker) than a ring all around.
Pixels standing out from a median wider than ``max_width`` are joined into components;
kept are long, thin ones with enough line evidence (longer lines may be fainter) and
small ones with a strong speck score, unless a square wider than ``max_width`` fits
inside, strong opposite contrast runs beside them (a groove by an edge), or other
candidates crowd around them (families of lines: bricks, ruled paper, planks, hair).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Optional

import cv2
import numpy as np

DEFAULT_SENSITIVITY = 0.5
DEFAULT_MAX_WIDTH = 6
MAX_WIDTH_RANGE = (1, 20)
TEXTURE_WINDOW = 31  # pixels: the neighbourhood whose busyness excuses thin detail
DENSITY_WINDOW = 81  # pixels: where a family of similar lines marks real detail
LEVEL_FLOOR = 0.012  # contrast unit on grain-free photos (about 3 of 255 levels)


@dataclass(frozen=True)
class DamageAnalysis:
    """Per-photo scores, thresholded by ``propose`` (float32, H x W, signed: + bright)."""

    line: np.ndarray  # oriented-line contrast over its local level
    spot: np.ndarray  # small-blob contrast over its local level
    pixel: np.ndarray  # per-pixel contrast over its local level (mask shape)
    max_width: int
    candidates: tuple = ()  # (bright, dark) Candidates, filled in by analyse


def luminance(image: np.ndarray) -> np.ndarray:
    """(H, W) float32 in 0..1 from grey, RGB or RGBA, 8- or 16-bit."""
    arr = np.asarray(image)
    scale = 65535.0 if arr.dtype == np.uint16 else 255.0 if arr.dtype == np.uint8 else 1.0
    if arr.ndim == 3:
        rgb = arr[..., :3].astype(np.float32)
        grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32) if rgb.shape[2] == 3 else rgb[..., 0]
    else:
        grey = arr.astype(np.float32)
    return grey * np.float32(1.0 / scale)


def check_params(sensitivity: float, max_width: int) -> None:
    if not 0.0 <= float(sensitivity) <= 1.0:
        raise ValueError(f"sensitivity must be between 0 and 1, got {sensitivity}")
    lo, hi = MAX_WIDTH_RANGE
    if not lo <= int(max_width) <= hi:
        raise ValueError(f"max width must be between {lo} and {hi} pixels, got {max_width}")


ANGLES = 12
SEGMENT = 9  # line kernel length at half resolution (18 px)
ASYMMETRY = 0.5


def _segments() -> list[tuple[float, np.ndarray]]:
    """(angle, normalised anti-aliased line kernel) for each orientation."""
    out = []
    c = (SEGMENT - 1) / 2
    for i in range(ANGLES):
        t = np.pi * i / ANGLES
        k = np.zeros((SEGMENT, SEGMENT), np.float32)
        dx, dy = c * np.cos(t), c * np.sin(t)
        p0 = (int(round((c - dx) * 16)), int(round((c - dy) * 16)))
        p1 = (int(round((c + dx) * 16)), int(round((c + dy) * 16)))
        cv2.line(k, p0, p1, 1.0, 1, cv2.LINE_AA, shift=4)
        out.append((t, k / k.sum()))
    return out


def _points_kernel(offsets) -> np.ndarray:
    """A dilation kernel holding just the given (dx, dy) offsets."""
    r = max(max(abs(dx), abs(dy)) for dx, dy in offsets)
    k = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
    for dx, dy in offsets:
        k[r + dy, r + dx] = 1
    return k


def _two_sided(centre: np.ndarray, sides: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bright, dark) contrast of ``centre`` against every side sample of ``kernel``."""
    edge = cv2.BORDER_REPLICATE
    return (centre - cv2.dilate(sides, kernel, borderType=edge),
            cv2.erode(sides, kernel, borderType=edge) - centre)


def _texture_level(g: np.ndarray) -> np.ndarray:
    """Local typical fine-detail contrast (grain, paper, hair, foliage, text, edges).

    A mean of the fine residual, clipped at three times a first local mean so that a
    scratch in the window raises it little.
    """
    e = np.abs(g - cv2.GaussianBlur(g, (0, 0), 1.5))
    size = (TEXTURE_WINDOW, TEXTURE_WINDOW)
    first = cv2.blur(e, size)
    level = cv2.blur(np.minimum(e, 3 * first), size)
    return np.maximum(level, LEVEL_FLOOR)


def analyse(image: np.ndarray, max_width: int = DEFAULT_MAX_WIDTH,
            progress: Optional[Callable[[float], None]] = None, tuning: "Tuning" = None) -> DamageAnalysis:
    """The costly per-photo part. ``progress(fraction)`` is called between stages; it may
    raise (e.g. ``Cancelled``) to stop early. ``tuning``: other thresholds (experiments)."""
    check_params(DEFAULT_SENSITIVITY, max_width)
    report = progress or (lambda _f: None)
    report(0.0)
    g = luminance(image)
    h, w = g.shape
    level = _texture_level(g)
    # lines, at half resolution: brighter (darker) than both sides for some orientation
    half = cv2.resize(g, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    d = max(2, round((max_width + 2) / 3))  # side offset, half-res pixels
    bright = dark = None
    for i, (t, k) in enumerate(_segments()):
        report(0.05 + 0.5 * i / ANGLES)
        m = cv2.filter2D(half, -1, k)
        nx, ny = -np.sin(t) * d, np.cos(t) * d
        ox, oy = int(round(nx)), int(round(ny))
        s1 = cv2.dilate(m, _points_kernel([(ox, oy)]), borderType=cv2.BORDER_REPLICATE)
        s2 = cv2.dilate(m, _points_kernel([(-ox, -oy)]), borderType=cv2.BORDER_REPLICATE)
        # brighter (darker) than both sides, less any difference between the sides (edges)
        skew = ASYMMETRY * np.abs(s1 - s2)
        b = m - np.maximum(s1, s2) - skew
        dk = np.minimum(s1, s2) - m - skew
        bright = b if bright is None else np.maximum(bright, b)
        dark = dk if dark is None else np.maximum(dark, dk)
    line = cv2.resize(np.where(bright >= dark, bright, -dark), (w, h), interpolation=cv2.INTER_LINEAR)
    report(0.55)
    # spots, at full resolution: brighter (darker) than a ring all around
    c0 = cv2.GaussianBlur(g, (0, 0), 1.0)
    bright = dark = None
    for radius in sorted({3, max_width + 2}):
        ring = np.zeros((2 * radius + 1, 2 * radius + 1), np.uint8)
        cv2.circle(ring, (radius, radius), radius, 1, 1)
        b, dk = _two_sided(c0, c0, ring)
        bright = b if bright is None else np.maximum(bright, b)
        dark = dk if dark is None else np.maximum(dark, dk)
    spot = np.where(bright >= dark, bright, -dark)
    # pixels (the mask's shape): against a median wider than any scratch
    side = 2 * int(max_width) + 3
    background = cv2.medianBlur(np.clip(g * 255 + 0.5, 0, 255).astype(np.uint8), side)
    pixel = cv2.GaussianBlur(g, (0, 0), 0.7) - background.astype(np.float32) * np.float32(1 / 255)
    report(0.7)
    a = DamageAnalysis(line / level, spot / level, pixel / level, int(max_width))
    t = tuning or TUNING
    near = (np.abs(a.pixel) > t.pixel) & ((np.abs(a.line) > t.grow) | (np.abs(a.spot) > t.grow))
    density = cv2.blur(near.astype(np.float32), (DENSITY_WINDOW, DENSITY_WINDOW))
    bright = _candidates(a, 1, density, t)
    report(0.85)
    out = dataclasses.replace(a, candidates=(bright, _candidates(a, -1, density, t)))
    report(1.0)
    return out


@dataclass(frozen=True)
class Tuning:
    """Thresholds at sensitivity 0.5, in units of the local texture level."""

    line: float = 5.0  # a scratch must reach this line score somewhere
    evidence: float = 9.0  # ... and average this much along its length, x sqrt(length / min)
    spot: float = 12.0  # a speck must reach this spot score
    grow: float = 2.5  # pixels joined into candidates (any sensitivity)
    pixel: float = 1.0  # ... must also stand out from a median this much
    paired: float = 1.5  # mean opposite contrast beside it that marks an edge or groove
    min_length: float = 4.0  # scratches: at least this many max widths long
    density: float = 0.07  # share of the surroundings that other candidates may cover


TUNING = Tuning()


@dataclass(frozen=True)
class Candidates:
    """Connected candidates of one polarity and what ``propose`` thresholds per label."""

    labels: np.ndarray  # int32 (H, W), 0 = none
    line_peak: np.ndarray  # per label; -1 where the label cannot be a scratch
    evidence: np.ndarray  # mean line score x sqrt(length / minimum length)
    spot_peak: np.ndarray  # per label; -1 where the label cannot be a speck


def propose(analysis: DamageAnalysis, sensitivity: float = DEFAULT_SENSITIVITY,
            tuning: Tuning = TUNING) -> np.ndarray:
    """The damage mask (bool, H x W) at one sensitivity (0: only the obvious, 1: eager).

    Candidates are fixed per photo, so a higher sensitivity only ever adds to the mask."""
    check_params(sensitivity, analysis.max_width)
    f = 0.5 ** (2 * (sensitivity - 0.5))  # thresholds x2 at 0, x0.5 at 1
    mask = np.zeros(analysis.pixel.shape, bool)
    for c in analysis.candidates:
        keep = ((c.line_peak >= tuning.line * f) & (c.evidence >= tuning.evidence * f)) | (
            c.spot_peak >= tuning.spot * f)
        keep[0] = False
        if keep.any():
            mask |= keep[c.labels]
    if mask.any():
        mask = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return mask


def _per_label(labels: np.ndarray, where: np.ndarray, values, count: int, peak: bool = False) -> np.ndarray:
    """Sum (or maximum) of ``values`` over each label's pixels in ``where``."""
    idx = labels[where]
    if not peak:
        return np.bincount(idx, weights=None if values is None else values[where], minlength=count)
    out = np.full(count, -np.inf, np.float32)
    np.maximum.at(out, idx, values[where])
    return out


def _candidates(a: DamageAnalysis, sign: int, density: np.ndarray, t: Tuning = TUNING) -> Candidates:
    """Label one polarity's candidates; rule out those that can be neither scratch nor speck."""
    line, pixel = sign * a.line, sign * a.pixel
    grow = ((pixel > t.pixel) & ((line > t.grow) | (sign * a.spot > t.grow))).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grow, connectivity=8)
    on = grow > 0
    area = np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    length = np.hypot(w, h)  # bbox diagonal
    min_length = t.min_length * max(a.max_width, 3)
    # thick: a square wider than max_width fits inside
    side = a.max_width + 3
    core = cv2.erode(grow, cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))) > 0
    thick = _per_label(labels, core, None, count) > 0.05 * area
    # paired: strong opposite contrast right beside it (an edge or groove, not a scratch)
    ring_labels = cv2.dilate(labels.astype(np.float32), np.ones((5, 5), np.uint8)).astype(np.int32)
    ring = (~on) & (ring_labels > 0)
    ring_n = np.maximum(_per_label(ring_labels, ring, None, count), 1)
    paired = _per_label(ring_labels, ring, np.maximum(-pixel, 0), count) / ring_n > t.paired
    # crowded: other candidates cover much of the surroundings (its own share discounted)
    own = np.where(length >= min_length, area / np.maximum(length, 1) / DENSITY_WINDOW,
                   area / DENSITY_WINDOW ** 2)
    crowded = _per_label(labels, on, density, count) / area - own > t.density
    usable = ~thick & ~paired & ~crowded
    # scratches: long, and thin all along (not a network of lines; bbox allows for bends)
    scratch = usable & (length >= min_length) & (area / np.maximum(length, 1) <= 2 * (a.max_width + 2))
    speck = usable & (np.maximum(w, h) <= 2 * a.max_width + 2) & (area >= 2)
    line_peak = np.where(scratch, _per_label(labels, on, line, count, peak=True), -1)
    evidence = _per_label(labels, on, line, count) / area * np.sqrt(length / min_length)
    spot_peak = np.where(speck, _per_label(labels, on, sign * a.spot, count, peak=True), -1)
    return Candidates(labels, line_peak, evidence, spot_peak)


def detect_damage(image: np.ndarray, sensitivity: float = DEFAULT_SENSITIVITY,
                  max_width: int = DEFAULT_MAX_WIDTH) -> np.ndarray:
    """Scratches and dust of ``image`` as a bool mask (see the module notes)."""
    check_params(sensitivity, max_width)
    return propose(analyse(image, max_width), sensitivity)


THIN_WIDTH = 8  # pixels: masks no wider than this are "thin" (scratches, dust)


def is_thin(mask: np.ndarray, width: int = THIN_WIDTH) -> bool:
    """True when a non-empty mask is made of thin strokes and specks: at most 5 % of its
    pixels lie deeper than ``width / 2`` inside it."""
    mask = np.asarray(mask, bool)
    total = int(np.count_nonzero(mask))
    if not total:
        return False
    depth = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    return int(np.count_nonzero(depth > width / 2)) <= 0.05 * total
