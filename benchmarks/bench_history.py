"""Brush-segment latency and undo-history memory on a 24 MP photo.

python benchmarks/bench_history.py
"""
from __future__ import annotations

import math
import time

import numpy as np

from inpaint_studio.commands.edits import MaskStroke
from inpaint_studio.commands.history import History
from inpaint_studio.core import raster
from inpaint_studio.core.document import Document

W, H = 6000, 4000


def stroke_points(rng, n=60, step=12.0):
    """A wandering drag path: n points, ~step px apart (typical mouse moves)."""
    x, y = rng.uniform(500, W - 500), rng.uniform(500, H - 500)
    ang = rng.uniform(0, 2 * math.pi)
    pts = [(x, y)]
    for _ in range(n):
        ang += rng.normal(0, 0.3)
        x = min(max(x + step * math.cos(ang), 0), W - 1)
        y = min(max(y + step * math.sin(ang), 0), H - 1)
        pts.append((x, y))
    return pts


def bench_segments(doc, radius, strokes=20):
    rng = np.random.default_rng(int(radius))
    seg_times, end_times = [], []
    for _ in range(strokes):
        pts = stroke_points(rng)
        stroke = MaskStroke.begin(doc, radius)
        for a, b in zip(pts[:-1], pts[1:]):
            t = time.perf_counter()
            stroke.add_segment(a, b)
            seg_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        stroke.end()
        end_times.append(time.perf_counter() - t)
    seg = np.array(seg_times) * 1e3
    print(f"radius {radius:>3} px: segment median {np.median(seg):.3f} ms, mean {seg.mean():.3f} ms, "
          f"p99 {np.percentile(seg, 99):.3f} ms, "
          f"max {seg.max():.3f} ms; stroke end() mean {np.mean(end_times) * 1e3:.2f} ms")


def bench_raw_stamp(radius, length):
    layer = np.zeros((H, W), bool)
    t = time.perf_counter()
    for k in range(50):
        raster.stamp_segment(layer, (1000, 1000 + k), (1000 + length, 1000 + length + k), radius)
    print(f"stamp_segment radius {radius} length {length * 1.41:.0f} px diagonal: "
          f"{(time.perf_counter() - t) / 50 * 1e3:.3f} ms")


def bench_memory(steps=100):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    doc = Document(image)
    hist = History(doc)
    t = time.perf_counter()
    for k in range(steps):
        stroke = MaskStroke.begin(doc, radius=float(rng.uniform(10, 120)), value=k % 5 != 4)
        pts = stroke_points(rng, n=80, step=15.0)
        for a, b in zip(pts[:-1], pts[1:]):
            stroke.add_segment(a, b)
        hist.push(stroke.end())
    elapsed = time.perf_counter() - t
    print(f"{steps} mask strokes on 24 MP: history {hist.nbytes / 2**20:.2f} MiB "
          f"({len(hist.steps)} steps), {elapsed:.1f} s total")
    t = time.perf_counter()
    hist.goto(0)
    hist.goto(len(hist.steps))
    print(f"goto(0) and back over {len(hist.steps)} strokes: {(time.perf_counter() - t) * 1e3:.0f} ms")
    # Fill-sized image edits: 20 fills of a 600x600 hole with noise-like content.
    from inpaint_studio.commands.edits import ApplyFill
    from inpaint_studio.core.types import BBox
    t = time.perf_counter()
    for k in range(20):
        x, y = int(rng.integers(0, W - 600)), int(rng.integers(0, H - 600))
        box = BBox(x, y, x + 600, y + 600)
        doc.mask[box.slices] = True
        patch = rng.integers(0, 256, (600, 600, 3), dtype=np.uint8)
        hist.push(ApplyFill.apply(doc, patch, box))
    print(f"+20 fills of 600x600 px (random pixels, worst case): history {hist.nbytes / 2**20:.1f} MiB, "
          f"{(time.perf_counter() - t) / 20 * 1e3:.0f} ms per fill step")


def bench_one_shot():
    """Whole-photo mask edits: a big freehand lasso, grow/shrink, invert (command included)."""
    from inpaint_studio.commands.edits import Lasso, MaskOp
    doc = Document(np.zeros((H, W, 3), np.uint8))
    th = np.linspace(0, 2 * math.pi, 2000, endpoint=False)
    pts = np.c_[W / 2 + 0.42 * W * np.cos(th) * (1 + 0.1 * np.sin(7 * th)), H / 2 + 0.45 * H * np.sin(th)]
    runs = [("lasso 2000 points covering ~60% of the photo", lambda: Lasso.apply(doc, pts))]
    for n in (2, 10, 30):
        runs.append((f"grow {n} px", lambda n=n: MaskOp.apply(doc, "grow", n)))
        runs.append((f"shrink {n} px", lambda n=n: MaskOp.apply(doc, "shrink", n)))
    runs.append(("invert", lambda: MaskOp.apply(doc, "invert")))
    for label, fn in runs:
        t = time.perf_counter()
        cmd = fn()
        ms = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        cmd.undo(doc)
        cmd.redo(doc)
        print(f"{label}: {ms:.0f} ms, undo+redo {(time.perf_counter() - t) * 1e3:.0f} ms, "
              f"step {cmd.nbytes / 1024:.0f} KiB")


if __name__ == "__main__":
    doc = Document(np.zeros((H, W, 3), np.uint8))
    for r in (20, 100):
        bench_segments(doc, r)
    bench_raw_stamp(100, 300)
    bench_memory()
    bench_one_shot()
