"""Reading: an image file -> ``Picture`` (RGB/RGBA, uint8 or uint16, EXIF orientation applied,
EXIF, ICC and the original mode kept); a mask file -> bool (H, W). Every problem with a
user's file becomes a one-line ``UserError`` naming the file."""
from __future__ import annotations

import io
import os
import re
import warnings
from typing import Callable, Optional

import numpy as np
from PIL import Image, UnidentifiedImageError

from inpaint_studio.core import pixels as px
from inpaint_studio.core.errors import UserError
from inpaint_studio.fileio import deep, formats, metadata
from inpaint_studio.fileio.formats import PIL_FORMATS, PathLike, Picture, one_line


def load_image(path: PathLike) -> Picture:
    """Read an image file; raise UserError (one line, naming the file) if that fails."""
    path = os.fspath(path)
    with _open(path) as im:
        fmt = PIL_FORMATS.get(im.format or "")
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
            raise UserError(f"{path}: the file is damaged or truncated ({one_line(exc)})") from exc
        orientation = exif_obj.get(metadata.ORIENTATION, 1)
        pixels = _orient(pixels, orientation if isinstance(orientation, int) else 1)
        exif = metadata.exif_bytes(im, exif_obj, fmt)
        return Picture(pixels=pixels, format=fmt, exif=exif, icc=icc, source_mode=im.mode,
                       path=path, warning=warning)


def load_mask(path: PathLike, size: tuple[int, int]) -> np.ndarray:
    """Read a hole mask as bool (H, W) for an image of ``size`` = (width, height).

    A pixel is a hole where its grey value (Pillow's luma) is above 127; if the file has an
    alpha channel that is not fully opaque, where alpha is above 127 instead. EXIF
    orientation is applied, as for images; 16-bit masks are reduced by ``core.pixels.to8``.
    """
    picture = load_image(path)
    width, height = size
    if (picture.width, picture.height) != (width, height):
        raise UserError(f"{picture.path}: mask is {picture.width}x{picture.height} "
                        f"but the image is {width}x{height}")
    pixels = px.to8(picture.pixels).astype(np.uint32)
    if picture.has_alpha and (pixels[..., 3] < 255).any():
        return np.asarray(pixels[..., 3] > 127)
    luma = (pixels[..., 0] * 19595 + pixels[..., 1] * 38470 + pixels[..., 2] * 7471 + 0x8000) >> 16
    return np.asarray(luma > 127)


def _check_plausible(im: Image.Image, path: str, fmt: str) -> None:
    """Refuse bombs and files that cannot hold what they declare, before decoding."""
    width, height = im.size
    if width * height > formats.MAX_PIXELS:
        raise UserError(f"{path}: the image is {width}x{height} = {width * height:,} pixels, "
                        f"more than the limit of {formats.MAX_PIXELS:,} pixels")
    frames = getattr(im, "n_frames", 1)
    if frames > 1 and im.format != "MPO":  # MPO: a JPEG plus camera previews, dropped
        raise UserError(f"{path}: the file holds {frames} pages or frames; only single-picture "
                        "files can be edited (saving would lose the others)")
    size = os.path.getsize(path)
    if fmt == "JPEG" and width * height > formats.JPEG_MAX_PIXELS_PER_BYTE * max(size, 1):
        raise UserError(f"{path}: declares {width}x{height} pixels in only {size:,} bytes "
                        "(damaged, truncated, or a decompression bomb)")


def _decode_truncated_jpeg(path: str, exc: Exception) -> np.ndarray:
    """The readable part of a truncated JPEG: the data gets an end marker, so libjpeg stops
    there and pads the rest (Pillow's other way is a process-wide switch)."""
    with open(path, "rb") as f:
        data = f.read() + b"\xff\xd9"
    pixels: Optional[np.ndarray]
    try:
        with Image.open(io.BytesIO(data)) as im:
            pixels, _ = _decode(im, path, "JPEG")
    except OSError:
        pixels = None
    if pixels is None or (pixels == pixels.flat[0]).all():
        raise UserError(f"{path}: the file is truncated and no part of it can be read "
                        f"({one_line(exc)})") from exc
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
                        f"{formats.MAX_PIXELS:,} pixels") from exc
    except UnidentifiedImageError as exc:
        raise UserError(f"{path}: not an image file, or a kind this program cannot read") from exc
    except OSError as exc:
        raise UserError(f"{path}: cannot open ({exc.strerror or one_line(exc)})") from exc
    except Exception as exc:
        raise UserError(f"{path}: the file is damaged ({one_line(exc)})") from exc


def _decode(im: Image.Image, path: str, fmt: str) -> tuple[np.ndarray, Optional[bytes]]:
    """Pixels as (H, W, 3|4) uint8/uint16 before orientation, and the ICC profile."""
    icc = im.info.get("icc_profile") or None
    if _is_16bit(im, path, fmt):
        if fmt == "PNG":  # Pillow's getexif() would decode the whole image again to find it
            im.info.setdefault("exif", metadata.png_exif(path))
        raw = deep.read_png16(path) if fmt == "PNG" else deep.read_tiff16(path)
        return _to_rgb_channels(raw), icc
    im.load()
    mode = im.mode
    if mode in ("RGB", "RGBA"):
        return np.asarray(im), icc
    if mode == "CMYK":
        return np.asarray(metadata.cmyk_to_rgb(im, icc)), metadata.srgb_profile() if icc else None
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
        bits = im.tag_v2.get(258, (8,))  # type: ignore[attr-defined]  # TiffImageFile only
        bits = bits if isinstance(bits, tuple) else (bits,)
        return 16 in bits
    return False


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


_ORIENT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
    8: lambda a: np.rot90(a, 1),
}


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation value (1..8) to an (H, W, C) array."""
    op = _ORIENT.get(orientation)
    return pixels if op is None else np.ascontiguousarray(op(pixels))
