"""hires 'auto': coarse-to-fine only where a hole's context crop is above 5 MP.

(Beside tests/pipeline, which is being reworked with the fill engine.)"""
from __future__ import annotations

import numpy as np

from fake_engines import FlatEngine
from inpaint_studio.core.types import BBox
from inpaint_studio.pipeline import run


def test_the_threshold_is_five_megapixels_exclusive():
    assert run.HIRES_AUTO_PIXELS == 5_000_000
    assert not run.use_hires("auto", BBox(0, 0, 2500, 2000))  # exactly 5 MP
    assert run.use_hires("auto", BBox(0, 0, 2501, 2000))
    assert run.use_hires("on", BBox(0, 0, 10, 10)) and not run.use_hires("off", BBox(0, 0, 4000, 3000))


def test_run_fill_decides_per_crop(monkeypatch):
    """A whole-photo crop just above 5 MP goes coarse-to-fine; the same hole in a photo
    just below 5 MP does not."""
    seen = []

    def record(engine, use_hires, refiner, colour_match, image, hole, *args, **kwargs):
        seen.append((use_hires, image.shape[1] * image.shape[0]))
        return image

    monkeypatch.setattr(run, "_fill_one", record)
    for width in (2501, 2499):
        image = np.zeros((2000, width, 3), np.uint8)
        hole = np.zeros((2000, width), bool)
        hole[100:1900, 100:width - 100] = True
        run.run_fill(image, hole, FlatEngine(), hires="auto", margin=400)
    assert seen == [(True, 2501 * 2000), (False, 2499 * 2000)]
