import importlib.util
import json
import math
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from inpaint_studio import paths
from inpaint_studio.core.errors import UserError

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "evaluate_weights.py"
spec = importlib.util.spec_from_file_location("evaluate_weights", SCRIPT)
ev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ev)


def quiet(*args, **kwargs):
    pass


@pytest.fixture
def empty_weights(tmp_path, monkeypatch):
    """Weights folders holding only the manifest: no learned engine is ready."""
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    shutil.copy(paths.weights_dir() / "manifest.toml", bundled / "manifest.toml")
    monkeypatch.setenv("INPAINT_STUDIO_WEIGHTS", str(bundled))
    monkeypatch.setenv("INPAINT_STUDIO_USER_WEIGHTS", str(tmp_path / "user"))
    return bundled


def step_image(size=64, x=32):
    image = np.full((size, size, 3), 40, np.uint8)
    image[:, x:] = 210
    return image


# ---------------------------------------------------------------- metrics


def test_identical_fill_has_zero_error_and_infinite_psnr():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    hole = np.zeros((32, 32), bool)
    hole[8:20, 4:30] = True
    l1, sq, count = ev.hole_errors(image, image, hole)
    assert (l1, sq, count) == (0.0, 0.0, hole.sum() * 3)
    assert ev.psnr(sq, count) == math.inf
    other = image.copy()
    other[hole] = np.clip(other[hole].astype(int) + 10, 0, 255)
    l1, sq, count = ev.hole_errors(other, image, hole)
    assert 0 < l1 / count <= 10
    assert 28 < ev.psnr(sq, count) < 60


def test_blurred_fill_is_less_sharp_than_the_truth():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    hole = np.zeros((64, 64), bool)
    hole[16:48, 16:48] = True
    blurred = truth.copy()
    blurred[hole] = cv2.GaussianBlur(truth, (7, 7), 2)[hole]
    ratio = ev.laplacian_sum(blurred, hole) / ev.laplacian_sum(truth, hole)
    assert ratio < 0.5
    assert ev.laplacian_sum(truth, hole) / ev.laplacian_sum(truth, hole) == 1


def test_sketch_adherence_counts_edges_on_the_line():
    sketch = np.zeros((64, 64), bool)
    sketch[10:54, 32] = True
    assert ev.sketch_hits(step_image(x=32), sketch) == (44, 44)  # edge exactly on the sketch
    assert ev.sketch_hits(step_image(x=44), sketch) == (0, 44)  # edge 12 px away
    assert ev.sketch_hits(np.full((64, 64, 3), 90, np.uint8), sketch) == (0, 44)  # no edge


# ---------------------------------------------------------------- test set


def test_test_set_is_reproducible_with_holes_of_10_to_30_percent(photo_dir):
    photos = ev.val_photos(photo_dir)
    assert [p.name for p in photos] == ["p9.png"]
    first = ev.test_set(photos, 64, 4, seed=3)
    again = ev.test_set(photos, 64, 4, seed=3)
    other = ev.test_set(photos, 64, 4, seed=4)
    for (image, hole, sketch), (image2, hole2, sketch2) in zip(first, again):
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8
        assert 0.10 <= hole.mean() <= 0.30
        assert not (sketch & ~hole).any()
        assert np.array_equal(image, image2) and np.array_equal(hole, hole2) and np.array_equal(sketch, sketch2)
    assert any(s.any() for _, _, s in first)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, other))


def test_val_photos_from_manifest(tmp_path, photo_dir):
    manifest = {"images": [{"file": "p0.png", "split": "train"}, {"file": "p3.png", "split": "val"}]}
    (photo_dir / "manifest.json").write_text(json.dumps(manifest))
    assert [p.name for p in ev.val_photos(photo_dir)] == ["p3.png"]
    (tmp_path / "few").mkdir()
    shutil.copy(photo_dir / "p0.png", tmp_path / "few" / "p0.png")
    with pytest.raises(UserError, match="held-out"):
        ev.val_photos(tmp_path / "few")


# ---------------------------------------------------------------- whole script


def test_main_reports_patchmatch_and_telea_and_skips_unready(photo_dir, tmp_path, empty_weights):
    out = tmp_path / "report.json"
    report = ev.main(["--data", str(photo_dir), "--size", "96", "--samples", "3", "--seed", "1",
                      "--engines", "patchmatch,telea,gated", "--out", str(out)], log=quiet)
    assert json.loads(out.read_text()) == report
    assert report["val_photos"] == ["p9.png"] and report["samples"] == 3
    assert 0.10 <= report["hole_ratio"]["min"] <= report["hole_ratio"]["max"] <= 0.30
    assert "not installed" in report["engines"]["gated"]["skipped"]
    for name in ("patchmatch", "telea"):
        figures = report["engines"][name]
        assert 0 < figures["hole_l1"] < 128
        assert 5 < figures["hole_psnr"] < 60
        assert 0 < figures["sharpness"] < 3
        assert figures["seconds_per_fill"] > 0
    pm = report["engines"]["patchmatch"]
    assert 0 <= pm["sketch_adherence"] <= 1 and 0 <= pm["sketch_adherence_without_sketch"] <= 1
    assert "sketch_adherence" not in report["engines"]["telea"]
    # Telea's diffusion is far blurrier than the photo's texture
    assert report["engines"]["telea"]["sharpness"] < pm["sharpness"]


def test_weights_file_is_evaluated_without_installing_it(photo_dir, tmp_path, empty_weights):
    import torch

    from inpaint_studio.engines.pennet.network import PenNetGenerator

    state = {k: v.half() if v.is_floating_point() else v for k, v in PenNetGenerator().state_dict().items()}
    export = tmp_path / "export.pth"
    torch.save({"format": "inpaint-studio-weights", "engine": "pennet", "layout": "pennet-official",
                "state_dict": state, "steps": 1}, export)
    before = dict(os.environ)
    report = ev.main(["--data", str(photo_dir), "--size", "64", "--samples", "1", "--engines", "pennet",
                      "--weights", f"pennet={export}"], log=quiet)
    figures = report["engines"]["pennet"]
    assert figures["weights"] == "pennet-ours" and figures["weights_file"] == str(export)
    assert 0 < figures["hole_l1"] < 255
    assert dict(os.environ) == before
    assert not (tmp_path / "user").exists()  # nothing was installed


def test_bad_arguments_are_user_errors(photo_dir):
    with pytest.raises(UserError, match="ENGINE=FILE"):
        ev.main(["--data", str(photo_dir), "--engines", "telea", "--weights", "telea"], log=quiet)
    with pytest.raises(UserError, match="not evaluated"):
        ev.main(["--data", str(photo_dir), "--engines", "telea", "--weights", "gated=x.pth"], log=quiet)
    with pytest.raises(UserError, match="unknown engine"):
        ev.main(["--data", str(photo_dir), "--engines", "nope"], log=quiet)
    with pytest.raises(UserError, match="no such weights file"):
        ev.main(["--data", str(photo_dir), "--samples", "1", "--engines", "pennet",
                 "--weights", "pennet=missing.pth"], log=quiet)
