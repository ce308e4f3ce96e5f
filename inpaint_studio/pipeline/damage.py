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
samples on a ring all around. Pixels standing out clearly from a median wider than
``max_width`` (``Tuning.pixel``) with a modest line or speck score (``Tuning.grow``) are
joined into candidates (one polarity each): the bar is low, so that a dark scratch over
dark busy ground, whose line score is weak there, still becomes one; the classifier
drops the grain and detail this lets in. A candidate can be damage when it is thin all
along or small, has no square wider than ``max_width`` inside, and no strong opposite
contrast beside it (a groove by an edge).

Which of those are damage is learned: each is measured (``FEATURES``: size, length,
width, the chain its pieces form along the line, line and speck scores, contrast, how
much its two sides differ, how many other lines of its orientation and of any cross the
window around it, how many candidates crowd it, the texture level, the luminance
around it, its opacity (how far from what surrounds it towards white or black it goes:
a scratch bares the paper or prints black, dust is opaque, real detail seldom goes that
far), how far it goes past the photo's own lightest or darkest print, how much it
changes along its line, and its profile across its line out to twice its maximum width:
how far it stands out from each distance and how much its two sides differ there, since a
rim, fold or highlight belongs to a wider shape) and a small perceptron
(``Classifier``, numpy, a few KB in ``resources/damage_classifier.npz``) gives a logit;
then a photo prior (a smaller perceptron over that logit and the photo's density of
confident candidates, ``Classifier.final``) raises doubtful candidates on a photo strewn
with clear dust and scratches, where damage is likelier, and never lowers one (a lone faint
scratch on an otherwise clean print is judged on its own); the sensitivity moves the bar on
the result, and on such a strewn photo the bar is lower too (``Classifier.busy``,
``Classifier.drop``: there a miss costs the user more than a stray fill). A kept candidate
that is confident on its own also vouches for pieces of line a little below the plain bar
(``CHAIN_MARGIN``) that lie along its line within ``CHAIN_REACH`` max widths: the faint or
broken stretches of a clear scratch. ``scripts/train_damage.py`` trains both on synthetic
damage (``benchmarks/oldphoto.py``, and straight faint scratches) on photos the benchmark
does not use, made old and as they are (no grain), and on those photos clean (some with
text, ruled lines or brickwork added); ``benchmarks/bench_damage.py`` measures it
(``--stages``: where missed damage is lost).
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
CROWD_WINDOW = 31  # half-res pixels: where many candidates mark busy real detail
LEVEL_FLOOR = 0.012  # contrast unit on grain-free photos (about 3 of 255 levels)


@dataclass(frozen=True)
class DamageAnalysis:
    """Per-photo scores, thresholded by ``propose`` (float32, H x W, signed: + bright)."""

    line: np.ndarray  # oriented-line contrast over its local level
    spot: np.ndarray  # small-blob contrast over its local level
    pixel: np.ndarray  # per-pixel contrast over its local level (mask shape)
    max_width: int
    angle: np.ndarray  # uint8, half resolution: index of the best line orientation
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
    del bright, dark, b, dk
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
    a = DamageAnalysis(line, spot, pixel, int(max_width), angle)
    # around each line: how many lines of its orientation (of any) cross a window
    level_half = cv2.resize(level, (half.shape[1], half.shape[0]), interpolation=cv2.INTER_AREA)
    parallel, clutter = _line_density(best, angle, best > t.strong * level_half)
    gap = cv2.resize(gap, (w, h), interpolation=cv2.INTER_LINEAR)
    gap *= inv
    dim, light = (float(v) for v in np.percentile(half[::4, ::4], (2, 98)))  # the photo's print range
    around = _Around(gap, parallel, clutter, half.shape[1], angle, level, background, dim, light, g, c0)
    bright = _candidates(a, 1, around, t)
    report(0.85)
    pair = (bright, _candidates(a, -1, around, t))
    m = classifier()
    scores = _final_scores(m, [c.first for c in pair], g.size)
    out = dataclasses.replace(a, candidates=tuple(dataclasses.replace(c, score=s) for c, s in zip(pair, scores)))
    report(1.0)
    return out


def _first_logits(m: "Classifier", features: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """The candidate classifier's logit per label (-inf where not eligible)."""
    first = np.full(len(eligible), -np.inf, np.float32)
    if eligible.any():
        first[eligible] = m.logit(features[eligible])
    return first


def _final_scores(m: "Classifier", firsts: list, pixels: int) -> list:
    """Final logits of each polarity's candidates from their own (``first``, -inf where not
    eligible) and the photo's density of confident ones (``Classifier.final``)."""
    density = m.density(firsts, pixels)
    out = []
    for first in firsts:
        score = np.full(len(first), -np.inf, np.float32)
        ok = np.isfinite(first)
        if ok.any():
            score[ok] = m.final(first[ok], density)
        out.append(score)
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
    """Maps read per candidate pixel (all but ``side_gap`` and ``level`` at half resolution)."""

    side_gap: np.ndarray  # full resolution: difference between the two sides of the best line, over the level
    parallel: np.ndarray  # lines of about this orientation crossing the window
    clutter: np.ndarray  # lines of any orientation crossing the window
    width: int  # of the half-resolution maps
    angle: np.ndarray  # index of the best line orientation
    level: np.ndarray  # full resolution: the local texture level (contrast units)
    ground: np.ndarray  # uint8: the median around (wider than a scratch)
    dim: float  # the photo's 2nd and 98th luminance percentiles (its darkest and lightest print)
    light: float
    grey: np.ndarray  # full resolution: the luminance
    soft: np.ndarray  # full resolution: the luminance a little blurred (sigma 1 px)


@dataclass(frozen=True)
class Tuning:
    """How candidates are grown and measured (the keep/drop decision is learned: see ``classifier``)."""

    grow: float = 1.5  # line or speck score (over the texture level) of pixels joined into candidates
    pixel: float = 2.0  # ... which must also stand out from a median this much
    paired: float = 1.5  # mean opposite contrast beside a candidate that marks an edge or groove
    min_length: float = 4.0  # lengths are measured in this many max widths
    strong: float = 2.5  # line score of a pixel that counts as a line around a candidate
    link: int = 2  # half-res pixels: a scratch's chain is followed over gaps this long along it


TUNING = Tuning()

# What is measured of each candidate: the classifier's inputs, in this order. Lengths are in
# units of the minimum scratch length (``Tuning.min_length`` max widths), scores in units
# of the local texture level.
FEATURES = (
    "polarity",  # +1 bright, -1 dark
    "area",  # pixels, over (max width / its default) squared
    "length",  # bounding-box diagonal
    "width",  # area over length, over max width
    "chain_length",  # of the chain its pieces form along the line, a few pixels apart
    "chain_area",  # pixels of candidates in that chain
    "chain_line",  # mean line score over that chain
    "thick",  # share of it inside a square wider than max width
    "paired",  # mean opposite contrast on a ring beside it (an edge or groove)
    "line_mean",  # mean line score
    "line_peak",
    "spot_mean",  # mean speck score
    "spot_peak",
    "contrast",  # mean contrast against the median around it
    "contrast_peak",
    "side_gap",  # mean difference between the two sides of its line (beyond texture) over line_mean
    "gap_mean",  # the same difference, not divided
    "context",  # lines of about its orientation crossing the window around it (itself included)
    "clutter",  # lines of any orientation crossing the window around it
    "level",  # log of the texture level around it (absolute: grain, paper, busy detail)
    "crowd",  # share of the half-res pixels in a 31 x 31 window around it that hold candidates (itself too)
    "ground",  # the luminance of the median around it
    "opacity",  # mean share of the way from the median around it to white (bright) or black (dark)
    "opacity_peak",
    "beyond",  # how far its extreme luminance goes past the photo's lightest (darkest) print
    "rough",  # mean change along its line (2 px either way), over the texture level
    # its profile across its line at 4 distances (2, 4, 8 and 12 px at the default max width:
    # ACROSS times (max width + 2) / 2): how far it stands out from both sides there, and how
    # much the two sides differ (a scratch stands alone on its ground; a rim, fold or
    # highlight belongs to a wider shape)
    "across_1", "across_2", "across_3", "across_4",
    "split_1", "split_2", "split_3", "split_4",
)
ACROSS = (0.5, 1.0, 2.0, 3.0)
CLASSIFIER_FILE = "damage_classifier.npz"
# The photo prior's inputs: a candidate's logit and the photo's density of confident candidates
PRIOR_INPUTS = ("logit", "density")
CHAIN_MARGIN = 3.5  # logit: how far below the plain bar (no drop) a candidate near a confident kept one may score ...
CHAIN_REACH = 3.0  # ... and how near (in max widths: 18 px at the default) along its line, if it is
CHAIN_PIECE = 0.5  # ... a piece of line at least this long (in minimum scratch lengths: 12 px), not a speck
LENGTH = FEATURES.index("length")


@dataclass(frozen=True)
class Candidates:
    """Connected candidates of one polarity: per label, what was measured and its score."""

    labels: np.ndarray  # int32 (H, W), 0 = none
    features: np.ndarray  # float32 (labels, len(FEATURES)); row 0 (background) unused
    eligible: np.ndarray  # bool per label: thin, or small, and not beside an edge (row 0 False)
    score: np.ndarray  # final logit per label (damage if above the sensitivity's bar; -inf if not eligible)
    first: np.ndarray  # the candidate classifier's own logit (before the photo prior)


@dataclass(frozen=True)
class Classifier:
    """A small multilayer perceptron over the (transformed, standardised) features.

    Trained by ``scripts/train_damage.py`` on synthetic damage on photos that
    ``benchmarks/bench_damage.py`` does not use; stored in ``resources/damage_classifier.npz``."""

    features: tuple  # names, must equal FEATURES
    low: np.ndarray  # transformed features are clipped to the range seen in training
    high: np.ndarray
    mean: np.ndarray  # of the transformed features
    scale: np.ndarray
    layers: tuple  # ((W, b), ...): tanh between, a logit out
    bar: float  # logit bar at the default sensitivity
    spread: float  # the bar moves by this much per unit of sensitivity (down: more found)
    prior: Optional["Classifier"] = None  # over PRIOR_INPUTS: the final logit given the photo's evidence
    strong: float = 4.0  # candidate logit that counts as confident damage for the prior's density
    busy: float = float("inf")  # density at which a photo counts as strewn with damage ...
    drop: float = 0.0  # ... where the bar is this much lower (a miss costs more there)

    def logit(self, features: np.ndarray) -> np.ndarray:
        x = (np.clip(transform(features), self.low, self.high) - self.mean) / self.scale
        for i, (w, b) in enumerate(self.layers):
            x = x @ w + b
            if i < len(self.layers) - 1:
                x = np.tanh(x)
        return x[:, 0].astype(np.float32)

    def bar_at(self, sensitivity: float, density: float = 0.0) -> float:
        """The logit bar at ``sensitivity`` on a photo with this density of confident damage
        (``density``): ``drop`` lower from ``busy`` on."""
        bar = self.bar - self.spread * (float(sensitivity) - DEFAULT_SENSITIVITY)
        return bar - self.drop if density >= self.busy else bar

    def density(self, logits: list, pixels: int) -> float:
        """The photo's evidence of damage: log(1 + confident candidates per megapixel)."""
        confident = sum(int(np.count_nonzero(np.asarray(x) >= self.strong)) for x in logits)
        return float(np.log1p(confident / max(pixels / 1e6, 1e-6)))

    def final(self, logit: np.ndarray, density: float) -> np.ndarray:
        """Candidate logits (finite) given the photo's density of confident damage: the
        prior's where it is higher (other damage vouches for a doubtful candidate), never
        lower (a photo without other damage judges each candidate on its own: a lone scratch)."""
        logit = np.asarray(logit, np.float32)
        if self.prior is None or not len(logit):
            return logit
        x = np.stack([logit.astype(np.float64), np.full(len(logit), density)], 1)
        return np.maximum(logit, self.prior.logit(x))

    def _arrays(self, prefix: str = "") -> dict:
        arrays = {f"{prefix}w{i}": w for i, (w, _b) in enumerate(self.layers)}
        arrays.update({f"{prefix}b{i}": b for i, (_w, b) in enumerate(self.layers)})
        named = {"features": np.array(self.features), "low": self.low, "high": self.high,
                 "mean": self.mean, "scale": self.scale}
        arrays.update({prefix + k: v for k, v in named.items()})
        return arrays

    def save(self, path) -> None:
        arrays = self._arrays()
        if self.prior is not None:
            arrays.update(self.prior._arrays("prior_"))
        np.savez_compressed(path, bar=np.float64(self.bar), spread=np.float64(self.spread),
                            strong=np.float64(self.strong), busy=np.float64(self.busy), drop=np.float64(self.drop),
                            **arrays)

    @classmethod
    def _from(cls, z, prefix: str = "", bar: float = 0.0, spread: float = 1.0) -> "Classifier":
        n = sum(1 for k in z.files if k.startswith(prefix + "w") and k[len(prefix) + 1:].isdigit())
        layers = tuple((z[f"{prefix}w{i}"].astype(np.float64), z[f"{prefix}b{i}"].astype(np.float64))
                       for i in range(n))
        return cls(tuple(str(f) for f in z[prefix + "features"]), z[prefix + "low"].astype(np.float64),
                   z[prefix + "high"].astype(np.float64), z[prefix + "mean"].astype(np.float64),
                   z[prefix + "scale"].astype(np.float64), layers, bar, spread)

    @classmethod
    def load(cls, path) -> "Classifier":
        with np.load(path) as z:
            out = cls._from(z, "", float(z["bar"]), float(z["spread"]))
            if "prior_features" in z.files:
                out = dataclasses.replace(out, prior=cls._from(z, "prior_"), strong=float(z["strong"]))
            if "busy" in z.files:
                out = dataclasses.replace(out, busy=float(z["busy"]), drop=float(z["drop"]))
        if out.features != FEATURES:
            raise ValueError(f"{path}: classifier features {out.features} differ from the detector's")
        if out.prior is not None and out.prior.features != PRIOR_INPUTS:
            raise ValueError(f"{path}: prior inputs {out.prior.features} differ from {PRIOR_INPUTS}")
        return out


def transform(features: np.ndarray) -> np.ndarray:
    """Features as the classifier sees them: signed log, so that heavy tails do not rule."""
    f = np.asarray(features, np.float64)
    return np.sign(f) * np.log1p(np.abs(f))


_classifier: Optional[Classifier] = None


def classifier() -> Classifier:
    """The bundled classifier, loaded on first use."""
    global _classifier
    if _classifier is None:
        from inpaint_studio.paths import RESOURCES
        _classifier = Classifier.load(RESOURCES / CLASSIFIER_FILE)
    return _classifier


def propose(analysis: DamageAnalysis, sensitivity: float = DEFAULT_SENSITIVITY,
            model: Optional[Classifier] = None) -> np.ndarray:
    """The damage mask (bool, H x W) at one sensitivity (0: only the obvious, 1: eager).

    A candidate is kept when its final logit clears the sensitivity's bar. On a photo
    strewn with clear damage (its density of confident candidates at least
    ``Classifier.busy``) that bar is ``Classifier.drop`` lower: there a miss costs the user
    more than a stray fill. A candidate also is kept when it clears the plain bar less
    ``CHAIN_MARGIN`` (on any photo) within ``CHAIN_REACH`` max widths of a kept candidate that
    is confident on its own (``Classifier.strong``): the rest of a clear scratch, its faint
    or busy stretches and broken pieces. Candidates, their scores and the density are fixed
    per photo and the bar only falls as the sensitivity rises, so a higher sensitivity only
    ever adds to the mask. ``model``: another classifier than the one ``analyse`` scored
    with (training, experiments)."""
    check_params(sensitivity, analysis.max_width)
    m = model or classifier()
    if model is None:
        firsts = [c.first for c in analysis.candidates]
        scores = [c.score for c in analysis.candidates]
    else:
        firsts = [_first_logits(m, c.features, c.eligible) for c in analysis.candidates]
        scores = _final_scores(m, firsts, analysis.pixel.size)
    bar = m.bar_at(sensitivity, m.density(firsts, analysis.pixel.size))
    floor = m.bar_at(sensitivity) - CHAIN_MARGIN  # what a clear scratch vouches for, on any photo
    mask = np.zeros(analysis.pixel.shape, bool)
    anchor = np.zeros(analysis.pixel.shape, bool)
    for c, first, score in zip(analysis.candidates, firsts, scores):
        keep = score >= bar
        keep[0] = False
        if keep.any():
            mask |= keep[c.labels]
            sure = keep & (first >= m.strong)
            if sure.any():
                anchor |= sure[c.labels]
    if anchor.any():
        near = _along(anchor, analysis.angle, int(round(CHAIN_REACH * analysis.max_width)))
        for c, score in zip(analysis.candidates, scores):
            weak = (score >= floor) & (score < bar) & (c.features[:, LENGTH] >= CHAIN_PIECE)
            weak[0] = False
            if weak.any():
                vouched = np.zeros(len(weak), bool)
                vouched[c.labels[near.view(bool)]] = True
                weak &= vouched
                if weak.any():
                    mask |= weak[c.labels]
    if mask.any():
        mask = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return mask


def _along(anchor: np.ndarray, angle: np.ndarray, reach: int) -> np.ndarray:
    """uint8 mask: within ``reach`` pixels of ``anchor`` along its lines (each half-res pixel
    of it extended both ways in its own best line orientation, give or take a pixel), where
    the rest of a scratch lies."""
    h, w = anchor.shape
    hh, hw = angle.shape
    half = cv2.resize(anchor.view(np.uint8), (hw, hh), interpolation=cv2.INTER_AREA) > 0
    r = max(1, (reach + 1) // 2)
    out = np.zeros((hh, hw), np.uint8)
    for i in np.unique(angle[half]):
        t = np.pi * int(i) / ANGLES
        dx, dy = int(round(r * np.cos(t))), int(round(r * np.sin(t)))
        k = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
        cv2.line(k, (r - dx, r - dy), (r + dx, r + dy), 1, 1)
        out |= cv2.dilate((half & (angle == i)).view(np.uint8), k)
    out = cv2.dilate(out, np.ones((3, 3), np.uint8))
    return cv2.resize(out, (w, h), interpolation=cv2.INTER_NEAREST)


def _candidates(a: DamageAnalysis, sign: int, around: _Around, t: Tuning = TUNING) -> Candidates:
    """Label one polarity's candidates, measure each (``FEATURES``) and score it.

    Only candidate pixels (and a ring around them) are read after labelling."""
    pixel, line, spot = (a.pixel, a.line, a.spot) if sign > 0 else (-a.pixel, -a.line, -a.spot)
    grow = (pixel > t.pixel) & ((line > t.grow) | (spot > t.grow))
    grow = grow.view(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grow, connectivity=8)
    idx = np.flatnonzero(grow)
    lab = labels.ravel()[idx]
    ys, xs = np.divmod(idx, a.pixel.shape[1])
    at_half = (ys // 2) * around.width + xs // 2

    def total(values: np.ndarray, at: Optional[np.ndarray] = idx, by: np.ndarray = lab) -> np.ndarray:
        v = values if at is None else values.ravel()[at]
        return np.bincount(by, weights=v, minlength=count)

    def peak(values: np.ndarray) -> np.ndarray:
        out = np.full(count, -np.inf, np.float32)
        np.maximum.at(out, lab, values.ravel()[idx])
        out[0] = 0
        return out

    area = np.maximum(stats[:, cv2.CC_STAT_AREA], 1).astype(np.float64)
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    unit = t.min_length * max(a.max_width, 3)  # lengths in minimum scratch lengths
    length = np.hypot(w, h)  # bbox diagonal
    # thick: a square wider than max_width fits inside (a shape of the photo, not damage)
    side = a.max_width + 3
    core = cv2.erode(grow, cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)))
    thick = total(core) / area
    # paired: opposite contrast right beside it (an edge or groove, not a scratch)
    ring_labels = cv2.dilate(labels.astype(np.float32), np.ones((5, 5), np.uint8))
    ring = np.flatnonzero((ring_labels > 0) & (grow == 0))
    ring_lab = ring_labels.ravel()[ring].astype(np.int64)
    ring_n = np.maximum(np.bincount(ring_lab, minlength=count), 1)
    opposite = np.maximum(-sign * a.pixel.ravel()[ring], 0)
    paired = np.bincount(ring_lab, weights=opposite, minlength=count) / ring_n
    line_sum = total(line)
    # pieces of one scratch (broken where it fades or crosses detail) form a chain with
    # pieces of their polarity a few pixels away, at half resolution: a half-res pixel
    # touched by the candidate, grown by one ...
    hh, hw = around.angle.shape
    touched = (cv2.resize(grow, (hw, hh), interpolation=cv2.INTER_AREA) > 0).view(np.uint8)
    near = cv2.dilate(touched, np.ones((3, 3), np.uint8))
    # ... and along its line both ways
    quarter = ((around.angle.astype(np.int32) * 4 + ANGLES // 2) // ANGLES) % 4
    r = int(t.link)
    for q, (dx, dy) in enumerate(((1, 0), (1, 1), (0, 1), (-1, 1))):
        along = _points_kernel([(k * dx, k * dy) for k in range(-r, r + 1)])
        near |= cv2.dilate(touched * (quarter == q), along)
    n_chains, chains, chain_stats, _ = cv2.connectedComponentsWithStats(near, connectivity=8)
    chain_length = 2 * np.hypot(chain_stats[:, cv2.CC_STAT_WIDTH], chain_stats[:, cv2.CC_STAT_HEIGHT])
    chain = np.zeros(count, np.int64)
    np.maximum.at(chain, lab, chains.ravel()[at_half])
    chain_area = np.bincount(chain[1:], weights=area[1:], minlength=n_chains)
    chain_line = np.bincount(chain[1:], weights=line_sum[1:], minlength=n_chains) / np.maximum(chain_area, 1)
    line_mean = line_sum / area
    gap_mean = total(np.maximum(around.side_gap.ravel()[idx] - 1.0, 0), None) / area
    # opacity: scratches bare the white paper or print black, dust is opaque; real detail
    # seldom goes that far from what surrounds it
    ground = around.ground.ravel()[at_half].astype(np.float32) * np.float32(1 / 255)
    raw = pixel.ravel()[idx] * around.level.ravel()[idx]  # contrast in luminance units
    headroom = np.maximum(1 - ground if sign > 0 else ground, 0.05)
    opacity = raw / headroom
    opacity_peak = np.full(count, -np.inf, np.float32)
    np.maximum.at(opacity_peak, lab, opacity)
    opacity_peak[0] = 0
    lum = ground + sign * raw
    beyond = np.full(count, -np.inf, np.float32)
    np.maximum.at(beyond, lab, sign * (lum - (around.light if sign > 0 else around.dim)))
    beyond[0] = 0
    # rough: how much it changes along its line (a scratch keeps its tone; specks, knots and
    # broken detail do not)
    step = around.angle.ravel()[at_half].astype(np.float32) * np.float32(np.pi / ANGLES)
    sx, sy = np.rint(2 * np.cos(step)).astype(np.int64), np.rint(2 * np.sin(step)).astype(np.int64)
    hgt, wid = a.pixel.shape
    grey = around.grey
    ahead = grey[np.clip(ys + sy, 0, hgt - 1), np.clip(xs + sx, 0, wid - 1)]
    behind = grey[np.clip(ys - sy, 0, hgt - 1), np.clip(xs - sx, 0, wid - 1)]
    rough = np.abs(grey[ys, xs] - 0.5 * (ahead + behind)) / around.level.ravel()[idx]
    del ahead, behind
    # what the classifier judges: thin all along (a bounding box allows for bends) or small,
    # with no square wider than max_width inside, and no strong opposite contrast beside
    usable = (thick <= 0.05) & (paired <= t.paired)
    scratch = (length >= 0.5 * unit) & (area / np.maximum(length, 1) <= 2 * (a.max_width + 2))
    speck = (np.maximum(w, h) <= 2 * a.max_width + 2) & (area >= 2)
    eligible = usable & (scratch | speck)
    eligible[0] = False
    # across its line, from its middle (its pixels deepest inside it, so that a wide one is
    # seen from its centre line): the (blurred) luminance at distance k either side
    depth = cv2.distanceTransform(grow, cv2.DIST_L2, 3).ravel()[idx]
    deepest = np.zeros(count, np.float32)
    np.maximum.at(deepest, lab, depth)
    mid = (depth >= deepest[lab] - 0.75) & eligible[lab]  # (only what the classifier judges)
    lab_m, ys_m, xs_m = lab[mid], ys[mid], xs[mid]
    mid_n = np.maximum(np.bincount(lab_m, minlength=count), 1)
    nx, ny = -np.sin(step[mid]), np.cos(step[mid])
    soft = around.soft
    here = soft[ys_m, xs_m]
    inv_level = 1 / around.level.ravel()[idx[mid]]
    across = {}
    for j, f in enumerate(ACROSS, 1):
        k = f * (a.max_width + 2) / 2
        dx, dy = np.rint(k * nx).astype(np.int64), np.rint(k * ny).astype(np.int64)
        one = soft[np.clip(ys_m + dy, 0, hgt - 1), np.clip(xs_m + dx, 0, wid - 1)]
        two = soft[np.clip(ys_m - dy, 0, hgt - 1), np.clip(xs_m - dx, 0, wid - 1)]
        stand = sign * (here - 0.5 * (one + two)) * inv_level
        across[f"across_{j}"] = np.bincount(lab_m, weights=stand, minlength=count) / mid_n
        across[f"split_{j}"] = np.bincount(lab_m, weights=np.abs(one - two) * inv_level, minlength=count) / mid_n
    columns = {
        "polarity": np.full(count, float(sign)),
        "area": area * (DEFAULT_MAX_WIDTH / a.max_width) ** 2,
        "length": length / unit,
        "width": area / np.maximum(length, 1) / a.max_width,
        "chain_length": np.maximum(length, chain_length[chain]) / unit,
        "chain_area": chain_area[chain] * (DEFAULT_MAX_WIDTH / a.max_width) ** 2,
        "chain_line": chain_line[chain],
        "thick": thick,
        "paired": paired,
        "line_mean": line_mean,
        "line_peak": peak(line),
        "spot_mean": total(spot) / area,
        "spot_peak": peak(spot),
        "contrast": total(pixel) / area,
        "contrast_peak": peak(pixel),
        "side_gap": gap_mean / np.maximum(line_mean, 0.1),
        "gap_mean": gap_mean,
        "context": total(around.parallel, at_half) / area,
        "clutter": total(around.clutter, at_half) / area,
        "level": np.log(np.maximum(total(around.level) / area, 1e-6)),
        "crowd": total(cv2.blur(touched.astype(np.float32), (CROWD_WINDOW, CROWD_WINDOW)), at_half) / area,
        "ground": total(around.ground, at_half) / area / 255,
        "opacity": total(opacity, None) / area,
        "opacity_peak": opacity_peak,
        "beyond": beyond,
        "rough": total(rough, None) / area,
        **across,
    }
    features = np.stack([columns[name] for name in FEATURES], axis=1).astype(np.float32)
    features[0] = 0
    first = _first_logits(classifier(), features, eligible)
    return Candidates(labels, features, eligible, first, first)


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
