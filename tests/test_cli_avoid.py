"""fill --avoid: the excluded area is never copied into the hole (PatchMatch)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint_studio import cli

MAGENTA = np.array([255, 0, 255])


def scene(tmp_path, name="photo"):
    """A green-brown texture with a magenta patch touching the hole; writes photo, mask and
    avoid files, returns (paths, hole)."""
    rng = np.random.default_rng(3)
    h, w = 72, 96
    y, x = np.mgrid[0:h, 0:w]
    pixels = np.stack([70 + 25 * np.sin(x / 4.0), 110 + 20 * np.cos(y / 5.0), 60 + 0 * x], axis=2)
    pixels = np.clip(pixels + rng.normal(0, 10, pixels.shape), 0, 255).astype(np.uint8)
    magenta = np.zeros((h, w), bool)
    magenta[20:52, 14:40] = True
    pixels[magenta] = MAGENTA
    hole = np.zeros((h, w), bool)
    hole[24:48, 40:64] = True
    paths = {k: tmp_path / f"{name}{suffix}.png" for k, suffix in
             (("photo", ""), ("mask", "-mask"), ("avoid", "-avoid"))}
    Image.fromarray(pixels).save(paths["photo"])
    Image.fromarray(np.where(hole, 255, 0).astype(np.uint8)).save(paths["mask"])
    avoid = np.zeros((h, w), bool)
    avoid[16:56, 10:40] = True  # the magenta patch and a little around it
    Image.fromarray(np.where(avoid, 255, 0).astype(np.uint8)).save(paths["avoid"])
    return paths, hole


def magenta_in(path, hole) -> int:
    filled = np.asarray(Image.open(path)).astype(int)[hole]
    return int((np.abs(filled - MAGENTA).sum(axis=1) < 150).sum())


def run(paths, out, *extra):
    return cli.main(["fill", str(paths["photo"]), "--mask", str(paths["mask"]), "-o", str(out),
                     "--engine", "patchmatch", "--seed", "1", "--feather", "0", *extra])


def test_avoided_colour_never_appears_in_the_fill(tmp_path):
    paths, hole = scene(tmp_path)
    plain, avoided = tmp_path / "plain.png", tmp_path / "avoided.png"
    assert run(paths, plain) == 0
    assert magenta_in(plain, hole) > 0  # the patch is a tempting source without --avoid
    before = {p: p.read_bytes() for p in paths.values()}
    assert run(paths, avoided, "--avoid", str(paths["avoid"])) == 0
    assert magenta_in(avoided, hole) == 0
    assert {p: p.read_bytes() for p in paths.values()} == before


def test_avoid_folder_is_matched_by_stem(tmp_path):
    photos, masks, avoids, out = (tmp_path / d for d in ("photos", "masks", "avoids", "out"))
    for d in (photos, masks, avoids):
        d.mkdir()
    paths, hole = scene(tmp_path)
    for key, folder in (("photo", photos), ("mask", masks), ("avoid", avoids)):
        paths[key].rename(folder / "a.png")
    assert cli.main(["fill", str(photos), "--mask", str(masks), "--avoid", str(avoids), "-o", str(out),
                     "--engine", "patchmatch", "--seed", "1", "--feather", "0"]) == 0
    assert magenta_in(out / "a.png", hole) == 0


def test_engines_that_ignore_avoid_say_so(tmp_path, capsys):
    paths, _ = scene(tmp_path)
    assert cli.main(["fill", str(paths["photo"]), "--mask", str(paths["mask"]), "--avoid",
                     str(paths["avoid"]), "-o", str(tmp_path / "t.png"), "--engine", "telea"]) == 0
    assert "engine 'telea' ignores --avoid" in capsys.readouterr().err


@pytest.mark.parametrize("bad, message", [("missing.png", "avoid mask not found"),
                                          ("small.png", "mask is 10x10 but the image is 96x72")])
def test_bad_avoid_is_one_line_and_nothing_written(tmp_path, capsys, bad, message):
    paths, _ = scene(tmp_path)
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "small.png")
    out = tmp_path / "out.png"
    assert run(paths, out, "--avoid", str(tmp_path / bad)) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()
