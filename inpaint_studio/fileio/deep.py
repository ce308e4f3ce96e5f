"""16-bit colour, which Pillow reduces to 8 bits: PNGs are decoded by OpenCV and encoded
here (zlib, Paeth-filtered rows); TIFFs go through tifffile. Both are imported only when a
16-bit file is met."""
from __future__ import annotations

import io
import struct
import zlib
from typing import BinaryIO, Optional

import numpy as np

from inpaint_studio.core.errors import UserError
from inpaint_studio.fileio.formats import PNG_LEVEL
from inpaint_studio.fileio.metadata import EXIF_HEADER, tiff_text_tags


def read_png16(path: str) -> np.ndarray:
    """The pixels of a 16-bit PNG: (H, W) grey or (H, W, 2|3|4), in RGB(A) order."""
    import cv2  # only here: Pillow has no 16-bit colour modes

    data = np.fromfile(path, dtype=np.uint8)
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16:
        raise OSError("cannot decode the 16-bit PNG data")
    if arr.ndim == 3:  # OpenCV gives BGR / BGRA
        arr = arr[..., [2, 1, 0, 3][:arr.shape[2]]] if arr.shape[2] == 4 else arr[..., ::-1]
    return np.ascontiguousarray(arr)


def read_tiff16(path: str) -> np.ndarray:
    """The pixels of a 16-bit greyscale or RGB TIFF's first page."""
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


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def write_png16(f: BinaryIO, arr: np.ndarray, exif: Optional[bytes], icc: Optional[bytes]) -> None:
    """Write a 16-bit PNG (grey, grey+alpha, RGB or RGBA) with Paeth-filtered rows."""
    height, width, channels = arr.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    f.write(b"\x89PNG\r\n\x1a\n")
    f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)))
    if icc:
        f.write(png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc)))
    if exif:
        f.write(png_chunk(b"eXIf", exif[len(EXIF_HEADER):] if exif.startswith(EXIF_HEADER) else exif))
    raw = np.ascontiguousarray(arr, dtype=">u2").reshape(height, width * channels).view(np.uint8)
    bpp = 2 * channels
    packer = zlib.compressobj(PNG_LEVEL)
    previous = np.zeros(raw.shape[1], np.uint8)
    for y0 in range(0, height, 256):
        block = raw[y0:y0 + 256]
        rows = np.empty((block.shape[0], block.shape[1] + 1), np.uint8)
        rows[:, 0] = 4  # Paeth
        rows[:, 1:] = block - paeth(block, np.vstack([previous[None], block[:-1]]), bpp)
        previous = block[-1]
        data = packer.compress(rows.tobytes())
        if data:
            f.write(png_chunk(b"IDAT", data))
    f.write(png_chunk(b"IDAT", packer.flush()))
    f.write(png_chunk(b"IEND", b""))


def paeth(rows: np.ndarray, above: np.ndarray, bpp: int) -> np.ndarray:
    """PNG Paeth predictor for each byte of ``rows`` given the rows above them."""
    a = np.zeros(rows.shape, np.int16)
    c = np.zeros(rows.shape, np.int16)
    a[:, bpp:] = rows[:, :-bpp]
    c[:, bpp:] = above[:, :-bpp]
    b = above.astype(np.int16)
    pa, pb, pc = np.abs(b - c), np.abs(a - c), np.abs(a + b - 2 * c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c)).astype(np.uint8)


def write_tiff16(f: BinaryIO, arr: np.ndarray, exif: Optional[bytes], icc: Optional[bytes]) -> None:
    """Write a zlib-compressed 16-bit TIFF; of the EXIF only the basic text tags travel."""
    import tifffile  # only here: Pillow cannot write 16-bit colour

    channels = arr.shape[2]
    buffer = io.BytesIO()  # tifffile wants a named file or a plain buffer
    tifffile.imwrite(
        buffer, arr[..., 0] if channels == 1 else arr,
        photometric="minisblack" if channels <= 2 else "rgb",
        extrasamples=["unassalpha"] if channels in (2, 4) else None,
        compression="zlib", iccprofile=icc, metadata=None, extratags=tiff_text_tags(exif))
    f.write(buffer.getbuffer())
