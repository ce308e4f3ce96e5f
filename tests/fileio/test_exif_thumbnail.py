"""Saved files never carry a thumbnail or preview of what the fill removed."""
from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import ExifTags, Image

from inpaint_studio import cli
from inpaint_studio.fileio import exifthumb

RED = (230, 20, 20)


def photo_with_object(h=96, w=128):
    """A grey-green photo with a red 'passer-by' in the middle."""
    y, x = np.mgrid[0:h, 0:w]
    pixels = np.dstack([90 + x // 4, 120 + y // 4, 80 + 0 * x]).astype(np.uint8)
    pixels[32:64, 48:80] = RED
    return pixels


def jpeg_bytes(pixels, size=None):
    im = Image.fromarray(pixels)
    if size:
        im = im.resize(size)
    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def camera_block(thumb: bytes, preview: bytes, order="<") -> bytes:
    """An EXIF block as cameras write it: IFD0 (Make, Orientation, Exif IFD with a maker
    note holding a preview JPEG), then IFD1 with the thumbnail at the end."""
    head = (b"II" if order == "<" else b"MM") + struct.pack(order + "HI", 42, 8)
    ifd0_size = 2 + 3 * 12 + 4
    make_at = 8 + ifd0_size
    sub_at = make_at + 8
    note_at = sub_at + 2 + 12 + 4
    ifd1_at = note_at + len(preview) + len(preview) % 2
    thumb_at = ifd1_at + 2 + 3 * 12 + 4

    def entry(tag, kind, count, value):
        field = struct.pack(order + "HH", value, 0) if kind == 3 else struct.pack(order + "I", value)
        return struct.pack(order + "HHI", tag, kind, count) + field

    ifd0 = (struct.pack(order + "H", 3) + entry(0x010F, 2, 8, make_at) + entry(0x0112, 3, 1, 1)
            + entry(0x8769, 4, 1, sub_at) + struct.pack(order + "I", ifd1_at))
    sub = struct.pack(order + "H", 1) + entry(0x927C, 7, len(preview), note_at) + struct.pack(order + "I", 0)
    ifd1 = (struct.pack(order + "H", 3) + entry(0x0103, 3, 1, 6) + entry(0x0201, 4, 1, thumb_at)
            + entry(0x0202, 4, 1, len(thumb)) + struct.pack(order + "I", 0))
    body = head + ifd0 + b"TestCam\x00" + sub + preview + b"\x00" * (len(preview) % 2) + ifd1 + thumb
    assert len(head + ifd0 + b"TestCam\x00" + sub) == note_at and body.index(thumb) == thumb_at
    return b"Exif\x00\x00" + body


def red_share(jpeg: bytes) -> float:
    """Fraction of a JPEG's pixels that are the object's red."""
    rgb = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).astype(int)
    return float(np.mean((rgb[..., 0] > 180) & (rgb[..., 1] < 80)))


@pytest.fixture
def camera_photo(tmp_path):
    pixels = photo_with_object()
    thumb, preview = jpeg_bytes(pixels, (64, 48)), jpeg_bytes(pixels, (96, 72))
    assert red_share(thumb) > 0.05
    src = tmp_path / "camera.jpg"
    Image.fromarray(pixels).save(src, quality=95, exif=camera_block(thumb, preview))
    mask = np.zeros(pixels.shape[:2], np.uint8)
    mask[28:68, 44:84] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    return src, tmp_path / "mask.png", thumb, preview


@pytest.mark.parametrize("ext", [".jpg", ".webp", ".png"])
def test_saved_thumbnail_shows_the_fill(camera_photo, tmp_path, ext):
    src, mask, old_thumb, preview = camera_photo
    out = tmp_path / f"out{ext}"
    assert cli.main(["fill", str(src), "--mask", str(mask), "-o", str(out), "--engine", "telea"]) == 0
    data = out.read_bytes()
    assert old_thumb[2:200] not in data and preview[2:200] not in data  # old images gone
    with Image.open(out) as im:
        exif = im.getexif()
        raw = im.info["exif"]
    assert exif[0x010F] == "TestCam"  # the rest of the EXIF is kept
    assert exif.get_ifd(ExifTags.IFD.IFD1).get(0x0201)  # Pillow sees a thumbnail too
    thumb = exifthumb.read_thumbnail(raw)
    assert thumb is not None and thumb.startswith(b"\xff\xd8")
    with Image.open(io.BytesIO(thumb)) as im:
        assert max(im.size) == 128 and abs(im.size[0] / im.size[1] - 128 / 96) < 0.05  # never upscaled
    assert red_share(thumb) < 0.002  # the filled photo, not the original
    result = np.asarray(Image.open(out).convert("RGB")).astype(int)
    small = np.asarray(Image.open(io.BytesIO(thumb)).resize((128, 96))).astype(int)
    assert np.abs(small - result).mean() < 12  # and it is this photo


@pytest.mark.parametrize("ext", [".tif", ".bmp"])
def test_formats_without_exif_thumbnails_carry_none(camera_photo, tmp_path, ext):
    src, mask, old_thumb, preview = camera_photo
    out = tmp_path / f"out{ext}"
    assert cli.main(["fill", str(src), "--mask", str(mask), "-o", str(out), "--engine", "telea"]) == 0
    data = out.read_bytes()
    assert old_thumb[2:200] not in data and preview[2:200] not in data
    with Image.open(out) as im:
        assert getattr(im, "n_frames", 1) == 1  # no thumbnail page either
        if ext == ".tif":
            exif = im.getexif()
            assert exif[0x010F] == "TestCam"
            assert not exif.get_ifd(ExifTags.IFD.IFD1)


@pytest.mark.parametrize("order", ["<", ">"])
def test_scrub_replaces_ifd1_and_keeps_other_offsets(order):
    thumb, preview = b"\xff\xd8old-thumb\xff\xd9", b"\xff\xd8preview-image\xff\xd9"
    block = camera_block(thumb, preview, order)
    new = exifthumb.scrub(block, lambda: b"\xff\xd8new\xff\xd9")
    assert exifthumb.read_thumbnail(new) == b"\xff\xd8new\xff\xd9"
    assert b"old-thumb" not in new and b"preview-image" not in new
    assert new.index(b"TestCam") == block.index(b"TestCam")  # IFD0 data did not move
    dropped = exifthumb.scrub(block, None)
    assert exifthumb.read_thumbnail(dropped) is None and b"old-thumb" not in dropped
    assert len(dropped) < len(block) - len(thumb)  # the tail was cut, not just blanked
    ex = Image.Exif()
    ex.load(new)
    assert ex[0x010F] == "TestCam" and ex[0x0112] == 1


def test_scrub_leaves_blocks_without_thumbnail_alone_and_drops_garbage():
    ex = Image.Exif()
    ex[0x010F] = "TestCam"
    plain = ex.tobytes()
    assert exifthumb.scrub(plain, lambda: b"never") == plain
    assert exifthumb.scrub(b"Exif\x00\x00II*\x00\xff\xff\xff\x7f", None) is None
