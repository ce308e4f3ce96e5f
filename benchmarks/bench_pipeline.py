"""Pipeline overhead of run_fill on big photos, with a no-op engine and with Telea.

Crops, resizing, padding, compositing and change-box search are measured by filling with
an engine that returns its input (so the engine costs nothing); Telea shows a real
engine on the same crops. Prints seconds per call (best of 3) for 24 MP photos, 8- and
16-bit, with 1 large and 200 small holes, feather 0 and 8, native_size 512 (learned nets),
and without colour matching (its cost is the difference to the first row).

python benchmarks/bench_pipeline.py
"""
from __future__ import annotations

import time

import numpy as np

from inpaint_studio.engines.base import Engine, EngineInfo
from inpaint_studio.engines.registry import create
from inpaint_studio.pipeline.run import run_fill


class NoOpEngine(Engine):
    def __init__(self, native_size=None, pad_multiple=1):
        super().__init__("cpu")
        self.info = EngineInfo("noop", "No-op", "", "x:y", native_size=native_size,
                               pad_multiple=pad_multiple, min_context=32)

    def fill(self, image, hole, sketch=None, params=None, *, avoid=None, progress=None,
             cancel=None):
        return image.copy()


def holes(h, w, kind):
    mask = np.zeros((h, w), bool)
    rng = np.random.default_rng(0)
    if kind == "1 large":
        mask[h // 3:h // 3 + 600, w // 2:w // 2 + 250] = True
    else:
        for y, x in zip(rng.integers(0, h - 10, 200), rng.integers(0, w - 10, 200)):
            mask[y:y + 8, x:x + 8] = True
    return mask


def best(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    h, w = 4000, 6000
    rng = np.random.default_rng(1)
    images = {"8-bit RGB": rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
              "16-bit RGBA": rng.integers(0, 65536, (h, w, 4), dtype=np.uint16)}
    telea = create("telea")
    print(f"run_fill on {w}x{h} ({w * h / 1e6:.0f} MP), seconds, best of 3")
    for name, image in images.items():
        for kind in ("1 large", "200 small"):
            mask = holes(h, w, kind)
            for label, engine, feather, match in (
                    ("no-op", NoOpEngine(), 0, True),
                    ("no-op, no colours", NoOpEngine(), 0, False),
                    ("no-op feather 8", NoOpEngine(), 8, True),
                    ("no-op native 512", NoOpEngine(512, 8), 0, True),
                    ("telea", telea, 0, True)):
                secs = best(lambda: run_fill(image, mask, engine, feather=feather,
                                             colour_match=match))
                print(f"  {name:12s} {kind:10s} {label:18s} {secs:6.3f}")


if __name__ == "__main__":
    main()
