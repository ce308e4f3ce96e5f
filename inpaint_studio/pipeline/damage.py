"""Find scratches and dust on scanned old photos: a mask to fill, proposed to the user.

Lives in pipeline (not core) because it needs OpenCV's fast morphology. Two stages, so
a sensitivity slider can re-threshold without redoing the costly part::

    analysis = analyse(image, max_width=6)      # per photo (about 2 s at 12 MP on 2 cores)
    mask = propose(analysis, sensitivity=0.5)   # per sensitivity (fast)
    mask = detect_damage(image, 0.5, 6)         # both

How: every score is a contrast divided by the local level of fine detail (grain, paper,
hair, foliage, text and edges raise it, so busy places need more). Lines: at half
resolution, a short segment's mean in 12 orientations must be brighter (darker) than
the mean of two parallel side segments, less the difference between the sides (edges
and halos score nothing). Specks: a small blur must be brighter (darker) than 16
samples on a ring all around. Pixels standing out from a median wider than ``max_width``
with some line or speck score are joined into candidates (one polarity each); a square
wider than ``max_width`` inside, or strong opposite contrast beside (a groove by an
edge), rules one out. Kept are:

- scratches: long and thin, with enough line evidence (mean line score, longer lines
  may be fainter; the length is that of the chain its pieces form along the line, a few
  pixels apart), discounted by how much its two sides differ beyond the texture (a line
  along an edge: a rim, a highlight, a plank's shadow); fainter pieces of a chain that
  holds a kept scratch need only part of the bar (hysteresis);
- specks: small, with a strong speck score and contrast (geometric mean);

unless other lines crowd the window around it: of about its orientation (families of
parallel lines: planks, bricks, ruled paper, hair), or of any (text, foliage). Lines are
counted once each, by their centre-line pixels, so a wide scratch is not its own crowd.
``benchmarks/bench_damage.py`` measures it (``--stages``: where missed damage is lost).
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
DENSITY_WINDOW = 121  # pixels: where a family of parallel lines marks real detail
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
    t = tuning or TUNING
    report = progress or (lambda _f: None)
    report(0.0)
    g = luminance(image)
    h, w = g.shape
    level = _texture_level(g)
    # lines, at half resolution: brighter (darker) than both sides for some orientation
    half = cv2.resize(g, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    d = max(2, round((max_width + 2) / 3))  # side offset, half-res pixels
    pad = d + 1
    best = angle = gap = centre = None
    for i, (theta, k) in enumerate(_segments()):
        report(0.05 + 0.5 * i / ANGLES)
        m = cv2.copyMakeBorder(cv2.filter2D(half, -1, k), pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        ox, oy = int(round(-np.sin(theta) * d)), int(round(np.cos(theta) * d))
        hh, ww = m.shape[0] - 2 * pad, m.shape[1] - 2 * pad
        s1 = m[pad + oy:pad + oy + hh, pad + ox:pad + ox + ww]
        s2 = m[pad - oy:pad - oy + hh, pad - ox:pad - ox + ww]
        m = m[pad:pad + hh, pad:pad + ww]
        # brighter (darker) than the mean of both sides, less any difference between the
        # sides (edges and halos score nothing)
        c = cv2.subtract(m, cv2.addWeighted(s1, 0.5, s2, 0.5, 0))
        skew = cv2.absdiff(s1, s2)
        score = cv2.subtract(np.abs(c), skew)
        if best is None:
            best, gap, centre = score, skew, c
            angle = np.zeros(score.shape, np.uint8)
        else:
            better = cv2.compare(score, best, cv2.CMP_GT)
            np.copyto(angle, i, where=better.view(bool))
            cv2.copyTo(skew, better, gap)
            cv2.copyTo(c, better, centre)
            best = cv2.max(best, score)
    line = cv2.resize(np.copysign(best, centre), (w, h), interpolation=cv2.INTER_LINEAR)
    report(0.55)
    # spots, at full resolution: brighter (darker) than a ring all around
    c0 = cv2.GaussianBlur(g, (0, 0), 1.0)
    bright = dark = None
    for radius in sorted({3, max_width + 2}):
        turns = np.arange(16) * (np.pi / 8)  # 16 samples on the circle
        ring = _points_kernel({(int(round(radius * np.cos(a))), int(round(radius * np.sin(a)))) for a in turns})
        b, dk = _two_sided(c0, c0, ring)
        bright = b if bright is None else np.maximum(bright, b)
        dark = dk if dark is None else np.maximum(dark, dk)
    spot = np.where(bright >= dark, bright, -dark)
    del c0, bright, dark, b, dk
    # pixels (the mask's shape): against a median wider than any scratch (at half
    # resolution: the background is smooth at that scale)
    side = int(max_width) + 1 | 1
    background = cv2.medianBlur(cv2.convertScaleAbs(half, alpha=255), side)
    pixel = cv2.GaussianBlur(g, (0, 0), 0.7)
    pixel -= cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32) * np.float32(1 / 255)
    report(0.7)
    inv = 1 / level
    line *= inv
    spot *= inv
    pixel *= inv
    a = DamageAnalysis(line, spot, pixel, int(max_width))
    # around each line: how many lines of its orientation (of any) cross a window
    level_half = cv2.resize(level, (half.shape[1], half.shape[0]), interpolation=cv2.INTER_AREA)
    parallel, clutter = _line_density(best, angle, best > t.strong * level_half)
    gap = cv2.resize(gap, (w, h), interpolation=cv2.INTER_LINEAR)
    gap *= inv
    around = _Around(gap, parallel, clutter, half.shape[1], angle)
    bright = _candidates(a, 1, around, t)
    report(0.85)
    out = dataclasses.replace(a, candidates=(bright, _candidates(a, -1, around, t)))
    report(1.0)
    return out


def _line_density(best: np.ndarray, angle: np.ndarray, strong: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel (half resolution): how many lines of about its own orientation, and of any
    orientation, cross a window around it, counted as centre-line pixels over the window's
    side, so that a line counts once whatever its width (families of parallel lines:
    planks, bricks, hair, ruled paper; clutter: text, foliage)."""
    h, w = best.shape
    pad = cv2.copyMakeBorder(best, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
    ridge = np.zeros((h, w), bool)
    quarter = ((angle.astype(np.int32) * 4 + ANGLES // 2) // ANGLES) % 4  # 0, 45, 90, 135 degrees
    for q, (dx, dy) in enumerate(((0, 1), (-1, 1), (1, 0), (1, 1))):  # across the line
        a1 = pad[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        a2 = pad[1 - dy:1 - dy + h, 1 - dx:1 - dx + w]
        ridge |= (quarter == q) & (best >= a1) & (best >= a2)
    ridge &= strong
    window = (DENSITY_WINDOW // 2) | 1
    clutter = cv2.blur(ridge.astype(np.float32), (window, window)) * window
    parallel = np.zeros((h, w), np.float32)
    for i in range(ANGLES):
        near = np.zeros(ANGLES, bool)
        near[[(i - 1) % ANGLES, i, (i + 1) % ANGLES]] = True
        density = cv2.blur((ridge & near[angle]).astype(np.float32), (window, window))
        np.copyto(parallel, density, where=angle == i)
    return parallel * window, clutter


@dataclass(frozen=True)
class _Around:
    """Maps read per candidate pixel (all but ``side_gap`` at half resolution)."""

    side_gap: np.ndarray  # full resolution: difference between the two sides of the best line, over the level
    parallel: np.ndarray  # lines of about this orientation crossing the window
    clutter: np.ndarray  # lines of any orientation crossing the window
    width: int  # of the half-resolution maps
    angle: np.ndarray  # index of the best line orientation


@dataclass(frozen=True)
class Tuning:
    """Thresholds at sensitivity 0.5, in units of the local texture level."""

    line: float = 4.0  # a scratch must reach this line score somewhere
    evidence: float = 7.5  # ... and average this much along its length, x (length / min) ** length_power,
    length_power: float = 0.5  # (longer lines may be fainter)
    side_gap: float = 0.15  # ... x exp(-side gap / this): sides that differ (an edge) count against
    gap_floor: float = 1.0  # side differences up to this count as texture, not an edge
    spot: float = 6.5  # a speck: geometric mean of its spot score and its contrast to the median
    grow: float = 2.5  # pixels joined into candidates (any sensitivity)
    pixel: float = 1.0  # ... must also stand out from a median this much
    paired: float = 1.5  # mean opposite contrast beside it that marks an edge or groove
    min_length: float = 4.0  # scratches: this many max widths long count in full
    short: float = 0.5  # ... and shorter ones down to this share of it (fibres), with less evidence
    strong: float = 2.5  # line score of a pixel that counts as a line around a candidate
    context: float = 3.5  # lines of about its orientation crossing its window that mark real detail
    clutter: float = 5.0  # lines of any orientation crossing its window that mark real detail
    speck_slack: float = 1.0  # a speck's crowding limits grow with (score / its bar) to this power
    hysteresis: float = 0.6  # pieces of a kept scratch's chain need only this share of its bar
    link: int = 2  # half-res pixels: a scratch's length is measured over gaps this long along it


TUNING = Tuning()


@dataclass(frozen=True)
class Candidates:
    """Connected candidates of one polarity and what ``propose`` thresholds per label."""

    labels: np.ndarray  # int32 (H, W), 0 = none
    line_peak: np.ndarray  # per label; -1 where the label cannot be a scratch
    evidence: np.ndarray  # mean line score x sqrt(length / minimum length)
    spot_peak: np.ndarray  # per label; -1 where the label cannot be a speck
    side_gap: np.ndarray  # mean difference between its two sides (beyond texture) over its mean line score
    contrast: np.ndarray  # mean contrast against the median around it
    context: np.ndarray  # lines of about its orientation crossing the window around it (itself included)
    clutter: np.ndarray  # lines of any orientation crossing the window around it
    chain: np.ndarray  # the chain of pieces (of one scratch) it belongs to


def propose(analysis: DamageAnalysis, sensitivity: float = DEFAULT_SENSITIVITY,
            tuning: Tuning = TUNING) -> np.ndarray:
    """The damage mask (bool, H x W) at one sensitivity (0: only the obvious, 1: eager).

    Candidates are fixed per photo, so a higher sensitivity only ever adds to the mask."""
    check_params(sensitivity, analysis.max_width)
    f = 0.5 ** (2 * (sensitivity - 0.5))  # thresholds x2 at 0, x0.5 at 1
    mask = np.zeros(analysis.pixel.shape, bool)
    for c in analysis.candidates:
        # how far each clears its bar (1: just)
        line_margin = np.where(c.line_peak >= tuning.line * f,
                               c.evidence * np.exp(-c.side_gap / tuning.side_gap) / (tuning.evidence * f), 0)
        speck_margin = np.sqrt(np.maximum(c.spot_peak, 0) * np.maximum(c.contrast, 0)) / (tuning.spot * f)
        slack = f ** -0.25  # crowding limits
        speck_slack = slack * np.maximum(speck_margin, 1) ** tuning.speck_slack
        calm = (c.context <= tuning.context * slack) & (c.clutter <= tuning.clutter * slack)
        keep = (line_margin >= 1) & calm
        if tuning.hysteresis < 1 and keep.any():  # fainter pieces of a chain holding a scratch
            chain_on = np.zeros(int(c.chain.max()) + 1, bool)
            chain_on[c.chain[keep]] = True
            keep |= (line_margin >= tuning.hysteresis) & chain_on[c.chain] & calm
        keep |= (speck_margin >= 1) & (c.context <= tuning.context * speck_slack) & (
            c.clutter <= tuning.clutter * speck_slack)
        keep[0] = False
        if keep.any():
            mask |= keep[c.labels]
    if mask.any():
        mask = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return mask


def _candidates(a: DamageAnalysis, sign: int, around: _Around, t: Tuning = TUNING) -> Candidates:
    """Label one polarity's candidates and measure each (per-label arrays for ``propose``).

    Only candidate pixels (and a ring around them) are read after labelling."""
    if sign > 0:
        grow = (a.pixel > t.pixel) & ((a.line > t.grow) | (a.spot > t.grow))
    else:
        grow = (a.pixel < -t.pixel) & ((a.line < -t.grow) | (a.spot < -t.grow))
    grow = grow.view(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grow, connectivity=8)
    idx = np.flatnonzero(grow)
    lab = labels.ravel()[idx]
    ys, xs = np.divmod(idx, a.pixel.shape[1])
    at_half = (ys // 2) * around.width + xs // 2

    def total(values: np.ndarray, at: np.ndarray = idx, by: np.ndarray = lab) -> np.ndarray:
        return np.bincount(by, weights=values.ravel()[at], minlength=count)

    def peak(values: np.ndarray) -> np.ndarray:
        out = np.full(count, -np.inf, np.float32)
        np.maximum.at(out, lab, values.ravel()[idx])
        return out

    area = np.maximum(stats[:, cv2.CC_STAT_AREA], 1).astype(np.float64)
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    length = np.hypot(w, h)  # bbox diagonal
    min_length = t.min_length * max(a.max_width, 3)
    # thick: a square wider than max_width fits inside (a shape of the photo, not damage)
    side = a.max_width + 3
    core = cv2.erode(grow, cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)))
    thick = total(core) > 0.05 * area
    # paired: strong opposite contrast right beside it (an edge or groove, not a scratch)
    ring_labels = cv2.dilate(labels.astype(np.float32), np.ones((5, 5), np.uint8))
    ring = np.flatnonzero((ring_labels > 0) & (grow == 0))
    ring_lab = ring_labels.ravel()[ring].astype(np.int64)
    ring_n = np.maximum(np.bincount(ring_lab, minlength=count), 1)
    opposite = np.maximum(-sign * a.pixel.ravel()[ring], 0)
    paired = np.bincount(ring_lab, weights=opposite, minlength=count) / ring_n > t.paired
    usable = ~thick & ~paired
    # scratches: long, and thin all along (not a network of lines; bbox allows for bends)
    scratch = usable & (length >= t.short * min_length) & (area / np.maximum(length, 1) <= 2 * (a.max_width + 2))
    speck = usable & (np.maximum(w, h) <= 2 * a.max_width + 2) & (area >= 2)
    line = a.line if sign > 0 else -a.line
    line_sum = total(line)
    line_peak = np.where(scratch, peak(line), -1)
    # pieces of one scratch (broken where it fades or crosses detail) are judged by the
    # length of the chain they form with pieces of their polarity a few pixels away
    if t.link:  # at half resolution: a half-res pixel touched by the candidate, grown by one
        hh, hw = around.angle.shape
        touched = (cv2.resize(grow, (hw, hh), interpolation=cv2.INTER_AREA) > 0).view(np.uint8)
        near = cv2.dilate(touched, np.ones((3, 3), np.uint8))
        # ... and along its line both ways
        quarter = ((around.angle.astype(np.int32) * 4 + ANGLES // 2) // ANGLES) % 4
        r = int(t.link)
        for q, (dx, dy) in enumerate(((1, 0), (1, 1), (0, 1), (-1, 1))):
            along = _points_kernel([(k * dx, k * dy) for k in range(-r, r + 1)])
            near |= cv2.dilate(touched * (quarter == q), along)
        _, chains, chain_stats, _ = cv2.connectedComponentsWithStats(near, connectivity=8)
        chain_length = 2 * np.hypot(chain_stats[:, cv2.CC_STAT_WIDTH], chain_stats[:, cv2.CC_STAT_HEIGHT])
        chain = np.zeros(count, np.int64)
        np.maximum.at(chain, lab, chains.ravel()[at_half])
        length_for_evidence = np.maximum(length, chain_length[chain])
    else:
        length_for_evidence, chain = length, np.arange(count)
    evidence = line_sum / area * (length_for_evidence / min_length) ** t.length_power
    spot_peak = np.where(speck, peak(a.spot if sign > 0 else -a.spot), -1)
    contrast = sign * total(a.pixel) / area
    # what lies around: read from the half-resolution maps at each candidate pixel
    gap = total(np.maximum(around.side_gap.ravel()[idx] - t.gap_floor, 0), np.arange(idx.size))
    side_gap = gap / area / np.maximum(line_sum / area, 0.1)
    context = total(around.parallel, at_half) / area
    clutter = total(around.clutter, at_half) / area
    return Candidates(labels, line_peak, evidence, spot_peak, side_gap, contrast, context, clutter, chain)


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
