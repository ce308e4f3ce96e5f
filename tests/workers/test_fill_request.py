"""One request, two front ends: the CLI's fill and the editor's worker give the same pixels."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint_studio import cli
from inpaint_studio.engines.host import EngineHost
from inpaint_studio.pipeline.request import FillRequest
from inpaint_studio.workers.engine_service import EngineService, FillJob


def photo(h=72, w=88):
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(5)
    base = np.stack([x * 2 + 20, y * 3 + 10, (x + y) + 40], axis=2) + rng.integers(0, 40, (h, w, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


def masks(h=72, w=88):
    y, x = np.mgrid[0:h, 0:w]
    hole = ((y - 36) / 12.0) ** 2 + ((x - 44) / 16.0) ** 2 <= 1
    avoid = np.zeros((h, w), bool)
    avoid[:, :20] = True
    return hole, avoid


def cli_fill(request: FillRequest, folder) -> np.ndarray:
    paths = {}
    for name, array in (("photo", request.image), ("mask", request.hole), ("avoid", request.avoid)):
        if array is not None:
            paths[name] = folder / f"{name}.png"
            Image.fromarray(array if array.ndim == 3 else array.astype(np.uint8) * 255).save(paths[name])
    out = folder / "out.png"
    argv = ["fill", str(paths["photo"]), "--mask", str(paths["mask"]), "-o", str(out),
            "--engine", request.engine, "--device", request.device, "--hires", request.hires,
            "--feather", str(request.feather),
            "--colour-match" if request.colour_match else "--no-colour-match"]
    argv += ["--avoid", str(paths["avoid"])] if "avoid" in paths else []
    for key, value in request.params.items():
        argv += ["--param", f"{key}={value}"]
    assert cli.main(argv) == 0
    return np.asarray(Image.open(out).convert("RGB"))


def worker_fill(qtbot, request: FillRequest) -> np.ndarray:
    service = EngineService()
    try:
        job = FillJob.snapshot(request.engine, request.image, request.hole, request.sketch,
                               device=request.device, params=request.params, hires=request.hires,
                               feather=request.feather, colour_match=request.colour_match,
                               avoid=request.avoid)
        with qtbot.waitSignal(service.finished, timeout=120_000) as blocker:
            service.submit(job)
    finally:
        service.shutdown()
    return blocker.args[1].image


@pytest.mark.parametrize("engine, settings", [
    ("patchmatch", {"params": {"seed": 4, "iterations": 2}, "feather": 3, "colour_match": True,
                    "with_avoid": True}),
    ("telea", {"params": {"radius": 4}, "hires": "on", "feather": "auto"}),
])
def test_cli_and_worker_give_identical_pixels_for_one_request(qtbot, tmp_path, engine, settings):
    settings = dict(settings)
    image = photo()
    hole, avoid = masks()
    request = FillRequest(engine, image, hole, device="cpu",
                          avoid=avoid if settings.pop("with_avoid", False) else None, **settings)
    from_cli = cli_fill(request, tmp_path)
    from_worker = worker_fill(qtbot, request)
    assert not np.array_equal(from_worker[hole], image[hole])  # really filled
    np.testing.assert_array_equal(from_cli, from_worker)
    host = EngineHost()
    try:
        np.testing.assert_array_equal(host.fill(request).image, from_worker)
    finally:
        host.unload()
