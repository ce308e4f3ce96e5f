"""fileio guards found by fuzzing: FIFOs, Pillow's global limit, no-clobber saves,
symlinks, long names, format limits."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from inpaint_studio import fileio
from inpaint_studio.core.errors import UserError


def pixels(h=16, w=24):
    return np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="not a regular file"):
        fileio.load_image(fifo)  # would block forever if opened


def test_pillows_global_bomb_limit_is_never_changed(tmp_path, monkeypatch):
    seen = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: seen.append(Image.MAX_IMAGE_PIXELS) or real_open(*a, **k))
    fileio.save_image(tmp_path / "a.png", pixels())
    fileio.load_image(tmp_path / "a.png")
    assert seen == [Image.MAX_IMAGE_PIXELS] and Image.MAX_IMAGE_PIXELS is not None


def test_no_overwrite_never_replaces_a_file_that_appeared_meanwhile(tmp_path):
    out = tmp_path / "out.png"
    out.write_bytes(b"someone else's file")
    with pytest.raises(UserError, match="already exists"):
        fileio.save_image(out, pixels(), overwrite=False)
    assert out.read_bytes() == b"someone else's file"
    assert os.listdir(tmp_path) == ["out.png"]  # no temp file left
    fileio.save_image(tmp_path / "new.png", pixels(), overwrite=False)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "new.png")), pixels())


def test_a_symlink_is_written_through(tmp_path):
    target, link = tmp_path / "target.png", tmp_path / "link.png"
    fileio.save_image(target, pixels())
    os.symlink(target, link)
    fileio.save_image(link, pixels() // 2)
    assert link.is_symlink()
    assert np.array_equal(np.asarray(Image.open(target)), pixels() // 2)


def test_names_up_to_255_bytes_can_be_saved(tmp_path):
    out = tmp_path / ("é" * 125 + "x.png")  # 255 bytes in UTF-8
    assert len(os.fsencode(out.name)) == 255
    fileio.save_image(out, pixels())
    assert out.is_file() and len(os.listdir(tmp_path)) == 1


def test_format_limits_are_checked_before_anything_is_written(tmp_path):
    with pytest.raises(UserError, match="WEBP holds at most 16383"):
        fileio.check_can_save(tmp_path / "a.webp", 16_384, 10)
    with pytest.raises(UserError, match="JPEG holds at most"):
        fileio.check_can_save(tmp_path / "a.jpg", 10, 70_000)
    fileio.check_can_save(tmp_path / "a.png", 70_000, 10)
    assert os.listdir(tmp_path) == []


def test_exif_too_big_for_jpeg_is_left_out_with_a_note(tmp_path):
    exif = Image.Exif()
    exif[0x010E] = "x" * 80_000
    picture = fileio.Picture(pixels(), "PNG", exif=exif.tobytes())
    notes = fileio.save_notes(tmp_path / "a.jpg", picture)
    assert len(notes) == 1 and "too big for JPEG" in notes[0]
    fileio.save_image(tmp_path / "a.jpg", picture)
    assert not Image.open(tmp_path / "a.jpg").getexif()
    assert fileio.save_notes(tmp_path / "a.png", picture) == []
    fileio.save_image(tmp_path / "a.png", picture)
    assert Image.open(tmp_path / "a.png").getexif()[0x010E] == "x" * 80_000


def test_multi_page_files_are_refused(tmp_path):
    frames = [Image.fromarray(pixels() // (i + 1)) for i in range(3)]
    frames[0].save(tmp_path / "pages.tif", save_all=True, append_images=frames[1:])
    with pytest.raises(UserError, match="holds 3 pages"):
        fileio.load_image(tmp_path / "pages.tif")
