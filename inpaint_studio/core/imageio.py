"""Image files in and out, keeping what photographers care about.

Reads JPEG, PNG, TIFF, WebP and BMP into a :class:`Picture` (RGB/RGBA, uint8 or uint16),
with EXIF orientation applied, and the EXIF block, ICC profile and original mode kept so
``save_image`` can write them back. Every problem with a user's file becomes a one-line
``UserError`` naming the file; every save goes to a temp file first and is then renamed.

Pillow does the work, except for 16-bit colour pixels, which Pillow reduces to 8 bits:
16-bit PNGs are decoded by OpenCV and encoded here (zlib), 16-bit TIFFs go through tifffile.
Masks are read like images, EXIF orientation included, so a mask is used the way every
image viewer shows it.
"""
from __future__ import annotations

import io
import os
import re
import secrets
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import Callable, Optional, Union

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from inpaint_studio.core import exifthumb
from inpaint_studio.core.errors import UserError

MAX_PIXELS = 2 * 89_478_485
"""Refuse images with more pixels than this (decompression-bomb guard): Pillow's own hard
limit, which is left in place (never lifted, so other threads stay guarded too)."""
JPEG_MAX_PIXELS_PER_BYTE = 2000  # even a flat progressive JPEG needs more bytes than this

JPEG_QUALITY = 95
PNG_LEVEL = 3  # zlib level of our PNGs: ~3x faster than Pillow's 6, files a few % larger
WEBP_METHOD = 2  # libwebp effort: ~6x faster than Pillow's 4 at 24 MP, same size, -0.1 dB

EXTENSIONS = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".png": "PNG", ".tif": "TIFF",
    ".tiff": "TIFF", ".webp": "WEBP", ".bmp": "BMP",
}
_PIL_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "TIFF": "TIFF", "WEBP": "WEBP",
                "BMP": "BMP"}
GREY_MODES = frozenset({"1", "L", "LA", "La", "I;16", "I;16B", "I;16L", "I;16N"})

_ORIENTATION = 0x0112
_EXIF_HEADER = b"Exif\x00\x00"
# IFD0 tags worth carrying from a TIFF's own directory into an EXIF block (the rest of a
# TIFF directory describes that file's pixel layout and must not travel).
_TIFF_EXIF_TAGS = frozenset({270, 271, 272, 274, 282, 283, 296, 305, 306, 315, 531, 33432,
                             0x8769, 0x8825, 18246, 18249})
_TIFF_TEXT_TAGS = (271, 272, 306, 315, 33432)  # written into 16-bit TIFFs


@dataclass
class Picture:
    """Decoded pixels plus what is needed to save them like the original."""

    pixels: np.ndarray  # (H, W, 3) RGB or (H, W, 4) RGBA, uint8 or uint16
    format: str = "PNG"  # "JPEG", "PNG", "TIFF", "WEBP" or "BMP"
    exif: Optional[bytes] = None  # with the "Exif\0\0" header; orientation already 1
    icc: Optional[bytes] = None
    source_mode: str = "RGB"  # Pillow's mode of the file, e.g. "L", "P", "CMYK", "I;16"
    path: Optional[str] = None
    warning: Optional[str] = None  # one line for the user, e.g. a truncated file opened

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def has_alpha(self) -> bool:
        return self.pixels.shape[2] == 4

    @property
    def bit_depth(self) -> int:
        return 16 if self.pixels.dtype == np.uint16 else 8


# ---------------------------------------------------------------- loading

def load_image(path) -> Picture:
    """Read an image file; raise UserError (one line, naming the file) if that fails."""
    path = os.fspath(path)
    with _open(path) as im:
        fmt = _PIL_FORMATS.get(im.format or "")
        if fmt is None:
            raise UserError(f"{path}: {im.format} files are not supported "
                            "(use JPEG, PNG, TIFF, WebP or BMP)")
        width, height = im.size
        _check_plausible(im, path, fmt)
        warning = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # Pillow's notes on odd EXIF
                try:
                    pixels, icc = _decode(im, path, fmt)
                except OSError as exc:
                    if fmt != "JPEG" or "truncated" not in str(exc):
                        raise
                    pixels, icc = _decode_truncated_jpeg(path, exc), im.info.get("icc_profile")
                    warning = (f"{os.path.basename(path)} is truncated: the part that could be "
                               "read is shown, the rest is grey")
                exif_obj = im.getexif()
        except UserError:
            raise
        except MemoryError:
            raise UserError(f"{path}: not enough memory to open a {width}x{height} image") from None
        except Exception as exc:  # any decoder failure means the file is damaged
            raise UserError(f"{path}: the file is damaged or truncated ({_one_line(exc)})") from exc
        orientation = exif_obj.get(_ORIENTATION, 1)
        pixels = _orient(pixels, orientation if isinstance(orientation, int) else 1)
        exif = _exif_bytes(im, exif_obj, fmt)
        return Picture(pixels=pixels, format=fmt, exif=exif, icc=icc, source_mode=im.mode,
                       path=path, warning=warning)


def _check_plausible(im: Image.Image, path: str, fmt: str) -> None:
    """Refuse bombs and files that cannot hold what they declare, before decoding."""
    width, height = im.size
    if width * height > MAX_PIXELS:
        raise UserError(f"{path}: the image is {width}x{height} = {width * height:,} pixels, "
                        f"more than the limit of {MAX_PIXELS:,} pixels")
    frames = getattr(im, "n_frames", 1)
    if frames > 1 and im.format != "MPO":  # MPO: a JPEG plus camera previews, dropped
        raise UserError(f"{path}: the file holds {frames} pages or frames; only single-picture "
                        "files can be edited (saving would lose the others)")
    size = os.path.getsize(path)
    if fmt == "JPEG" and width * height > JPEG_MAX_PIXELS_PER_BYTE * max(size, 1):
        raise UserError(f"{path}: declares {width}x{height} pixels in only {size:,} bytes "
                        "(damaged, truncated, or a decompression bomb)")


def _decode_truncated_jpeg(path: str, exc: Exception) -> np.ndarray:
    """The readable part of a truncated JPEG: the data gets an end marker, so libjpeg stops
    there and pads the rest (Pillow's other way is a process-wide switch)."""
    with open(path, "rb") as f:
        data = f.read() + b"\xff\xd9"
    try:
        with Image.open(io.BytesIO(data)) as im:
            pixels, _ = _decode(im, path, "JPEG")
    except OSError:
        pixels = None
    if pixels is None or (pixels == pixels.flat[0]).all():
        raise UserError(f"{path}: the file is truncated and no part of it can be read "
                        f"({_one_line(exc)})") from exc
    return pixels


def _open(path: str) -> Image.Image:
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UserError(f"{path}: is a folder, not an image file")
    if not os.path.isfile(path):  # a FIFO or device would block or never end
        raise UserError(f"{path}: not a regular file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bomb warnings, Pillow's notes on odd EXIF
            return Image.open(path)
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        raise UserError(f"{path}: the image declares {size}, more than the limit of "
                        f"{MAX_PIXELS:,} pixels") from exc
    except UnidentifiedImageError as exc:
        raise UserError(f"{path}: not an image file, or a kind this program cannot read") from exc
    except OSError as exc:
        raise UserError(f"{path}: cannot open ({exc.strerror or _one_line(exc)})") from exc
    except Exception as exc:
        raise UserError(f"{path}: the file is damaged ({_one_line(exc)})") from exc


def _decode(im: Image.Image, path: str, fmt: str) -> tuple[np.ndarray, Optional[bytes]]:
    """Pixels as (H, W, 3|4) uint8/uint16 before orientation, and the ICC profile."""
    icc = im.info.get("icc_profile") or None
    if _is_16bit(im, path, fmt):
        if fmt == "PNG":  # Pillow's getexif() would decode the whole image again to find it
            im.info.setdefault("exif", _png_exif(path))
        raw = _read_png16(path) if fmt == "PNG" else _read_tiff16(path)
        return _to_rgb_channels(raw), icc
    im.load()
    mode = im.mode
    if mode in ("RGB", "RGBA"):
        return np.asarray(im), icc
    if mode == "CMYK":
        return np.asarray(_cmyk_to_rgb(im, icc)), _srgb_profile() if icc else None
    if mode in ("P", "PA"):
        keep_alpha = mode == "PA" or "transparency" in im.info
        return np.asarray(im.convert("RGBA" if keep_alpha else "RGB")), icc
    if mode in ("1", "L", "LA", "La"):
        return _to_rgb_channels(np.asarray(im.convert("LA" if "A" in mode else "L"))), icc
    if mode in ("RGBX", "RGBa", "YCbCr", "LAB", "HSV"):
        return np.asarray(im.convert("RGBA" if mode == "RGBa" else "RGB")), icc
    raise UserError(f"{path}: pixel format {mode} is not supported (8 or 16 bits per channel only)")


def _is_16bit(im: Image.Image, path: str, fmt: str) -> bool:
    if fmt == "PNG":
        with open(path, "rb") as f:
            head = f.read(26)
        return len(head) == 26 and head[24] == 16
    if fmt == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return 16 in bits
    return False


def _png_exif(path: str) -> bytes:
    """The eXIf chunk's data wherever it lies in the file (b"" if none), skipping the rest."""
    with open(path, "rb") as f:
        f.seek(8)
        while True:
            head = f.read(8)
            if len(head) < 8:
                return b""
            length, kind = struct.unpack(">I4s", head)
            if kind == b"eXIf":
                return f.read(length)
            if kind == b"IEND":
                return b""
            f.seek(length + 4, os.SEEK_CUR)  # data and CRC


def _read_png16(path: str) -> np.ndarray:
    import cv2  # only here: Pillow has no 16-bit colour modes

    data = np.fromfile(path, dtype=np.uint8)
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16:
        raise OSError("cannot decode the 16-bit PNG data")
    if arr.ndim == 3:  # OpenCV gives BGR / BGRA
        arr = arr[..., [2, 1, 0, 3][:arr.shape[2]]] if arr.shape[2] == 4 else arr[..., ::-1]
    return np.ascontiguousarray(arr)


def _read_tiff16(path: str) -> np.ndarray:
    import tifffile  # only here: Pillow has no 16-bit colour modes

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        if page.photometric not in (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.RGB):
            raise UserError(f"{path}: 16-bit {page.photometric.name} TIFF is not supported "
                            "(greyscale or RGB only)")
        arr = page.asarray()
        if arr.ndim == 3 and page.planarconfig == tifffile.PLANARCONFIG.SEPARATE:
            arr = np.moveaxis(arr, 0, -1)
    if arr.dtype != np.uint16 or arr.ndim not in (2, 3):
        raise UserError(f"{path}: TIFF pixel format {arr.dtype} {arr.shape} is not supported")
    return np.ascontiguousarray(arr)


def _to_rgb_channels(arr: np.ndarray) -> np.ndarray:
    """Grey (H, W), grey+alpha (H, W, 2), RGB or RGBA -> (H, W, 3|4)."""
    if arr.ndim == 2:
        arr = arr[..., None]
    channels = arr.shape[2]
    if channels in (1, 2):
        order = [0, 0, 0, 1][:channels + 2]
        arr = arr[..., order]
    elif channels > 4:
        arr = arr[..., :4]
    return np.ascontiguousarray(arr)


def _cmyk_to_rgb(im: Image.Image, icc: Optional[bytes]) -> Image.Image:
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"),
                                             outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the plain conversion
    return im.convert("RGB")


def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation value (1..8) to an (H, W, C) array."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
        8: lambda a: np.rot90(a, 1),
    }
    op = ops.get(orientation)
    return pixels if op is None else np.ascontiguousarray(op(pixels))


def _exif_bytes(im: Image.Image, exif_obj: Image.Exif, fmt: str) -> Optional[bytes]:
    """The file's EXIF block with orientation set to 1, or None."""
    raw = im.info.get("exif")
    if isinstance(raw, bytes) and raw:
        raw = raw if raw.startswith(_EXIF_HEADER) else _EXIF_HEADER + raw
        patched = _patch_orientation(raw)
        if patched is not None:
            return patched
    elif fmt == "TIFF":
        for tag in [t for t in exif_obj if t not in _TIFF_EXIF_TAGS]:
            del exif_obj[tag]
    if not len(exif_obj):
        return None
    if _ORIENTATION in exif_obj:
        exif_obj[_ORIENTATION] = 1
    try:
        return exif_obj.tobytes()
    except Exception:  # unwritable odd tags: better no EXIF than no image
        return None


def _patch_orientation(exif: bytes) -> Optional[bytes]:
    """Set the orientation tag to 1 in place, leaving every other byte as it was.

    Returns the block unchanged if it has no orientation tag, None if it cannot be parsed.
    """
    body = bytearray(exif[len(_EXIF_HEADER):])
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(body[:2])]
        (ifd,) = struct.unpack_from(order + "I", body, 4)
        (count,) = struct.unpack_from(order + "H", body, ifd)
        for i in range(count):
            entry = ifd + 2 + 12 * i
            tag, kind, n = struct.unpack_from(order + "HHI", body, entry)
            if tag == _ORIENTATION:
                if kind != 3 or n != 1:
                    return None
                struct.pack_into(order + "H", body, entry + 8, 1)
                break
    except (KeyError, struct.error):
        return None
    return _EXIF_HEADER + bytes(body)


# ---------------------------------------------------------------- saving

def save_image(path, picture_or_pixels: Union[Picture, np.ndarray], *,
               like: Optional[Picture] = None, quality: Optional[int] = None,
               overwrite: bool = True) -> None:
    """Write an image; the format comes from the file extension.

    EXIF, ICC profile and alpha are kept where the format can hold them; the EXIF and ICC
    come from ``like`` if given, else from the Picture being saved. 16-bit pixels stay
    16-bit in PNG and TIFF and are rounded to 8 bits for JPEG, WebP and BMP. JPEG has no
    alpha: transparent pixels are composited on white. A greyscale original is written as
    greyscale again when all three channels are equal. JPEG and WebP use ``quality``
    (default 95; JPEG at 90 or more keeps full-resolution colour, 4:4:4; WebP at 100 is
    lossless). 16-bit TIFFs keep the ICC profile but only EXIF's basic text tags. The file
    is written to a temp file in the same folder and renamed over ``path`` only when
    complete, so a failed save leaves an existing file untouched; with ``overwrite=False``
    an existing file (even one created meanwhile) is never replaced. A symlink is written
    through. EXIF thumbnails are made anew from the pixels (see exifthumb); an EXIF block
    too big for JPEG is left out (``save_notes`` says so beforehand).
    """
    path = os.fspath(path)
    fmt = _format_of(path)
    if isinstance(picture_or_pixels, Picture):
        pixels, meta = picture_or_pixels.pixels, like or picture_or_pixels
    else:
        pixels, meta = np.asarray(picture_or_pixels), like
    grey_source = pixels.ndim == 2 or (meta is not None and meta.source_mode in GREY_MODES)
    pixels = _check_pixels(pixels)
    quality = JPEG_QUALITY if quality is None else int(quality)
    if not 1 <= quality <= 100:
        raise UserError(f"quality must be between 1 and 100, got {quality}")
    exif = meta.exif if meta else None
    if exif and fmt != "BMP":  # the old thumbnail would show what was removed
        exif = exifthumb.scrub(exif, None if fmt == "TIFF" else lambda: thumbnail_jpeg(pixels))
    icc = meta.icc if meta else None
    grey = grey_source and bool(np.array_equal(pixels[..., 0], pixels[..., 1])
                                and np.array_equal(pixels[..., 0], pixels[..., 2]))
    check_can_save(path, pixels.shape[1], pixels.shape[0])
    if fmt == "JPEG" and exif and len(exif) > exifthumb.JPEG_APP1_MAX:
        exif = None
    _atomic_write(path, lambda f: _encode(f, fmt, pixels, grey, exif, icc, quality), overwrite)


_MAX_SIDE = {"JPEG": 65_500, "WEBP": 16_383, "BMP": 2**31 - 1, "PNG": 2**31 - 1, "TIFF": 2**31 - 1}


def check_can_save(path, width: int, height: int) -> None:
    """UserError if the format of ``path`` cannot hold a width x height picture."""
    path = os.fspath(path)
    fmt = _format_of(path)
    side = _MAX_SIDE[fmt]
    if width > side or height > side:
        raise UserError(f"cannot save {path}: {fmt} holds at most {side}x{side} pixels, "
                        f"the picture is {width}x{height} (use .png or .tif)")


def save_notes(path, like: Optional[Picture]) -> list[str]:
    """What a save to ``path`` will leave out of ``like``'s metadata, one line each."""
    exif = like.exif if like else None
    if _format_of(os.fspath(path)) == "JPEG" and exif and len(exif) > exifthumb.JPEG_APP1_MAX:
        return [f"the EXIF block ({len(exif) // 1024} KB) is too big for JPEG (64 KB at most): "
                f"{os.path.basename(path)} is saved without it"]
    return []


def _format_of(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    fmt = EXTENSIONS.get(ext)
    if fmt is None:
        raise UserError(f"{path}: cannot save as '{ext or 'no extension'}' "
                        "(use .jpg, .png, .tif, .webp or .bmp)")
    return fmt


def _check_pixels(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4) or pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"pixels must be (H, W[, 3|4]) uint8 or uint16, got {pixels.dtype} {pixels.shape}")
    if pixels.shape[2] == 1:
        pixels = pixels[..., [0, 0, 0]]
    return pixels


def _encode(f, fmt: str, pixels: np.ndarray, grey: bool, exif: Optional[bytes],
            icc: Optional[bytes], quality: int) -> None:
    alpha = pixels.shape[2] == 4
    if fmt not in ("PNG", "TIFF"):
        pixels = _to8(pixels)
    if fmt in ("JPEG", "BMP") and alpha:
        a = pixels[..., 3:].astype(np.uint32)
        pixels = ((pixels[..., :3] * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)
        alpha = False
    if grey and alpha and fmt != "PNG":
        grey = False  # only PNG has grey + alpha in Pillow's writers
    if grey and fmt == "WEBP":
        grey = False  # WebP has no greyscale
    arr = pixels[..., [0, 3] if alpha else [0]] if grey else pixels[..., :4 if alpha else 3]
    if icc is not None and icc[16:20] != (b"GRAY" if grey else b"RGB "):
        icc = None  # a profile for another colour space would be invalid here
    if arr.dtype == np.uint16:
        (_write_png16 if fmt == "PNG" else _write_tiff16)(f, arr, exif, icc)
        return
    im = Image.fromarray(np.ascontiguousarray(arr[..., 0] if arr.shape[2] == 1 else arr))
    options: dict = {}
    if exif and fmt != "BMP":
        options["exif"] = exif
    if icc and fmt != "BMP":
        options["icc_profile"] = icc
    if fmt == "JPEG":
        options.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP":
        options.update(quality=quality, lossless=quality == 100, exact=True, method=WEBP_METHOD)
    elif fmt == "PNG":
        options.update(compress_level=PNG_LEVEL)
    elif fmt == "TIFF" and not (exif and _has_sub_ifd(exif)):
        # libtiff (any compression) cannot write an Exif/GPS sub-IFD: those go uncompressed
        options.update(compression="tiff_adobe_deflate")
    im.save(f, format=fmt, **options)


def _has_sub_ifd(exif: bytes) -> bool:
    info = Image.Exif()
    info.load(exif)
    return 0x8769 in info or 0x8825 in info


def thumbnail_jpeg(pixels: np.ndarray, side: int = 160) -> bytes:
    """A small JPEG of the picture (longest side ``side``) for an EXIF thumbnail."""
    rgb = _to8(pixels[..., :3])
    step = max(1, max(rgb.shape[:2]) // (4 * side))  # cheap pre-shrink of big photos
    im = Image.fromarray(np.ascontiguousarray(rgb[::step, ::step]))
    im.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _to8(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels
    return ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _write_png16(f, arr: np.ndarray, exif: Optional[bytes], icc: Optional[bytes]) -> None:
    """Write a 16-bit PNG (grey, grey+alpha, RGB or RGBA) with Paeth-filtered rows."""
    height, width, channels = arr.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    f.write(b"\x89PNG\r\n\x1a\n")
    f.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)))
    if icc:
        f.write(_png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc)))
    if exif:
        f.write(_png_chunk(b"eXIf", exif[len(_EXIF_HEADER):] if exif.startswith(_EXIF_HEADER) else exif))
    raw = np.ascontiguousarray(arr, dtype=">u2").reshape(height, width * channels).view(np.uint8)
    bpp = 2 * channels
    packer = zlib.compressobj(PNG_LEVEL)
    previous = np.zeros(raw.shape[1], np.uint8)
    for y0 in range(0, height, 256):
        block = raw[y0:y0 + 256]
        rows = np.empty((block.shape[0], block.shape[1] + 1), np.uint8)
        rows[:, 0] = 4  # Paeth
        rows[:, 1:] = block - _paeth(block, np.vstack([previous[None], block[:-1]]), bpp)
        previous = block[-1]
        data = packer.compress(rows.tobytes())
        if data:
            f.write(_png_chunk(b"IDAT", data))
    f.write(_png_chunk(b"IDAT", packer.flush()))
    f.write(_png_chunk(b"IEND", b""))


def _paeth(rows: np.ndarray, above: np.ndarray, bpp: int) -> np.ndarray:
    """PNG Paeth predictor for each byte of ``rows`` given the rows above them."""
    a = np.zeros(rows.shape, np.int16)
    c = np.zeros(rows.shape, np.int16)
    a[:, bpp:] = rows[:, :-bpp]
    c[:, bpp:] = above[:, :-bpp]
    b = above.astype(np.int16)
    pa, pb, pc = np.abs(b - c), np.abs(a - c), np.abs(a + b - 2 * c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c)).astype(np.uint8)


def _write_tiff16(f, arr: np.ndarray, exif: Optional[bytes], icc: Optional[bytes]) -> None:
    import tifffile  # only here: Pillow cannot write 16-bit colour

    channels = arr.shape[2]
    tags = []
    if exif:
        info = Image.Exif()
        info.load(exif)
        for tag in _TIFF_TEXT_TAGS:
            value = info.get(tag)
            if isinstance(value, str) and value.isascii():
                tags.append((tag, "s", 0, value, True))
    buffer = io.BytesIO()  # tifffile wants a named file or a plain buffer
    tifffile.imwrite(
        buffer, arr[..., 0] if channels == 1 else arr,
        photometric="minisblack" if channels <= 2 else "rgb",
        extrasamples=["unassalpha"] if channels in (2, 4) else None,
        compression="zlib", iccprofile=icc, metadata=None, extratags=tags)
    f.write(buffer.getbuffer())


def _atomic_write(path: str, write: Callable, overwrite: bool = True) -> None:
    shown = path
    if os.path.islink(path):
        path = os.path.realpath(path)  # write through the link, keep it
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"cannot save {shown}: the folder {folder} does not exist")
    name = os.path.basename(path).encode("utf-8", "surrogateescape")[:200]  # room for the suffix
    temp = os.path.join(folder, f".{name.decode('utf-8', 'ignore')}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise UserError(f"cannot save {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if os.path.isfile(path):
            os.chmod(temp, os.stat(path).st_mode & 0o7777)
        if overwrite:
            os.replace(temp, path)
        else:
            _rename_no_replace(temp, path)
    except BaseException as exc:
        try:
            os.remove(temp)
        except OSError:
            pass
        if isinstance(exc, FileExistsError):
            raise UserError(f"{shown} already exists (it appeared while working)") from exc
        if isinstance(exc, (OSError, ValueError)):
            reason = getattr(exc, "strerror", None) or _one_line(exc)
            raise UserError(f"cannot save {shown}: {reason}") from exc
        raise


def _rename_no_replace(temp: str, path: str) -> None:
    """Rename, failing with FileExistsError if ``path`` exists (a hard link is atomic)."""
    try:
        os.link(temp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (FAT, some network shares): check, then rename
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.replace(temp, path)
        return
    os.remove(temp)


# ---------------------------------------------------------------- masks and helpers

def load_mask(path, size: tuple[int, int]) -> np.ndarray:
    """Read a hole mask as bool (H, W) for an image of ``size`` = (width, height).

    A pixel is a hole where its grey value (Pillow's luma) is above 127; if the file has an
    alpha channel that is not fully opaque, where alpha is above 127 instead. EXIF
    orientation is applied, as for images.
    """
    picture = load_image(path)
    width, height = size
    if (picture.width, picture.height) != (width, height):
        raise UserError(f"{picture.path}: mask is {picture.width}x{picture.height} "
                        f"but the image is {width}x{height}")
    pixels = _to8(picture.pixels).astype(np.uint32)
    if picture.has_alpha and (pixels[..., 3] < 255).any():
        return pixels[..., 3] > 127
    luma = (pixels[..., 0] * 19595 + pixels[..., 1] * 38470 + pixels[..., 2] * 7471 + 0x8000) >> 16
    return luma > 127


def save_mask(path, mask: np.ndarray) -> None:
    """Write a bool (H, W) mask as an 8-bit greyscale PNG, 255 = hole."""
    path = os.fspath(path)
    if _format_of(path) != "PNG":
        raise UserError(f"{path}: masks are saved as PNG (use a .png name)")
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != np.bool_:
        raise ValueError(f"mask must be a bool (H, W) array, got {mask.dtype} {mask.shape}")
    image = Image.fromarray(np.where(mask, 255, 0).astype(np.uint8))
    _atomic_write(path, lambda f: image.save(f, format="PNG"))


def to_rgb8(pixels: np.ndarray) -> np.ndarray:
    """(H, W[, 3|4]) uint8/uint16 -> RGB uint8 (H, W, 3): alpha dropped, 16 bits rounded."""
    pixels = _check_pixels(np.asarray(pixels))
    return np.ascontiguousarray(_to8(pixels[..., :3]))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
