"""What travels with the pixels: EXIF (orientation, TIFF tags, PNG eXIf) and ICC profiles."""
from __future__ import annotations

import io
import os
import struct
from typing import Optional

from PIL import Image, ImageCms

ORIENTATION = 0x0112
EXIF_HEADER = b"Exif\x00\x00"
# IFD0 tags worth carrying from a TIFF's own directory into an EXIF block (the rest of a
# TIFF directory describes that file's pixel layout and must not travel).
TIFF_EXIF_TAGS = frozenset({270, 271, 272, 274, 282, 283, 296, 305, 306, 315, 531, 33432,
                            0x8769, 0x8825, 18246, 18249})
TIFF_TEXT_TAGS = (271, 272, 306, 315, 33432)  # written into 16-bit TIFFs


def exif_bytes(im: Image.Image, exif_obj: Image.Exif, fmt: str) -> Optional[bytes]:
    """The file's EXIF block with orientation set to 1, or None."""
    raw = im.info.get("exif")
    if isinstance(raw, bytes) and raw:
        raw = raw if raw.startswith(EXIF_HEADER) else EXIF_HEADER + raw
        patched = patch_orientation(raw)
        if patched is not None:
            return patched
    elif fmt == "TIFF":
        for tag in [t for t in exif_obj if t not in TIFF_EXIF_TAGS]:
            del exif_obj[tag]
    if not len(exif_obj):
        return None
    if ORIENTATION in exif_obj:
        exif_obj[ORIENTATION] = 1
    try:
        return exif_obj.tobytes()
    except Exception:  # unwritable odd tags: better no EXIF than no image
        return None


def patch_orientation(exif: bytes) -> Optional[bytes]:
    """Set the orientation tag to 1 in place, leaving every other byte as it was.

    Returns the block unchanged if it has no orientation tag, None if it cannot be parsed.
    """
    body = bytearray(exif[len(EXIF_HEADER):])
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(body[:2])]
        (ifd,) = struct.unpack_from(order + "I", body, 4)
        (count,) = struct.unpack_from(order + "H", body, ifd)
        for i in range(count):
            entry = ifd + 2 + 12 * i
            tag, kind, n = struct.unpack_from(order + "HHI", body, entry)
            if tag == ORIENTATION:
                if kind != 3 or n != 1:
                    return None
                struct.pack_into(order + "H", body, entry + 8, 1)
                break
    except (KeyError, struct.error):
        return None
    return EXIF_HEADER + bytes(body)


def png_exif(path: str) -> bytes:
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


def has_sub_ifd(exif: bytes) -> bool:
    """Whether the block has an Exif or GPS sub-directory."""
    info = Image.Exif()
    info.load(exif)
    return 0x8769 in info or 0x8825 in info


def tiff_text_tags(exif: Optional[bytes]) -> list[tuple[int, str, int, str, bool]]:
    """EXIF's basic ASCII text tags (make, model, date, ...) as tifffile extratags."""
    if not exif:
        return []
    info = Image.Exif()
    info.load(exif)
    tags = []
    for tag in TIFF_TEXT_TAGS:
        value = info.get(tag)
        if isinstance(value, str) and value.isascii():
            tags.append((tag, "s", 0, value, True))
    return tags


def cmyk_to_rgb(im: Image.Image, icc: Optional[bytes]) -> Image.Image:
    """CMYK -> RGB through the file's profile when it has a usable one."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"),
                                                  outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the plain conversion
    return im.convert("RGB")


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def icc_fits(icc: Optional[bytes], grey: bool) -> Optional[bytes]:
    """The profile if it describes the colour space written (grey or RGB), else None."""
    if icc is not None and icc[16:20] != (b"GRAY" if grey else b"RGB "):
        return None  # a profile for another colour space would be invalid here
    return icc
