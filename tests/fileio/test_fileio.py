"""Real file round-trips for fileio with small generated images."""
from __future__ import annotations

import io
import os
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from inpaint_studio.core.errors import UserError
from inpaint_studio.core.pixels import to_rgb8
from inpaint_studio.fileio import Picture, deep, formats, load_image, load_mask, save_image, save_mask

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def gradient(h=24, w=32, channels=3, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    return rng.integers(0, top + 1, size=(h, w, channels), dtype=np.int64).astype(dtype)


def smooth(h=48, w=64):
    """A smooth colour picture that survives lossy compression closely."""
    y, x = np.mgrid[0:h, 0:w]
    return np.dstack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)]).astype(np.uint8)


def files_in(folder):
    return sorted(os.listdir(folder))


# ---------------------------------------------------------------- EXIF orientation

def camera_exif(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"  # Make
    exif[0x0132] = "2024:05:06 07:08:09"  # DateTime
    return exif


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow(tmp_path, orientation):
    pixels = smooth(20, 30)
    path = tmp_path / "o.png"
    Image.fromarray(pixels).save(path, exif=camera_exif(orientation))
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    assert np.array_equal(load_image(path).pixels, expected)


def test_jpeg_orientation_6_rotated_and_exif_kept(tmp_path):
    pixels = smooth(40, 64)  # landscape as stored
    src = tmp_path / "camera.jpg"
    Image.fromarray(pixels).save(src, quality=95, exif=camera_exif(6))
    picture = load_image(src)
    assert picture.format == "JPEG"
    assert (picture.width, picture.height) == (40, 64)  # shown rotated 90 degrees clockwise
    # the stored top-left corner is now the top-right corner
    stored = np.asarray(Image.open(src).convert("RGB")).astype(int)
    assert np.abs(picture.pixels[0, -1].astype(int) - stored[0, 0]).max() <= 6
    assert np.abs(picture.pixels[-1, 0].astype(int) - stored[-1, -1]).max() <= 6

    out = tmp_path / "edited.jpg"
    save_image(out, picture)
    with Image.open(out) as saved:
        exif = saved.getexif()
        assert saved.size == (40, 64)
        assert exif[0x0112] == 1
        assert exif[0x010F] == "TestCam"
        assert exif[0x0132] == "2024:05:06 07:08:09"
    again = load_image(out)
    assert again.pixels.shape == picture.pixels.shape
    assert np.abs(again.pixels.astype(int) - picture.pixels.astype(int)).max() <= 6


def test_orientation_reset_keeps_exif_subifd_bytes(tmp_path):
    exif = camera_exif(8)
    exif.get_ifd(0x8769)[0x9003] = "2020:01:02 03:04:05"  # DateTimeOriginal
    src = tmp_path / "a.jpg"
    Image.fromarray(smooth()).save(src, exif=exif)
    picture = load_image(src)
    raw = Image.open(src).info["exif"]
    assert len(picture.exif) == len(raw)  # patched in place, nothing dropped
    assert Image.open(src).getexif()[0x0112] == 8
    out = tmp_path / "b.png"
    save_image(out, picture)
    exif_out = Image.open(out).getexif()
    assert exif_out[0x0112] == 1
    assert exif_out.get_ifd(0x8769)[0x9003] == "2020:01:02 03:04:05"


def test_tiff_orientation_and_exif_to_jpeg(tmp_path):
    src = tmp_path / "scan.tif"
    Image.fromarray(smooth(20, 30)).save(src, exif=camera_exif(3))
    picture = load_image(src)
    assert np.array_equal(picture.pixels, smooth(20, 30)[::-1, ::-1])
    out = tmp_path / "scan.jpg"
    save_image(out, picture)
    exif = Image.open(out).getexif()
    assert exif[0x010F] == "TestCam" and exif.get(0x0112, 1) == 1
    assert 273 not in exif and 256 not in exif  # no TIFF layout tags leak into JPEG EXIF


# ---------------------------------------------------------------- ICC, alpha, depth

@pytest.mark.parametrize("ext", [".jpg", ".png", ".tif", ".webp"])
def test_icc_round_trip(tmp_path, ext):
    src = tmp_path / f"in{ext}"
    Image.fromarray(smooth()).save(src, icc_profile=SRGB)
    picture = load_image(src)
    assert picture.icc == SRGB
    out = tmp_path / f"out{ext}"
    save_image(out, picture.pixels, like=picture)
    assert Image.open(out).info.get("icc_profile") == SRGB
    assert load_image(out).icc == SRGB


@pytest.mark.parametrize("ext", [".png", ".webp", ".tif"])
def test_alpha_round_trip(tmp_path, ext):
    rgba = np.dstack([smooth(), np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))])
    out = tmp_path / f"a{ext}"
    save_image(out, rgba)
    back = load_image(out)
    assert back.has_alpha
    assert np.array_equal(back.pixels[..., 3], rgba[..., 3])
    tolerance = 8 if ext == ".webp" else 0
    visible = rgba[..., 3] > 0
    diff = np.abs(back.pixels[..., :3].astype(int) - rgba[..., :3].astype(int))
    assert diff[visible].max() <= tolerance


@pytest.mark.parametrize("ext", [".jpg", ".bmp"])
def test_alpha_composited_on_white(tmp_path, ext):
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:8, :, 3] = 255  # top half opaque red-ish, bottom half transparent
    out = tmp_path / f"flat{ext}"
    save_image(out, rgba, quality=100)
    back = load_image(out).pixels.astype(int)
    assert back.shape == (16, 16, 3)
    assert np.abs(back[2, 2] - [200, 0, 0]).max() <= 6
    assert np.abs(back[13, 13] - [255, 255, 255]).max() <= 6


@pytest.mark.parametrize("ext", [".png", ".tif"])
@pytest.mark.parametrize("channels", [3, 4])
def test_16bit_round_trip_exact(tmp_path, ext, channels):
    pixels = gradient(20, 30, channels, np.uint16, seed=channels)
    assert pixels.max() > 255
    out = tmp_path / f"deep{ext}"
    save_image(out, pixels)
    back = load_image(out)
    assert back.pixels.dtype == np.uint16 and back.bit_depth == 16
    assert np.array_equal(back.pixels, pixels)
    again = tmp_path / f"again{ext}"
    save_image(again, back)
    assert np.array_equal(load_image(again).pixels, pixels)


def test_16bit_png_keeps_icc_exif_and_orientation(tmp_path):
    pixels = gradient(10, 14, 3, np.uint16)
    src = tmp_path / "deep.png"
    with open(src, "wb") as f:  # written by our encoder with orientation 6, then reloaded
        deep.write_png16(f, pixels, camera_exif(6).tobytes(), SRGB)
    picture = load_image(src)
    assert np.array_equal(picture.pixels, np.rot90(pixels, -1))
    assert picture.icc == SRGB
    out = tmp_path / "out.png"
    save_image(out, picture)
    with Image.open(out) as im:
        assert im.info["icc_profile"] == SRGB
        assert im.getexif()[0x0112] == 1 and im.getexif()[0x010F] == "TestCam"
    assert np.array_equal(load_image(out).pixels, picture.pixels)


@pytest.mark.parametrize("where", ["none", "before", "after"])
def test_16bit_png_is_decoded_once(tmp_path, monkeypatch, where):
    """Pillow never decodes the pixels (OpenCV does, once); EXIF is found before or after IDAT."""
    from PIL import PngImagePlugin

    pixels = gradient(10, 14, 3, np.uint16)
    buf = io.BytesIO()
    deep.write_png16(buf, pixels, None if where == "none" else camera_exif(6).tobytes(), None)
    data = buf.getvalue()
    if where == "after":  # move the eXIf chunk just before IEND, as some writers do
        start = data.index(b"eXIf") - 4
        end = start + 12 + struct.unpack(">I", data[start:start + 4])[0]
        chunk, data = data[start:end], data[:start] + data[end:]
        data = data[:-12] + chunk + data[-12:]
    src = tmp_path / "deep.png"
    src.write_bytes(data)
    calls = []
    original = PngImagePlugin.PngImageFile.load
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", lambda im: calls.append(1) or original(im))
    picture = load_image(src)
    assert calls == []
    if where == "none":
        assert picture.exif is None and np.array_equal(picture.pixels, pixels)
        return
    assert np.array_equal(picture.pixels, np.rot90(pixels, -1))  # orientation 6 was read and applied
    exif = Image.Exif()
    exif.load(picture.exif)
    assert exif[0x010F] == "TestCam" and exif[0x0112] == 1


def test_16bit_tiff_keeps_icc_and_make(tmp_path):
    picture = Picture(gradient(8, 9, 3, np.uint16), "TIFF", exif=camera_exif(1).tobytes(), icc=SRGB)
    out = tmp_path / "deep.tif"
    save_image(out, picture)
    back = load_image(out)
    assert back.icc == SRGB
    assert np.array_equal(back.pixels, picture.pixels)
    assert Image.open(out).getexif()[0x010F] == "TestCam"


def test_16bit_tiff_orientation(tmp_path):
    import tifffile

    pixels = gradient(6, 10, 3, np.uint16)
    src = tmp_path / "deep.tif"
    tifffile.imwrite(src, pixels, photometric="rgb", extratags=[(274, "H", 1, 6, True)])
    assert np.array_equal(load_image(src).pixels, np.rot90(pixels, -1))


def test_16bit_to_8bit_formats_round(tmp_path):
    pixels = np.full((4, 4, 3), 257 * 77 + 100, np.uint16)  # 77.39 -> 77
    pixels[0, 0] = 257 * 77 + 200  # 77.78 -> 78
    out = tmp_path / "x.bmp"
    save_image(out, pixels)
    back = load_image(out).pixels
    assert back.dtype == np.uint8
    assert back[1, 1, 0] == 77 and back[0, 0, 0] == 78


# ---------------------------------------------------------------- modes

@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif", ".bmp"])
def test_greyscale_in_and_out(tmp_path, ext):
    grey = smooth()[..., 0]
    src = tmp_path / f"g{ext}"
    Image.fromarray(grey).save(src)
    picture = load_image(src)
    assert picture.source_mode == "L"
    assert picture.pixels.shape == (48, 64, 3)
    tolerance = 3 if ext == ".jpg" else 0
    assert np.abs(picture.pixels[..., 1].astype(int) - grey).max() <= tolerance
    out = tmp_path / f"out{ext}"
    save_image(out, picture)
    assert Image.open(out).mode == "L"
    colour = picture.pixels.copy()
    colour[0, 0] = [255, 0, 0]
    save_image(out, colour, like=picture)
    assert Image.open(out).mode == "RGB"


def test_grey_with_alpha_png(tmp_path):
    la = np.dstack([smooth()[..., 0], np.full((48, 64), 90, np.uint8)])
    src = tmp_path / "la.png"
    Image.fromarray(la, "LA").save(src)
    picture = load_image(src)
    assert picture.source_mode == "LA" and picture.has_alpha
    assert np.array_equal(picture.pixels[..., 2], la[..., 0])
    out = tmp_path / "out.png"
    save_image(out, picture)
    with Image.open(out) as im:
        assert im.mode == "LA" and np.array_equal(np.asarray(im), la)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_grey_with_alpha_round_trip(tmp_path, ext):
    deep = gradient(10, 12, 4, np.uint16)
    deep[..., 1] = deep[..., 2] = deep[..., 0]
    out = tmp_path / f"la16{ext}"
    save_image(out, deep, like=Picture(deep, "PNG", source_mode="I;16"))
    back = load_image(out)
    assert np.array_equal(back.pixels, deep)


@pytest.mark.parametrize("ext", [".png", ".webp", ".tif", ".jpg"])
def test_exif_survives_format_change(tmp_path, ext):
    src = tmp_path / "camera.jpg"
    Image.fromarray(smooth()).save(src, exif=camera_exif(1))
    out = tmp_path / f"converted{ext}"
    save_image(out, load_image(src))
    exif = Image.open(out).getexif()
    assert exif[0x010F] == "TestCam" and exif[0x0132] == "2024:05:06 07:08:09"


def test_16bit_grey_png_stays_grey_16bit(tmp_path):
    grey = gradient(12, 10, 1, np.uint16)[..., 0]
    src = tmp_path / "g16.png"
    Image.fromarray(grey).save(src)  # Pillow writes I;16
    picture = load_image(src)
    assert picture.source_mode.startswith("I;16") and picture.bit_depth == 16
    assert np.array_equal(picture.pixels[..., 2], grey)
    out = tmp_path / "out.png"
    save_image(out, picture)
    with Image.open(out) as im:
        assert im.mode.startswith("I;16")
        assert np.array_equal(np.asarray(im).astype(np.uint16), grey)


def test_palette_with_transparency(tmp_path):
    im = Image.new("P", (8, 6))
    im.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    pixels = np.zeros((6, 8), np.uint8)
    pixels[:, 4:] = 1
    pixels[0, 0] = 2
    im.putdata(pixels.ravel().tolist())
    src = tmp_path / "p.png"
    im.save(src, transparency=0)
    picture = load_image(src)
    assert picture.source_mode == "P" and picture.has_alpha
    assert picture.pixels[0, 0].tolist() == [0, 0, 255, 255]
    assert picture.pixels[3, 6].tolist() == [255, 0, 0, 255]
    assert picture.pixels[3, 1, 3] == 0


def test_palette_without_transparency_is_rgb(tmp_path):
    src = tmp_path / "p.bmp"
    Image.fromarray(smooth()).convert("P").save(src)
    picture = load_image(src)
    assert picture.format == "BMP" and picture.pixels.shape == (48, 64, 3)


def test_cmyk_jpeg(tmp_path):
    src = tmp_path / "print.jpg"
    Image.new("CMYK", (10, 8), (0, 255, 255, 0)).save(src, quality=100)
    picture = load_image(src)
    assert picture.source_mode == "CMYK" and picture.pixels.shape == (8, 10, 3)
    r, g, b = picture.pixels[4, 5].astype(int)
    assert r > 200 and g < 60 and b < 60  # full magenta + yellow is red


def test_bmp_round_trip(tmp_path):
    pixels = gradient()
    out = tmp_path / "plain.bmp"
    save_image(out, pixels)
    back = load_image(out)
    assert back.format == "BMP" and np.array_equal(back.pixels, pixels)


def test_jpeg_quality_and_subsampling(tmp_path):
    from PIL import JpegImagePlugin

    pixels = gradient(64, 64)
    high, low = tmp_path / "high.jpg", tmp_path / "low.jpg"
    save_image(high, pixels)
    save_image(low, pixels, quality=60)
    assert JpegImagePlugin.get_sampling(Image.open(high)) == 0  # 4:4:4
    assert JpegImagePlugin.get_sampling(Image.open(low)) == 2  # 4:2:0
    assert os.path.getsize(low) < os.path.getsize(high)


# ---------------------------------------------------------------- bad files

def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        load_image(tmp_path / "nope.jpg")


def test_random_bytes_not_an_image(tmp_path):
    path = tmp_path / "noise.jpg"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(UserError, match="not an image") as info:
        load_image(path)
    assert "noise.jpg" in str(info.value) and "\n" not in str(info.value)


def test_truncated_jpeg_opens_with_a_warning(tmp_path):
    """As GIMP and Photoshop do: the rows that were read, the rest padded, and a warning."""
    pixels = smooth(64, 64)
    whole = tmp_path / "whole.jpg"
    save_image(whole, pixels)
    data = whole.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) * 2 // 3])
    picture = load_image(cut)
    assert "cut.jpg is truncated" in picture.warning and "\n" not in picture.warning
    assert picture.pixels.shape == (64, 64, 3)
    assert np.abs(picture.pixels[:8].astype(int) - pixels[:8]).mean() < 4
    assert load_image(whole).warning is None
    cut.write_bytes(data[:300])  # only headers: refused
    with pytest.raises(UserError, match="cut.jpg"):
        load_image(cut)


@pytest.mark.parametrize("ext", [".png", ".webp", ".tif"])
def test_truncated_file(tmp_path, ext):
    whole = tmp_path / f"whole{ext}"
    save_image(whole, gradient(64, 64))
    cut = tmp_path / f"cut{ext}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(UserError) as info:
        load_image(cut)
    message = str(info.value)
    assert f"cut{ext}" in message and "\n" not in message


def test_truncated_16bit_png(tmp_path):
    whole = tmp_path / "whole.png"
    save_image(whole, gradient(64, 64, 3, np.uint16))
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[:5000])
    with pytest.raises(UserError, match="damaged or truncated"):
        load_image(cut)


def test_unsupported_format(tmp_path):
    path = tmp_path / "anim.gif"
    Image.new("P", (4, 4)).save(path)
    with pytest.raises(UserError, match="GIF files are not supported"):
        load_image(path)


def test_decompression_bomb_header_only(tmp_path):
    """A tiny PNG claiming 100000 x 100000 pixels is refused before any decoding."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
    path = tmp_path / "bomb.png"
    path.write_bytes(png)
    start = time.perf_counter()
    with pytest.raises(UserError, match="10,000,000,000 pixels.*178,956,970"):
        load_image(path)
    assert time.perf_counter() - start < 2


def test_decompression_bomb_cap_is_configurable(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.fromarray(gradient(100, 100)).save(path)
    monkeypatch.setattr(formats, "MAX_PIXELS", 5000)
    with pytest.raises(UserError, match="100x100 = 10,000 pixels.*5,000"):
        load_image(path)


# ---------------------------------------------------------------- masks

def test_mask_threshold(tmp_path):
    values = np.array([[0, 127, 128, 255]], np.uint8).repeat(3, axis=0)
    path = tmp_path / "m.png"
    Image.fromarray(values).save(path)
    mask = load_mask(path, (4, 3))
    assert mask.dtype == np.bool_ and mask.shape == (3, 4)
    assert mask[0].tolist() == [False, False, True, True]


def test_mask_alpha_used_when_not_opaque(tmp_path):
    rgba = np.zeros((2, 3, 4), np.uint8)  # black everywhere; holes marked by alpha
    rgba[..., 3] = [[0, 200, 255], [100, 128, 0]]
    path = tmp_path / "m.png"
    Image.fromarray(rgba).save(path)
    assert load_mask(path, (3, 2)).tolist() == [[False, True, True], [False, True, False]]


def test_mask_opaque_alpha_uses_grey(tmp_path):
    rgba = np.full((2, 2, 4), 255, np.uint8)
    rgba[0, :, :3] = 0
    path = tmp_path / "m.png"
    Image.fromarray(rgba).save(path)
    assert load_mask(path, (2, 2)).tolist() == [[False, False], [True, True]]


def test_mask_follows_exif_orientation(tmp_path):
    values = np.zeros((2, 4), np.uint8)
    values[0, 0] = 255
    path = tmp_path / "m.jpg"
    Image.fromarray(values).resize((40, 20), Image.NEAREST).save(path, exif=camera_exif(6), quality=100)
    mask = load_mask(path, (20, 40))
    assert mask[5, -5] and not mask[5, 5]  # top-left of the stored image is now top-right


def test_mask_size_mismatch(tmp_path):
    path = tmp_path / "m.png"
    save_mask(path, np.zeros((480, 640), bool))
    with pytest.raises(UserError, match="mask is 640x480 but the image is 800x600"):
        load_mask(path, (800, 600))


def test_save_mask_round_trip(tmp_path):
    mask = np.random.default_rng(3).random((30, 40)) > 0.5
    path = tmp_path / "hole.png"
    save_mask(path, mask)
    with Image.open(path) as im:
        assert im.mode == "L"
        assert set(np.unique(np.asarray(im)).tolist()) == {0, 255}
    assert np.array_equal(load_mask(path, (40, 30)), mask)
    assert files_in(tmp_path) == ["hole.png"]


# ---------------------------------------------------------------- atomic save

def test_failed_save_leaves_existing_file_untouched(tmp_path, monkeypatch):
    out = tmp_path / "keep.png"
    save_image(out, gradient())
    before = out.read_bytes()

    def broken(self, fp, format=None, **params):
        fp.write(b"partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken)
    with pytest.raises(UserError, match="keep.png.*No space left"):
        save_image(out, gradient(seed=5))
    assert out.read_bytes() == before
    assert files_in(tmp_path) == ["keep.png"]


def test_failed_16bit_save_removes_temp(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("encoder exploded")

    monkeypatch.setattr(deep, "paeth", broken)
    with pytest.raises(UserError, match="encoder exploded"):
        save_image(tmp_path / "deep.png", gradient(8, 8, 3, np.uint16))
    assert files_in(tmp_path) == []


def test_save_keeps_permissions(tmp_path):
    out = tmp_path / "shared.png"
    save_image(out, gradient())
    os.chmod(out, 0o640)
    save_image(out, gradient(seed=2))
    assert os.stat(out).st_mode & 0o777 == 0o640
    assert np.array_equal(load_image(out).pixels, gradient(seed=2))


def test_save_into_missing_folder(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        save_image(tmp_path / "nowhere" / "x.png", gradient())


def test_save_where_folder_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="cannot save"):
        save_image(tmp_path / "file" / "x.png", gradient())


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_save_into_read_only_folder(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    os.chmod(folder, 0o500)
    try:
        with pytest.raises(UserError, match="cannot save .*Permission denied"):
            save_image(folder / "x.png", gradient())
    finally:
        os.chmod(folder, 0o700)


def test_save_unknown_extension(tmp_path):
    with pytest.raises(UserError, match=r"\.gif"):
        save_image(tmp_path / "x.gif", gradient())


# ---------------------------------------------------------------- helpers

def test_to_rgb8():
    deep = np.zeros((2, 2, 4), np.uint16)
    deep[0, 0, :3] = [65535, 128, 129]  # 128/257 = 0.498 -> 0, 129/257 = 0.502 -> 1
    deep[..., 3] = 7
    out = to_rgb8(deep)
    assert out.dtype == np.uint8 and out.shape == (2, 2, 3)
    assert out[0, 0].tolist() == [255, 0, 1]
    eight = gradient(4, 5, 4)
    assert np.array_equal(to_rgb8(eight), eight[..., :3])
    assert to_rgb8(eight[..., 0]).shape == (4, 5, 3)
