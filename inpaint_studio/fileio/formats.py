"""What the file formats are: the ``Picture`` a file decodes to, extensions, limits."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

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
PIL_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "TIFF": "TIFF", "WEBP": "WEBP",
               "BMP": "BMP"}
"""Pillow's format name -> ours (an MPO is a JPEG plus camera previews)."""
PathLike = Union[str, "os.PathLike[str]"]
GREY_MODES = frozenset({"1", "L", "LA", "La", "I;16", "I;16B", "I;16L", "I;16N"})
MAX_SIDE = {"JPEG": 65_500, "WEBP": 16_383, "BMP": 2**31 - 1, "PNG": 2**31 - 1, "TIFF": 2**31 - 1}


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
        return bool(self.pixels.shape[2] == 4)

    @property
    def bit_depth(self) -> int:
        return 16 if self.pixels.dtype == np.uint16 else 8


def format_of(path: str) -> str:
    """Our format name for a file name ("JPEG", "PNG", ...); UserError for an unknown one."""
    ext = os.path.splitext(path)[1].lower()
    fmt = EXTENSIONS.get(ext)
    if fmt is None:
        raise UserError(f"{path}: cannot save as '{ext or 'no extension'}' "
                        "(use .jpg, .png, .tif, .webp or .bmp)")
    return fmt


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
