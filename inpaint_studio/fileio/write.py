"""Writing: pixels (or a ``Picture``) -> a file whose format comes from the extension,
keeping EXIF, ICC and alpha where the format can hold them; masks as 8-bit PNGs. Every
save goes through ``atomic.atomic_write`` (temp file, then rename)."""
from __future__ import annotations

import io
import os
from typing import BinaryIO, Optional, Union

import numpy as np
from PIL import Image

from inpaint_studio.core import pixels as px
from inpaint_studio.core.errors import UserError
from inpaint_studio.fileio import deep, exifthumb, metadata
from inpaint_studio.fileio.atomic import atomic_write
from inpaint_studio.fileio.formats import (
    GREY_MODES,
    JPEG_QUALITY,
    MAX_SIDE,
    PNG_LEVEL,
    WEBP_METHOD,
    PathLike,
    Picture,
    format_of,
)


def save_image(path: PathLike, picture_or_pixels: Union[Picture, np.ndarray], *,
               like: Optional[Picture] = None, quality: Optional[int] = None,
               overwrite: bool = True) -> None:
    """Write an image; the format comes from the file extension.

    EXIF, ICC profile and alpha are kept where the format can hold them; the EXIF and ICC
    come from ``like`` if given, else from the Picture being saved. 16-bit pixels stay
    16-bit in PNG and TIFF and are reduced to 8 bits by ``core.pixels.to8`` (nearest value,
    the same as the editor shows) for JPEG, WebP and BMP. JPEG has no
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
    fmt = format_of(path)
    meta: Optional[Picture]
    if isinstance(picture_or_pixels, Picture):
        pixels, meta = picture_or_pixels.pixels, like or picture_or_pixels
    else:
        pixels, meta = np.asarray(picture_or_pixels), like
    grey_source = pixels.ndim == 2 or (meta is not None and meta.source_mode in GREY_MODES)
    pixels = px.as_channels(pixels)
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
    atomic_write(path, lambda f: _encode(f, fmt, pixels, grey, exif, icc, quality), overwrite)


def check_can_save(path: PathLike, width: int, height: int) -> None:
    """UserError if the format of ``path`` cannot hold a width x height picture."""
    path = os.fspath(path)
    fmt = format_of(path)
    side = MAX_SIDE[fmt]
    if width > side or height > side:
        raise UserError(f"cannot save {path}: {fmt} holds at most {side}x{side} pixels, "
                        f"the picture is {width}x{height} (use .png or .tif)")


def save_notes(path: PathLike, like: Optional[Picture]) -> list[str]:
    """What a save to ``path`` will leave out of ``like``'s metadata, one line each."""
    exif = like.exif if like else None
    if format_of(os.fspath(path)) == "JPEG" and exif and len(exif) > exifthumb.JPEG_APP1_MAX:
        return [f"the EXIF block ({len(exif) // 1024} KB) is too big for JPEG (64 KB at most): "
                f"{os.path.basename(path)} is saved without it"]
    return []


def save_mask(path: PathLike, mask: np.ndarray) -> None:
    """Write a bool (H, W) mask as an 8-bit greyscale PNG, 255 = hole."""
    path = os.fspath(path)
    if format_of(path) != "PNG":
        raise UserError(f"{path}: masks are saved as PNG (use a .png name)")
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != np.bool_:
        raise ValueError(f"mask must be a bool (H, W) array, got {mask.dtype} {mask.shape}")
    image = Image.fromarray(np.where(mask, 255, 0).astype(np.uint8))
    atomic_write(path, lambda f: image.save(f, format="PNG"))


def thumbnail_jpeg(pixels: np.ndarray, side: int = 160) -> bytes:
    """A small JPEG of the picture (longest side ``side``) for an EXIF thumbnail."""
    rgb = px.to8(pixels[..., :3])
    step = max(1, max(rgb.shape[:2]) // (4 * side))  # cheap pre-shrink of big photos
    im = Image.fromarray(np.ascontiguousarray(rgb[::step, ::step]))
    im.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    im.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _encode(f: BinaryIO, fmt: str, pixels: np.ndarray, grey: bool, exif: Optional[bytes],
            icc: Optional[bytes], quality: int) -> None:
    alpha = pixels.shape[2] == 4
    if fmt not in ("PNG", "TIFF"):
        pixels = px.to8(pixels)
    if fmt in ("JPEG", "BMP") and alpha:
        a = pixels[..., 3:].astype(np.uint32)
        pixels = ((pixels[..., :3] * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)
        alpha = False
    if grey and alpha and fmt != "PNG":
        grey = False  # only PNG has grey + alpha in Pillow's writers
    if grey and fmt == "WEBP":
        grey = False  # WebP has no greyscale
    arr = pixels[..., [0, 3] if alpha else [0]] if grey else pixels[..., :4 if alpha else 3]
    icc = metadata.icc_fits(icc, grey)
    if arr.dtype == np.uint16:
        (deep.write_png16 if fmt == "PNG" else deep.write_tiff16)(f, arr, exif, icc)
        return
    im = Image.fromarray(np.ascontiguousarray(arr[..., 0] if arr.shape[2] == 1 else arr))
    options: dict[str, object] = {}
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
    elif fmt == "TIFF" and not (exif and metadata.has_sub_ifd(exif)):
        # libtiff (any compression) cannot write an Exif/GPS sub-IFD: those go uncompressed
        options.update(compression="tiff_adobe_deflate")
    im.save(f, format=fmt, **options)
