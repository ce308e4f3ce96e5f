#!/usr/bin/env python3
"""Evaluate fill engines on the held-out photos (issue 5's acceptance test).

    python scripts/evaluate_weights.py --data data/photos [--size 256] [--samples 100]
        [--seed 0] [--engines patchmatch,telea,pennet,gated]
        [--weights gated=runs/gated/export.pth] [--device auto] [--out report.json]

Test set: fixed-seed square crops (random scale and position) of the "val" photos of
``--data`` (manifest.json, else every 10th photo), each with a free-form hole covering
10-30 % (training.holes.random_hole, rejection-sampled) and a sketch made of the true
image's edges inside the hole (training.holes.sketch_from_edges, drop=0). Every fill goes
through pipeline.run.run_fill (hires off), as in the app.

Metrics per engine, pooled over all samples:
- hole_l1: mean |fill - truth| over hole pixels and channels, 0-255 scale (lower is better);
- hole_psnr: from the pooled hole MSE, dB (higher is better);
- sharpness: mean |Laplacian| of the fill in the hole / the same of the truth (1 = as sharp
  as the photo; below 1 blurrier, above 1 noisier);
- engines with uses_sketch: sketch_adherence = fraction of sketch pixels with an output
  edge (Canny) within 2 px, with the sketch supplied and, for comparison, without it;
- seconds per fill (without sketch; the model is loaded beforehand).

``--weights ENGINE=FILE`` evaluates a training checkpoint (last.pt) or an exported or
imported weights file without installing it: the file is imported with
engines.weights.import_checkpoint into a temporary weights folder that holds nothing else,
so the engine loads exactly that file.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from inpaint_studio.core.errors import UserError
from inpaint_studio.training.dataset import read_rgb
from inpaint_studio.training.holes import random_hole, sketch_from_edges

HOLE_RANGE = (0.10, 0.30)
EDGE_LOW, EDGE_HIGH = 50, 100  # Canny thresholds for edges of a fill
EDGE_RADIUS = 2  # "an output edge within 2 px"


# ---------------------------------------------------------------- metrics


def hole_errors(out: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> tuple[float, float, int]:
    """(sum |diff|, sum diff^2, count) over hole pixels x channels, 0-255 scale."""
    diff = out[hole].astype(np.float64) - truth[hole].astype(np.float64)
    return float(np.abs(diff).sum()), float((diff ** 2).sum()), int(diff.size)


def psnr(sq: float, count: int) -> float:
    """PSNR in dB from a summed squared error; inf when it is 0."""
    mse = sq / max(count, 1)
    return math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def laplacian_sum(image: np.ndarray, hole: np.ndarray) -> float:
    """Sum of |Laplacian| of the grey image over the hole."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=3))[hole].sum())


def edges(image: np.ndarray) -> np.ndarray:
    grey = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (5, 5), 1.2)
    return cv2.Canny(grey, EDGE_LOW, EDGE_HIGH) > 0


def sketch_hits(out: np.ndarray, sketch: np.ndarray) -> tuple[int, int]:
    """(sketch pixels with an edge of ``out`` within EDGE_RADIUS px, sketch pixels)."""
    side = 2 * EDGE_RADIUS + 1
    near = cv2.dilate(edges(out).astype(np.uint8), np.ones((side, side), np.uint8)) > 0
    return int((near & sketch).sum()), int(sketch.sum())


# ---------------------------------------------------------------- test set


def val_photos(data: Path) -> list[Path]:
    from inpaint_studio.training.train import load_split

    _, val = load_split(Path(data))
    if not val:
        raise UserError(f"no held-out photos in {data} (need a manifest.json with a val split, or 10+ photos)")
    return val


def hole_in_range(size: int, rng: np.random.Generator) -> np.ndarray:
    for _ in range(1000):
        hole = random_hole(size, rng)
        if HOLE_RANGE[0] <= hole.mean() <= HOLE_RANGE[1]:
            return hole
    raise RuntimeError("no hole in the 10-30 % range after 1000 tries")


def crop(photo: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A square crop at a random scale (1/4 .. all of the short side) resized to size."""
    h, w = photo.shape[:2]
    short = min(h, w)
    side = int(rng.uniform(max(size, short / 4), short + 1)) if short > size else short
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(photo[y:y + side, x:x + side], (size, size), interpolation=interp)


def test_set(paths: list[Path], size: int, count: int, seed: int) -> list[tuple]:
    """[(image uint8, hole bool, sketch bool)], the same for every engine; photos in turn."""
    photos = [read_rgb(p) for p in paths]
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(count):
        image = np.ascontiguousarray(crop(photos[i % len(photos)], size, rng))
        hole = hole_in_range(size, rng)
        sketch = sketch_from_edges(image, hole, rng, drop=0)
        samples.append((image, hole, sketch))
    return samples


# ---------------------------------------------------------------- weights


@contextmanager
def weights_only(engine: str, file: "str | None"):
    """With ``file``: a temporary weights folder pair holding only ``file`` (imported) and
    the manifest, so ``engine`` loads exactly it; yields the entry name. Without: nothing."""
    if not file:
        yield ""
        return
    from inpaint_studio import paths
    from inpaint_studio.engines import registry, weights

    saved = {k: os.environ.get(k) for k in ("INPAINT_STUDIO_WEIGHTS", "INPAINT_STUDIO_USER_WEIGHTS")}
    manifest = paths.weights_dir() / weights.MANIFEST
    tmp = Path(tempfile.mkdtemp(prefix="inpaint-eval-"))
    try:
        (tmp / "bundled").mkdir()
        shutil.copy(manifest, tmp / "bundled" / weights.MANIFEST)
        os.environ["INPAINT_STUDIO_WEIGHTS"] = str(tmp / "bundled")
        os.environ["INPAINT_STUDIO_USER_WEIGHTS"] = str(tmp / "user")
        yield weights.import_checkpoint(_importable(Path(file), engine, tmp), engine,
                                        convert=registry.converter(engine))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(tmp, ignore_errors=True)


def _importable(path: Path, engine: str, tmp: Path) -> Path:
    """A training checkpoint becomes its export (our own weights format)."""
    from inpaint_studio.engines import weights
    from inpaint_studio.training.train import export_weights

    if not path.is_file():
        raise UserError(f"no such weights file: {path}")
    data = weights._torch_load(path)
    if isinstance(data, dict) and "G" in data and "config" in data:
        path = export_weights(path, tmp / "export.pth")
        data = weights._torch_load(path)
    if isinstance(data, dict) and data.get("format") == weights.FORMAT and data.get("engine") != engine:
        raise UserError(f"{path.name} holds {data.get('engine')} weights, not {engine}")
    return path


# ---------------------------------------------------------------- evaluation


def evaluate_engine(name: str, samples: list[tuple], device: str = "auto", log=print) -> dict:
    """Metrics of one engine (see the module docstring); {"skipped": reason} if not ready."""
    from inpaint_studio.engines import registry
    from inpaint_studio.pipeline.run import run_fill

    state = registry.readiness(name)
    if not state.ready:
        return {"skipped": state.reason}
    engine = registry.create(name, device)
    engine.load()
    use_sketch = engine.info.uses_sketch
    l1 = sq = n = lap_out = lap_true = seconds = 0.0
    hits = {"with": 0, "without": 0}
    total_sketch = 0
    tty = sys.stdout.isatty()
    for i, (image, hole, sketch) in enumerate(samples):
        start = time.perf_counter()
        out = run_fill(image, hole, engine, hires="off").image
        seconds += time.perf_counter() - start
        a, b, c = hole_errors(out, image, hole)
        l1, sq, n = l1 + a, sq + b, n + c
        lap_out += laplacian_sum(out, hole)
        lap_true += laplacian_sum(image, hole)
        if use_sketch:
            guided = run_fill(image, hole, engine, sketch=sketch, hires="off").image
            hits["with"] += sketch_hits(guided, sketch)[0]
            found, count = sketch_hits(out, sketch)
            hits["without"] += found
            total_sketch += count
        if tty:
            log(f"\r{name}: {i + 1}/{len(samples)}", end="")
        elif (i + 1) % 25 == 0 or i + 1 == len(samples):  # a log file: a line now and then
            log(f"{name}: {i + 1}/{len(samples)}")
    if tty:
        log("")
    result = {
        "weights": getattr(engine, "weights_name", ""),
        "hole_l1": l1 / max(n, 1),
        "hole_psnr": psnr(sq, int(n)),
        "sharpness": lap_out / lap_true if lap_true else math.nan,
        "seconds_per_fill": seconds / max(len(samples), 1),
    }
    if use_sketch:
        result["sketch_adherence"] = hits["with"] / total_sketch if total_sketch else math.nan
        result["sketch_adherence_without_sketch"] = hits["without"] / total_sketch if total_sketch else math.nan
    engine.unload()
    return result


def table(results: dict) -> str:
    head = f"{'engine':<12}{'hole L1':>9}{'PSNR dB':>9}{'sharp':>7}{'sketch':>8}{'no sk.':>8}{'s/fill':>8}"
    rows = [head, "-" * len(head)]
    for name, r in results.items():
        if "skipped" in r:
            rows.append(f"{name:<12}skipped: {r['skipped']}")
            continue
        sk = r.get("sketch_adherence")
        nsk = r.get("sketch_adherence_without_sketch")
        rows.append(f"{name:<12}{r['hole_l1']:>9.2f}{r['hole_psnr']:>9.2f}{r['sharpness']:>7.2f}"
                    f"{'-' if sk is None else f'{sk:.2f}':>8}{'-' if nsk is None else f'{nsk:.2f}':>8}"
                    f"{r['seconds_per_fill']:>8.2f}")
    return "\n".join(rows)


def _finite(value):
    """JSON has no inf/nan: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def parse_weights(items: list[str]) -> dict:
    result = {}
    for item in items:
        engine, sep, file = item.partition("=")
        if not sep or not engine or not file:
            raise UserError(f"--weights takes ENGINE=FILE, got '{item}'")
        result[engine] = file
    return result


def main(argv=None, log=print) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="photo folder (manifest.json with a val split)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engines", default="patchmatch,telea,pennet,gated")
    parser.add_argument("--weights", action="append", default=[], metavar="ENGINE=FILE")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default="", help="write the report as JSON here")
    args = parser.parse_args(argv)
    from inpaint_studio.engines import registry

    names = [n.strip() for n in args.engines.split(",") if n.strip()]
    for name in names:
        registry.get_info(name)  # UserError on unknown names
    files = parse_weights(args.weights)
    unknown = set(files) - set(names)
    if unknown:
        raise UserError(f"--weights given for engines not evaluated: {', '.join(sorted(unknown))}")
    if args.samples < 1 or args.size < 64:
        raise UserError("--samples must be at least 1 and --size at least 64")
    paths = val_photos(Path(args.data))
    samples = test_set(paths, args.size, args.samples, args.seed)
    ratios = [float(h.mean()) for _, h, _ in samples]
    results = {}
    for name in names:
        with weights_only(name, files.get(name)) as entry:
            results[name] = evaluate_engine(name, samples, args.device, log)
        if entry and "skipped" not in results[name]:
            loaded = results[name].get("weights")
            if loaded != entry:  # cannot happen unless the engine's loading rules change
                raise RuntimeError(f"{name} loaded weights {loaded!r}, not the imported {entry!r}")
            results[name]["weights_file"] = str(files[name])
    report = {
        "data": str(args.data), "val_photos": [p.name for p in paths], "size": args.size,
        "samples": args.samples, "seed": args.seed,
        "hole_ratio": {"min": min(ratios), "mean": float(np.mean(ratios)), "max": max(ratios)},
        "engines": results,
    }
    log(table(results))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(_finite(report), indent=1) + "\n")
        os.replace(tmp, out)
    return report


if __name__ == "__main__":
    try:
        main()
    except UserError as exc:
        sys.exit(f"error: {exc}")
