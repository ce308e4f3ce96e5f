"""Command line: fills, exit codes and messages, batch mode, engines list, GUI dispatch."""
from __future__ import annotations

import subprocess
import sys
import types

import cv2
import numpy as np
import pytest
from PIL import Image

from inpaint_studio import cli
from inpaint_studio.engines import registry


def write_rgb(path, h=48, w=64, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


def write_mask(path, h=48, w=64, box=(10, 20, 22, 34)):
    mask = np.zeros((h, w), bool)
    if box:
        y0, x0, y1, x1 = box
        mask[y0:y1, x0:x1] = True
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)).save(path)
    return mask


def read(path):
    return np.asarray(Image.open(path))


@pytest.fixture
def files(tmp_path):
    photo, mask = tmp_path / "photo.png", tmp_path / "mask.png"
    return photo, write_rgb(photo), mask, write_mask(mask)


def fill(*args):
    return cli.main(["fill", *map(str, args), "--engine", "telea"])


def test_fill_changes_only_hole_pixels(files, tmp_path, capsys):
    photo, pixels, mask, hole = files
    out = tmp_path / "out.png"
    assert fill(photo, "--mask", mask, "-o", out) == 0
    result = read(out)
    assert result.shape == pixels.shape
    assert np.array_equal(result[~hole], pixels[~hole])
    assert np.any(result[hole] != pixels[hole])
    assert "100%" in capsys.readouterr().err  # progress bar on stderr


def test_fill_keeps_16_bit_and_alpha(tmp_path):
    rgba = np.random.default_rng(5).integers(0, 65536, (40, 50, 4), dtype=np.uint16)
    photo, mask, out = tmp_path / "deep.png", tmp_path / "m.png", tmp_path / "out.png"
    cv2.imwrite(str(photo), rgba[..., [2, 1, 0, 3]])  # OpenCV writes BGRA
    hole = write_mask(mask, 40, 50, (5, 5, 15, 20))
    assert fill(photo, "--mask", mask, "-o", out, "--feather", "0") == 0
    result = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)[..., [2, 1, 0, 3]]
    assert result.dtype == np.uint16
    assert np.array_equal(result[~hole], rgba[~hole])
    assert np.array_equal(result[..., 3], rgba[..., 3])
    assert (result[hole][:, :3] % 257 == 0).all()  # 8-bit fill scaled to 16 bits


def test_params_and_feather_are_used(files, tmp_path):
    photo, pixels, mask, hole = files
    out = tmp_path / "out.png"
    assert fill(photo, "--mask", mask, "-o", out, "--param", "radius=2", "--feather", "2") == 0
    changed = np.any(read(out) != pixels, axis=2)
    assert changed[hole].all() and changed[~hole].any()  # the band blends too
    grown = cv2.dilate(hole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert not changed[~grown].any()


def test_colour_match_is_off_unless_asked(files, tmp_path):
    from inpaint_studio.pipeline.run import run_fill

    photo, pixels, mask, hole = files
    engine = registry.create("telea", "cpu")
    engine.load()
    for flag, colour_match in (([], False), (["--colour-match"], True)):
        out = tmp_path / f"out-{colour_match}.png"
        assert fill(photo, "--mask", mask, "-o", out, *flag) == 0
        expect = run_fill(pixels, hole, engine, colour_match=colour_match).image  # feather 0
        assert np.array_equal(read(out), expect)
    assert not np.array_equal(read(tmp_path / "out-True.png"), read(tmp_path / "out-False.png"))


@pytest.mark.parametrize("argv,code,text", [
    (["fill", "nothere.png", "--mask", "mask.png", "-o", "o.png"], 2, "image not found: nothere.png"),
    (["fill", "photo.png", "--mask", "nomask.png", "-o", "o.png"], 2, "mask not found"),
    (["fill", "photo.png", "--mask", "mask.png", "-o", "o.png", "--engine", "nope"], 2,
     "unknown engine 'nope'"),
    (["fill", "photo.png", "--mask", "mask.png", "-o", "o.png", "--engine", "telea",
      "--param", "radius=x"], 2, "--param radius needs a whole number"),
    (["fill", "photo.png", "--mask", "mask.png", "-o", "o.png", "--engine", "telea",
      "--param", "size=3"], 2, "has no parameter 'size'"),
    (["fill", "photo.png", "--mask", "mask.png", "-o", "o.png", "--engine", "telea",
      "--seed", "1"], 2, "has no seed"),
    (["fill", "photo.png", "--mask", "mask.png", "-o", "no/such/dir/o.png", "--engine",
      "telea"], 1, "does not exist"),
    (["fill", "photo.png", "--mask", "mask.png", "-o", "o.xyz", "--engine", "telea"], 2,
     "cannot save as '.xyz'"),
    (["fill", "photo.png", "--mask", "mask.png", "-o", "o.jpg", "--engine", "telea",
      "--quality", "0"], 2, "--quality must be between 1 and 100"),
    (["fill", "photo.png", "--mask", "mask.png", "--sketch", "small.png", "-o", "o.png",
      "--engine", "telea"], 2, "small.png: mask is 20x30 but the image is 64x48"),
])
def test_errors_are_one_line_with_exit_code(files, tmp_path, monkeypatch, capsys, argv, code, text):
    monkeypatch.chdir(tmp_path)
    write_mask(tmp_path / "small.png", 30, 20, None)
    assert cli.main(argv) == code
    err = capsys.readouterr().err
    line = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(line) == 1 and line[0].startswith("inpaint-studio: error: ") and text in line[0]
    assert not (tmp_path / "o.png").exists()


def test_output_folder_for_a_single_photo(files, tmp_path):
    photo, pixels, mask, hole = files
    out = tmp_path / "out"
    out.mkdir()
    assert fill(photo, "--mask", mask, "-o", out) == 0
    result = read(out / "photo.png")
    assert np.array_equal(result[~hole], pixels[~hole]) and np.any(result[hole] != pixels[hole])


def test_corrupt_input(files, tmp_path, capsys):
    photo, _, mask, _ = files
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 this is not really a jpeg")
    assert fill(bad, "--mask", mask, "-o", tmp_path / "o.png") == 2
    assert "inpaint-studio: error: " in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_size_mismatch_names_both_sizes(files, tmp_path, capsys):
    photo, _, _, _ = files
    small = tmp_path / "small.png"
    write_mask(small, 30, 20, None)
    assert fill(photo, "--mask", small, "-o", tmp_path / "o.png") == 2
    assert "mask is 20x30 but the image is 64x48" in capsys.readouterr().err


def test_engine_not_ready(files, tmp_path, monkeypatch, capsys):
    photo, _, mask, _ = files
    monkeypatch.setattr(registry, "readiness",
                        lambda name: registry.Readiness(False, "weights are missing"))
    assert fill(photo, "--mask", mask, "-o", tmp_path / "o.png") == 1
    assert "engine 'telea' is not ready: weights are missing" in capsys.readouterr().err


def test_refuses_to_overwrite(files, tmp_path, capsys):
    photo, pixels, mask, hole = files
    out = tmp_path / "out.png"
    out.write_bytes(b"keep me")
    assert fill(photo, "--mask", mask, "-o", out) == 2
    assert "already exists (use --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"
    before = photo.read_bytes()
    assert fill(photo, "--mask", mask, "-o", photo) == 2
    assert "is the input image" in capsys.readouterr().err
    assert photo.read_bytes() == before
    assert fill(photo, "--mask", mask, "-o", out, "--overwrite") == 0
    assert np.array_equal(read(out)[~hole], pixels[~hole])


def test_empty_mask_copies_with_warning(files, tmp_path, capsys):
    photo, pixels, _, _ = files
    empty, out = tmp_path / "empty.png", tmp_path / "out.png"
    write_mask(empty, box=None)
    assert fill(photo, "--mask", empty, "-o", out) == 0
    assert "inpaint-studio: warning: mask empty.png is empty" in capsys.readouterr().err
    assert np.array_equal(read(out), pixels)


def test_batch_by_stem_reports_bad_files_and_continues(tmp_path, capsys):
    photos, masks, out = tmp_path / "photos", tmp_path / "masks", tmp_path / "out"
    photos.mkdir()
    masks.mkdir()
    originals = {name: write_rgb(photos / f"{name}.png", seed=i) for i, name in enumerate("abd")}
    (photos / "c.jpg").write_bytes(b"broken")
    (photos / "notes.txt").write_text("not an image")
    holes = {"a": write_mask(masks / "a.png"), "b": write_mask(masks / "b.png", box=(0, 0, 5, 5))}
    write_mask(masks / "c.png")  # d has no mask
    assert fill(photos, "--mask", masks, "-o", out) == 2
    err = capsys.readouterr().err
    assert "c.jpg: " in err and "no mask for d.png" in err and "2 of 4 images failed" in err
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    for name in "ab":
        result, hole = read(out / f"{name}.png"), holes[name]
        assert np.array_equal(result[~hole], originals[name][~hole])
        assert np.any(result[hole] != originals[name][hole])


def test_batch_with_one_shared_mask(tmp_path, capsys):
    photos, out, mask = tmp_path / "photos", tmp_path / "out", tmp_path / "mask.png"
    photos.mkdir()
    originals = [write_rgb(photos / f"p{i}.png", seed=i) for i in range(3)]
    hole = write_mask(mask)
    assert fill(photos, "--mask", mask, "-o", out) == 0
    assert "3/3" in capsys.readouterr().err
    for i, pixels in enumerate(originals):
        result = read(out / f"p{i}.png")
        assert np.array_equal(result[~hole], pixels[~hole]) and np.any(result[hole] != pixels[hole])


def test_batch_never_overwrites_inputs(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    write_rgb(photos / "a.png")
    before = (photos / "a.png").read_bytes()
    mask = tmp_path / "mask.png"
    write_mask(mask)
    assert fill(photos, "--mask", mask, "-o", photos) == 2
    assert "is the input image" in capsys.readouterr().err
    assert (photos / "a.png").read_bytes() == before


def test_unexpected_error_is_one_line_with_debug_hint(files, tmp_path, monkeypatch, capsys):
    photo, _, mask, _ = files
    import inpaint_studio.pipeline.run as run_module

    def broken(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(run_module, "run_fill", broken)
    assert fill(photo, "--mask", mask, "-o", tmp_path / "o.png") == 1
    err = capsys.readouterr().err
    assert "inpaint-studio: error: RuntimeError: kaboom (run with --debug" in err
    assert "Traceback" not in err
    assert fill(photo, "--mask", mask, "-o", tmp_path / "o.png", "--debug") == 1
    assert "Traceback" in capsys.readouterr().err


def test_keyboard_interrupt_is_clean(files, tmp_path, monkeypatch, capsys):
    photo, _, mask, _ = files
    import inpaint_studio.pipeline.run as run_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "run_fill", interrupted)
    assert fill(photo, "--mask", mask, "-o", tmp_path / "o.png") == 130
    assert "cancelled" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_engines_lists_every_engine(capsys):
    assert cli.main(["engines"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in registry.engine_names():
        (line,) = [ln for ln in lines if ln.split()[0] == name]
        assert registry.get_info(name).title in line
        assert ("not ready" in line) != registry.readiness(name).ready


def test_usage_error_exit_code(capsys):
    assert cli.main(["fill", "photo.png"]) == 2  # --mask and -o missing
    assert "required" in capsys.readouterr().err


@pytest.fixture
def fake_app(monkeypatch):
    calls = []
    module = types.ModuleType("inpaint_studio.app")
    module.run = lambda photo=None: calls.append(photo) or 0
    monkeypatch.setitem(sys.modules, "inpaint_studio.app", module)
    return calls


def test_gui_dispatch(files, fake_app, capsys):
    photo = str(files[0])
    assert cli.main([]) == 0
    assert cli.main([photo]) == 0
    assert cli.main(["edit", photo]) == 0
    assert cli.main(["edit"]) == 0
    assert fake_app == [None, photo, photo, None]
    assert cli.main(["missing.jpg"]) == 2
    assert "no such file: missing.jpg" in capsys.readouterr().err
    assert len(fake_app) == 4


def test_patchmatch_fill(tmp_path):
    photo, mask, out = tmp_path / "p.png", tmp_path / "m.png", tmp_path / "o.png"
    pixels = write_rgb(photo, 40, 40)
    hole = write_mask(mask, 40, 40, (15, 15, 22, 22))
    argv = ["fill", photo, "--mask", mask, "-o", out, "--engine", "patchmatch", "--seed", "3",
            "--device", "cpu"]
    assert cli.main([str(a) for a in argv]) == 0
    result = read(out)
    assert np.array_equal(result[~hole], pixels[~hole]) and np.any(result[hole] != pixels[hole])


@pytest.mark.slow
def test_fill_subprocess(files, tmp_path):
    photo, pixels, mask, hole = files
    out = tmp_path / "o.png"
    proc = subprocess.run(
        [sys.executable, "-m", "inpaint_studio", "fill", str(photo), "--mask", str(mask),
         "-o", str(out), "--engine", "telea"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = read(out)
    assert np.array_equal(result[~hole], pixels[~hole]) and np.any(result[hole] != pixels[hole])


def test_subprocess_error_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "inpaint_studio", "fill", str(tmp_path / "x.png"),
                           "--mask", "m.png", "-o", "o.png"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("inpaint-studio: error: image not found")


def test_feather_must_be_a_number_or_auto(files, tmp_path):
    photo, mask = files[0], files[2]
    out = tmp_path / "out.png"
    assert fill(photo, "--mask", mask, "-o", out, "--feather", "wide") == 2
    assert not out.exists()


class _Terminal:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_progress_bar_redraws_on_a_terminal_and_writes_lines_elsewhere():
    import io

    term, log = _Terminal(), io.StringIO()
    for stream in (term, log):
        bar = cli.ProgressBar(3, width=6, stream=stream)
        for i, name in enumerate(["a.jpg", "b.jpg", "c.jpg"]):
            for fraction in (0.0, 0.3, 0.6, 0.9):
                bar.update(i + fraction, name)
        bar.update(3, "done")
        bar.finish()
    assert "\r" not in log.getvalue()
    assert log.getvalue().splitlines() == ["[      ] 0/3 a.jpg", "[##    ] 1/3 b.jpg",
                                           "[####  ] 2/3 c.jpg", "[######] 3/3 done"]
    assert term.text.count("\r") > 4 and term.text.endswith("\n")
    assert term.text.rstrip().endswith("\r[######] 3/3 done")

    single = io.StringIO()
    bar = cli.ProgressBar(1, stream=single)
    for k in range(1001):
        bar.update(k / 1000, "downloading")
    lines = single.getvalue().splitlines()
    assert len(lines) == 11 and lines[0].endswith("0% downloading") and lines[-1].endswith("100% downloading")


def test_default_fill_changes_no_pixel_outside_the_mask(tmp_path):
    # photographers expect what they did not paint to stay exactly as it was, at any size
    photo, mask = tmp_path / "photo.png", tmp_path / "mask.png"
    pixels = write_rgb(photo, 480, 800)
    hole = write_mask(mask, 480, 800, (200, 300, 260, 380))
    out = tmp_path / "out.png"
    assert fill(photo, "--mask", mask, "-o", out) == 0
    got = read(out)
    assert np.array_equal(got[~hole], pixels[~hole])
    assert not np.array_equal(got[hole], pixels[hole])
    out2 = tmp_path / "out2.png"
    assert fill(photo, "--mask", mask, "-o", out2, "--feather", "4") == 0  # asked for: a band
    assert not np.array_equal(read(out2)[~hole], pixels[~hole])
