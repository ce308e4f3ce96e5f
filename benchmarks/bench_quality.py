"""Fill quality on real photos: our PatchMatch with the CLI's defaults vs the free peers.

Photos: gathered with ``scripts/gather_photos.py --out data/photos`` (Debian wallpaper and
landscape packages, scikit-image samples), shrunk to 512 px on the long side. Holes, seeded
per photo and kind:

  strokes   3-6 brush strokes, 10-28 px wide          passer    a person's silhouette
  scratch   4-9 thin curves, 1-4 px wide               wide      15-35 % of the photo
  border    an object silhouette touching the border   line      a blob on the photo's
  line+sk   the same, with the long true edges inside the hole traced as a sketch (one centre
            line per edge or thin line, as a user draws them)          longest edge

Methods (each on the whole photo, in this process, one after the other):
  ours      inpaint_studio's run_fill with the fill command's defaults (feather, hires,
            colour match, engine parameters), as ``inpaint-studio fill`` runs it
  pypm      pypatchmatch (``patch_match.inpaint``, its default patch size 15)
  pmcy      patchmatch-cython (``inpaint_pyramid`` with its defaults)

Per kind: mean hole PSNR (dB) and L1 (0-255) against the true pixels, sharpness (mean
|Laplacian| of the fill in the hole / of the truth), seam (mean |Laplacian| on the hole's
outline ring, fill / truth: > 1 is a visible edge), max change outside the hole (levels)
and seconds per fill. ``--hires-photo`` adds a >= 4 MP photo (default: the Kite wallpaper
from ``data/photos_big``, gathered with ``--max-side 2800``) with two sky holes, hires
auto vs off vs on. ``--hires-wide N`` adds wide holes (15-35 %) in the first N photos of
that folder at 2000 px (context crops of 2-3 MP, where hires auto's threshold matters): hires
off vs on, means over the photos. A contact sheet (one photo per kind, 100 % crops around the
hole) goes to ``--sheet``.

    python benchmarks/bench_quality.py                  # ~8 min on 2 cores
    python benchmarks/bench_quality.py --photos 4 --kinds wide,line --methods ours,pypm
    python benchmarks/bench_quality.py --set feather=auto   # ours with another fill option
"""
from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = (  # varied content: water, sky, foliage, texture, faces, interiors, fine veins
    "plasma-workspace-wallpapers-BytheWater", "plasma-workspace-wallpapers-FallenLeaf",
    "plasma-workspace-wallpapers-Kite", "plasma-workspace-wallpapers-Path",
    "plasma-workspace-wallpapers-ColorfulCups", "plasma-workspace-wallpapers-EveningGlow",
    "plasma-workspace-wallpapers-OneStandsOut", "lomiri-wallpapers-20.04-Kleiber_by_Lukas_Baubkus",
    "scikit-image-astronaut", "scikit-image-chelsea", "scikit-image-coffee",
    "scikit-image-brick", "stellarium-data-garching-1", "stellarium-data-guereins-2",
    "stellarium-data-hurricane-3",
)
KINDS = ("strokes", "passer", "scratch", "wide", "border", "line", "line+sk")
SIDE = 512


def load_photo(folder: Path, stem: str, side: int = SIDE) -> np.ndarray:
    img = cv2.imread(str(folder / f"{stem}.jpg"), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"missing {folder / stem}.jpg: run scripts/gather_photos.py --out {folder}")
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if side and max(img.shape[:2]) != side:
        f = side / max(img.shape[:2])
        img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img)


# ---- holes ----------------------------------------------------------------------------

def _silhouette(h: int, w: int, rng, height: float, cx: float, base: float) -> np.ndarray:
    """A standing person: head, torso, legs; ``base`` is the feet's y (fraction of h)."""
    m = np.zeros((h, w), np.uint8)
    ph = int(height * h)
    x = int(cx * w)
    feet = int(base * h)
    top = feet - ph
    head = max(3, ph // 14)
    cv2.circle(m, (x, top + head), head, 255, -1)
    cv2.ellipse(m, (x, top + int(ph * 0.36)), (int(ph * 0.12), int(ph * 0.22)), 0, 0, 360, 255, -1)
    lean = int(rng.integers(-ph // 12, ph // 12 + 1))
    for dx in (-1, 1):
        cv2.line(m, (x + dx * ph // 20, top + int(ph * 0.55)), (x + dx * ph // 10 + lean, feet),
                 255, max(2, ph // 14))
        cv2.line(m, (x + dx * int(ph * 0.11), top + int(ph * 0.22)),
                 (x + dx * int(ph * 0.2), top + int(ph * 0.5)), 255, max(2, ph // 20))
    return cv2.dilate(m, np.ones((5, 5), np.uint8)) > 0


def _curve(m, rng, h, w, width):
    pts = [np.array([rng.uniform(0, w), rng.uniform(0, h)])]
    ang = rng.uniform(0, 2 * np.pi)
    for _ in range(int(rng.integers(4, 9))):
        ang += rng.normal(0, 0.35)
        pts.append(pts[-1] + rng.uniform(20, 60) * np.array([np.cos(ang), np.sin(ang)]))
    cv2.polylines(m, [np.array(pts, np.int32)], False, 255, int(width), cv2.LINE_AA)


def _longest_edge(img: np.ndarray):
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(gray, 60, 160)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, 40, minLineLength=60, maxLineGap=4)
    h, w = gray.shape
    best, score = None, -1.0
    for x0, y0, x1, y1 in ([] if lines is None else lines.reshape(-1, 4)):
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        if not (40 < mx < w - 40 and 40 < my < h - 40):
            continue
        length = np.hypot(x1 - x0, y1 - y0)
        if length > score:
            best, score = (mx, my, np.arctan2(y1 - y0, x1 - x0)), length
    return best


def traced_lines(img: np.ndarray, hole: np.ndarray, min_length: int = 20) -> np.ndarray:
    """What a user would draw with the sketch pen: one line along each long edge or thin
    line of the truth inside the hole (Canny edges, a line's two edges closed into one,
    thinned to centre lines; pieces shorter than ``min_length`` px left out)."""
    from inpaint_studio.core.raster import thin_lines

    edges = cv2.Canny(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), 60, 160)
    edges = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    lines = thin_lines(edges > 0) & hole
    n, labels, stats, _ = cv2.connectedComponentsWithStats(lines.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_length
    return keep[labels]


def make_hole(kind: str, img: np.ndarray, seed: int):
    """(hole bool, sketch bool or None); None when the photo has no edge for a line kind."""
    h, w = img.shape[:2]
    rng = np.random.default_rng(seed)
    m = np.zeros((h, w), np.uint8)
    sketch = None
    if kind == "strokes":
        for _ in range(int(rng.integers(3, 7))):
            _curve(m, rng, h, w, rng.integers(10, 29))
    elif kind == "scratch":
        for _ in range(int(rng.integers(4, 10))):
            _curve(m, rng, h, w, rng.integers(1, 5))
    elif kind == "passer":
        return _silhouette(h, w, rng, rng.uniform(0.35, 0.5), rng.uniform(0.3, 0.7),
                           rng.uniform(0.75, 0.92)), None
    elif kind == "border":
        hole = _silhouette(h, w, rng, rng.uniform(0.4, 0.55), rng.choice([0.04, 0.96]), 1.05)
        return hole, None
    elif kind == "wide":
        target = rng.uniform(0.15, 0.35) * h * w
        cy, cx = h * rng.uniform(0.35, 0.65), w * rng.uniform(0.35, 0.65)
        while np.count_nonzero(m) < target:
            ay, ax = rng.uniform(0.08, 0.2) * h, rng.uniform(0.08, 0.2) * w
            oy, ox = rng.normal(0, 0.08 * h), rng.normal(0, 0.08 * w)
            cv2.ellipse(m, (int(cx + ox), int(cy + oy)), (int(ax), int(ay)),
                        float(rng.uniform(0, 180)), 0, 360, 255, -1)
    elif kind in ("line", "line+sk"):
        found = _longest_edge(img)
        if found is None:
            return None, None
        mx, my, ang = found
        r = int(rng.uniform(0.06, 0.1) * max(h, w))
        cv2.ellipse(m, (int(mx), int(my)), (r, int(r * 0.8)), float(np.degrees(ang) + 90), 0, 360, 255, -1)
        hole = m > 0
        if kind == "line+sk":  # the user traces the main true edges across the hole
            sketch = traced_lines(img, hole)
        return hole, sketch
    return m > 0, sketch


# ---- metrics --------------------------------------------------------------------------

def _lap(img: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.abs(cv2.Laplacian(gray, cv2.CV_32F))


def metrics(out: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> dict:
    diff = out.astype(np.float32) - truth.astype(np.float32)
    mse = float(np.mean(diff[hole] ** 2))
    ring = (cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & \
        ~(cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    lo, lt = _lap(out), _lap(truth)
    return {
        "psnr": 10 * np.log10(255.0 ** 2 / max(mse, 1e-6)),
        "l1": float(np.mean(np.abs(diff[hole]))),
        "sharp": float(lo[hole].mean() / max(lt[hole].mean(), 1e-6)),
        "seam": float(lo[ring].mean() / max(lt[ring].mean(), 1e-6)),
        "outside": int(np.abs(diff[~hole]).max()) if (~hole).any() else 0,
    }


# ---- methods --------------------------------------------------------------------------

class Ours:
    name = "ours"

    def __init__(self, overrides: dict, params: dict | None = None):
        from inpaint_studio import cli
        from inpaint_studio.engines import registry

        args = cli.build_parser().parse_args(["fill", "in.png", "--mask", "m.png", "-o", "o.png"])
        for key, value in overrides.items():
            setattr(args, key, type(getattr(args, key))(value) if getattr(args, key) is not None
                    and not isinstance(getattr(args, key), str) else value)
        self.args = args
        self.params = dict(params or {})
        self.engine = registry.create(args.engine or registry.DEFAULT_ENGINE, "cpu")
        self.engine.load()
        self.refiner = None if args.hires == "off" else registry.refiner_for(self.engine, "cpu")

    def __call__(self, img, hole, sketch):
        from inpaint_studio.pipeline.run import run_fill

        a = self.args
        feather = a.feather if a.feather == "auto" else int(a.feather)
        return run_fill(img, hole, self.engine, sketch=sketch, params=self.params, feather=feather, hires=a.hires,
                        refiner=self.refiner, colour_match=a.colour_match).image


def pypm(img, hole, sketch):
    from patchmatch import patch_match

    return patch_match.inpaint(img, hole.astype(np.uint8) * 255)[..., :3]


def pmcy(img, hole, sketch):
    import patchmatch_cython

    return patchmatch_cython.inpaint_pyramid(img, hole, seed=0)


PEERS = {"pypm": pypm, "pmcy": pmcy}


def run_peer(job):
    """(output, seconds) of one peer fill; with a cache folder, a repeat is read back."""
    name, img, hole, sketch, cache = job
    if cache:
        key = hashlib.sha1(img.tobytes() + np.packbits(hole).tobytes()).hexdigest()[:16]
        path = Path(cache) / f"{name}-{key}.npz"
        if path.exists():
            data = np.load(path)
            return data["out"], float(data["sec"])
    t = time.perf_counter()
    out = PEERS[name](img, hole, sketch) if name in PEERS else telea(img, hole, sketch)
    sec = time.perf_counter() - t
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, out=out, sec=sec)
    return out, sec


def telea(img, hole, sketch):
    return cv2.inpaint(img, hole.astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)


# ---- report ---------------------------------------------------------------------------

def crop_box(hole: np.ndarray, size: int = 192):
    ys, xs = np.nonzero(hole)
    h, w = hole.shape
    cy, cx = int(np.median(ys)), int(np.median(xs))
    y0 = min(max(0, cy - size // 2), max(0, h - size))
    x0 = min(max(0, cx - size // 2), max(0, w - size))
    return slice(y0, y0 + size), slice(x0, x0 + size)


def outline(img: np.ndarray, hole: np.ndarray) -> np.ndarray:
    out = img.copy()
    edge = hole & ~(cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    out[edge] = (255, 0, 255)
    return out


def contact_sheet(rows, path: Path, names) -> None:
    """rows: (label, truth, hole, {method: out}); 100 % crops, hole outlined on the truth."""
    if not rows:  # (--photos 0: only the hires rows)
        return
    cells = []
    for label, truth, hole, outs in rows:
        sl = crop_box(hole)
        tiles = [outline(truth, hole)[sl]] + [outs[n][sl] for n in names]
        tiles = [cv2.copyMakeBorder(t, 18, 2, 2, 2, cv2.BORDER_CONSTANT, value=(255, 255, 255))
                 for t in tiles]
        for t, text in zip(tiles, [label] + list(names)):
            cv2.putText(t, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
        width = max(t.shape[1] for t in tiles)
        tiles = [cv2.copyMakeBorder(t, 0, 196 + 20 - t.shape[0], 0, width - t.shape[1],
                                    cv2.BORDER_CONSTANT, value=(255, 255, 255)) for t in tiles]
        cells.append(np.hstack(tiles))
    width = max(c.shape[1] for c in cells)
    cells = [cv2.copyMakeBorder(c, 0, 0, 0, width - c.shape[1], cv2.BORDER_CONSTANT,
                                value=(255, 255, 255)) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(cells), cv2.COLOR_RGB2BGR))


def hires_case(path: Path, methods: dict, overrides: dict, sheet: Path) -> None:
    """>= 4 MP sky: ours with hires auto (the default), off and on (coarse-to-fine forced)."""
    img = load_photo(path.parent, path.stem, side=0)
    h, w = img.shape[:2]
    print(f"\nhires: {path.name} {w}x{h} ({h * w / 1e6:.1f} MP), two sky holes")
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    flat = cv2.GaussianBlur(np.abs(cv2.Laplacian(gray, cv2.CV_32F)), (0, 0), 25)
    hole = np.zeros((h, w), np.uint8)
    ys, xs = np.mgrid[0:h // 2:8, 0:w:8]
    order = np.argsort(flat[ys, xs].ravel())  # the smoothest places in the top half
    placed = []
    for idx in order:
        y, x = int(ys.ravel()[idx]), int(xs.ravel()[idx])
        r = int(0.06 * max(h, w))
        if y < r or x < r or x > w - r or any(np.hypot(y - a, x - b) < 3 * r for a, b in placed):
            continue
        cv2.ellipse(hole, (x, y), (r, int(r * 0.7)), 30, 0, 360, 255, -1)
        placed.append((y, x))
        if len(placed) == 2:
            break
    hole = hole > 0
    print(f"{'method':<12} {'PSNR':>6} {'L1':>6} {'sharp':>6} {'seam':>6} {'out':>4} {'sec':>7}")
    rows = []
    outs = {}
    for name, fn in methods.items():
        t = time.perf_counter()
        out = fn(img, hole, None)
        sec = time.perf_counter() - t
        outs[name] = out
        m = metrics(out, img, hole)
        print(f"{name:<12} {m['psnr']:6.2f} {m['l1']:6.2f} {m['sharp']:6.2f} {m['seam']:6.2f} "
              f"{m['outside']:4d} {sec:7.1f}")
    for y, x in placed:
        sub = np.zeros_like(hole)
        sub[max(0, y - 300):y + 300, max(0, x - 300):x + 300] = True
        rows.append((f"sky {x},{y}", img, hole & sub, outs))
    contact_sheet(rows, sheet.with_name(sheet.stem + "_hires.png"), list(outs))


def hires_wide(folder: Path, count: int, overrides: dict, params: dict) -> None:
    """Wide holes in 2000 px photos (context crops 2-3 MP): ours with hires off and on."""
    paths = sorted(p for p in folder.glob("*.jpg") if "Kite" not in p.name)[:count]
    print(f"\nhires, wide holes in {len(paths)} photos at 2000 px (crops 2-3 MP; pypatchmatch "
          "takes 6-13 min a fill here: left out)")
    print(f"{'method':<12} {'PSNR':>6} {'L1':>6} {'sharp':>6} {'seam':>6} {'out':>4} {'sec':>7}")
    methods = {f"ours-{m}": Ours({**overrides, "hires": m}, params) for m in ("off", "on")}
    rows: dict[str, list] = {name: [] for name in methods}
    for i, path in enumerate(paths):
        img = load_photo(folder, path.stem, side=2000)
        hole, _ = make_hole("wide", img, 1000 + i)
        for name, fn in methods.items():
            t = time.perf_counter()
            out = fn(img, hole, None)
            rows[name].append({**metrics(out, img, hole), "sec": time.perf_counter() - t})
    for name, rs in rows.items():
        v = {c: np.mean([r[c] for r in rs]) for c in ("psnr", "l1", "sharp", "seam", "sec")}
        print(f"{name:<12} {v['psnr']:6.2f} {v['l1']:6.2f} {v['sharp']:6.2f} {v['seam']:6.2f} "
              f"{max(r['outside'] for r in rs):4d} {v['sec']:7.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", type=int, default=len(PHOTOS), help="how many photos")
    ap.add_argument("--folder", default=str(ROOT / "data" / "photos"))
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--methods", default="ours,pypm,pmcy")
    ap.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                    help="ours: a fill option other than its default (feather, hires, colour_match)")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="ours: an engine parameter other than its default (e.g. patch_size=9)")
    ap.add_argument("--hires-photo", default=str(ROOT / "data" / "photos_big" /
                                                 "plasma-workspace-wallpapers-Kite.jpg"),
                    help="a >= 4 MP photo with sky for the hires rows ('' skips them)")
    ap.add_argument("--hires-wide", type=int, default=6, metavar="N",
                    help="wide holes in N photos of the hires photo's folder at 2000 px, hires off vs "
                         "on (0 skips them)")
    ap.add_argument("--cache", default="", help="keep the peers' fills here and reuse them "
                    "(for repeated runs while changing ours; their seconds are then the first run's)")
    ap.add_argument("--sheet-all", action="store_true", help="every case on the sheet, not one per kind")
    ap.add_argument("--sheet", default=str(ROOT / "out" / "bench_quality.png"))
    args = ap.parse_args()
    overrides = dict(s.split("=", 1) for s in args.set)
    if "colour_match" in overrides:
        overrides["colour_match"] = overrides["colour_match"].lower() in ("1", "true", "on", "yes")
    names = args.methods.split(",")
    table = {"ours": None, "pypm": pypm, "pmcy": pmcy, "telea": telea}
    params = {k: float(v) for k, v in (s.split("=", 1) for s in args.param)}
    methods = {n: (Ours(overrides, params) if n == "ours" else table[n]) for n in names}
    a = methods.get("ours")
    if a is not None:
        print(f"ours: feather={a.args.feather} hires={a.args.hires} colour_match={a.args.colour_match}")
    kinds = args.kinds.split(",")
    folder = Path(args.folder)
    photos = [(s, load_photo(folder, s)) for s in PHOTOS[:args.photos]]
    results = {k: {n: [] for n in names} for k in kinds}
    cases = []
    for k, kind in enumerate(kinds):
        for i, (stem, img) in enumerate(photos):
            base = "line" if kind == "line+sk" and "line" in kinds else kind  # same holes
            hole, sketch = make_hole(kind, img, seed=1000 * kinds.index(base) + i)
            if hole is not None and hole.any():
                cases.append((kind, i, stem, img, hole, sketch))
    start = time.perf_counter()
    peers = [n for n in names if n != "ours"]
    jobs = [(n, c[3], c[4], c[5], args.cache) for c in cases for n in peers]
    # the peers run single-threaded, one per core; ours (torch, both cores) runs alone
    with multiprocessing.get_context("fork").Pool(2) as pool:
        peer_out = iter(pool.map(run_peer, jobs, chunksize=1))
    sheet_rows = []
    for kind, i, stem, img, hole, sketch in cases:
        outs = {}
        for n in names:
            if n == "ours":
                t = time.perf_counter()
                out = methods[n](img, hole, sketch)
                sec = time.perf_counter() - t
            else:
                out, sec = next(peer_out)
            m = metrics(out, img, hole)
            m["sec"] = sec
            results[kind][n].append(m)
            outs[n] = out
        if args.sheet_all or i == kinds.index(kind) % len(photos):
            sheet_rows.append((f"{kind} {stem.split('-')[-1][:14]}", img, hole, outs))
    print(f"{len(photos)} photos, {time.perf_counter() - start:.0f} s\n")
    cols = ("psnr", "l1", "sharp", "seam", "outside", "sec")
    print(f"{'kind':<8} {'method':<6} {'n':>3} {'PSNR':>6} {'L1':>6} {'sharp':>6} {'seam':>6} {'out':>4} {'sec':>6}")
    for kind in kinds:
        for n in names:
            rs = results[kind][n]
            if not rs:
                continue
            v = {c: np.mean([r[c] for r in rs]) for c in cols}
            v["outside"] = max(r["outside"] for r in rs)
            print(f"{kind:<8} {n:<6} {len(rs):3d} {v['psnr']:6.2f} {v['l1']:6.2f} {v['sharp']:6.2f} "
                  f"{v['seam']:6.2f} {v['outside']:4d} {v['sec']:6.2f}")
    for n in names:
        allr = [r for kind in kinds for r in results[kind][n]]
        print(f"{'all':<8} {n:<6} {len(allr):3d} {np.mean([r['psnr'] for r in allr]):6.2f} "
              f"median {np.median([r['psnr'] for r in allr]):.2f}")
    sheet = Path(args.sheet)
    contact_sheet(sheet_rows, sheet, names)
    print(f"contact sheet: {sheet}")
    if args.hires_photo and Path(args.hires_photo).exists():
        hires_methods = {}
        if "ours" in names:
            for mode in ("auto", "off", "on"):  # auto: by the hole's context crop (> 5 MP)
                hires_methods[f"ours-{mode}"] = Ours({**overrides, "hires": mode}, params)
        # (pypatchmatch takes ~3 min on this photo: left out to keep the run short)
        hires_case(Path(args.hires_photo), hires_methods, overrides, sheet)
        if args.hires_wide and "ours" in names:
            hires_wide(Path(args.hires_photo).parent, args.hires_wide, overrides, params)
    elif args.hires_photo:
        print(f"\nhires rows skipped: {args.hires_photo} not found "
              "(scripts/gather_photos.py --out data/photos_big --max-side 2800)")


if __name__ == "__main__":
    main()
