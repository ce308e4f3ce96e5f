"""Open and save times of a 24 MP photo in every format we write, 8 and 16 bits.

python benchmarks/bench_io.py [--size 6000x4000]

The photo is synthetic but photo-like (smooth shading, edges, fine noise), so PNG sizes are
realistic. PNG and WebP are also saved with Pillow's defaults (PNG level 6, WebP method 4)
as the references for ours.
"""
from __future__ import annotations

import argparse
import io
import os
import tempfile
import time

import numpy as np
from PIL import Image

from inpaint_studio.fileio import JPEG_QUALITY, PNG_LEVEL, WEBP_METHOD, load_image, save_image


def photo(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([120 + 80 * np.sin(x / 700), 110 + 60 * np.cos(y / 500), 90 + 50 * np.sin((x + y) / 900)], -1)
    base[(x // 400 + y // 300) % 2 == 0] *= 0.8  # hard edges
    noise = rng.normal(0, 4, (height, width, 1)).astype(np.float32)  # sensor grain
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="6000x4000")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    rgb8 = photo(width, height)
    rgb16 = rgb8.astype(np.uint16) * 257 + np.uint16(128)
    print(f"{width}x{height} ({width * height / 1e6:.0f} MP); our PNG level {PNG_LEVEL}, WebP method {WEBP_METHOD}")
    print(f"{'file':<12} {'save s':>7} {'open s':>7} {'MB':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, pixels in (("8-bit", rgb8), ("16-bit", rgb16)):
            for ext in ((".jpg", ".png", ".tif", ".webp") if name == "8-bit" else (".png", ".tif")):
                path = os.path.join(tmp, f"photo{ext}")
                save = timed(lambda: save_image(path, pixels))
                load = timed(lambda: load_image(path))
                print(f"{name + ext:<12} {save:7.2f} {load:7.2f} {os.path.getsize(path) / 1e6:6.1f}")
    for fmt, options in (("PNG", {}), ("WEBP", {"quality": JPEG_QUALITY, "exact": True})):
        buf = io.BytesIO()
        ref = timed(lambda: Image.fromarray(rgb8).save(buf, format=fmt, **options))
        print(f"8-bit {fmt} with Pillow's default effort: save {ref:.2f} s, {buf.tell() / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
