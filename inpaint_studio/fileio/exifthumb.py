"""Keep an EXIF block from leaking the picture as it was before the fill.

A camera's EXIF block holds a thumbnail (IFD1, usually a 160x120 JPEG) and often a larger
preview inside the maker note. Both still show what the user removed. ``scrub`` blanks
them and, if a new thumbnail is given, links a fresh IFD1 holding it. Plain struct work on
the TIFF structure; every other byte keeps its offset, so the rest of the block stays valid.
"""
from __future__ import annotations

import struct
from typing import Callable, Optional

EXIF_HEADER = b"Exif\x00\x00"
_EXIF_IFD = 0x8769
_MAKER_NOTE = 0x927C
_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_JPEG_OFFSET, _JPEG_LENGTH = 0x0201, 0x0202
_STRIP_OFFSETS, _STRIP_COUNTS = 0x0111, 0x0117
JPEG_APP1_MAX = 65533  # an APP1 segment's data, "Exif\0\0" included


class _Ifd:
    """Entries of one IFD: tag -> (entry offset, type, count, value-or-offset field)."""

    def __init__(self, body: bytes | bytearray, order: str, offset: int) -> None:
        (count,) = struct.unpack_from(order + "H", body, offset)
        if count > 1000 or offset + 2 + 12 * count + 4 > len(body):
            raise ValueError("IFD out of range")
        self.offset, self.count = offset, count
        self.entries = {}
        for i in range(count):
            at = offset + 2 + 12 * i
            tag, kind, n = struct.unpack_from(order + "HHI", body, at)
            self.entries[tag] = (at, kind, n)
        self.next_at = offset + 2 + 12 * count
        (self.next,) = struct.unpack_from(order + "I", body, self.next_at)

    def data_range(self, body: bytes | bytearray, order: str, tag: int) -> Optional[tuple[int, int]]:
        """(start, end) of an entry's out-of-line data; None when it fits in the entry."""
        at, kind, n = self.entries[tag]
        size = _SIZES.get(kind, 1) * n
        if size <= 4:
            return None
        (start,) = struct.unpack_from(order + "I", body, at + 8)
        return start, min(start + size, len(body))

    def values(self, body: bytes | bytearray, order: str, tag: int) -> list[int]:
        at, kind, n = self.entries[tag]
        code = {3: "H", 4: "I"}.get(kind)
        if code is None or n > 4096:
            return []
        size = struct.calcsize(code) * n
        where = at + 8 if size <= 4 else struct.unpack_from(order + "I", body, at + 8)[0]
        return list(struct.unpack_from(order + code * n, body, where))


def scrub(exif: bytes, thumbnail: Optional[Callable[[], bytes]]) -> Optional[bytes]:
    """``exif`` (with the "Exif\\0\\0" header) without its old thumbnail(s) and maker-note
    previews; ``thumbnail()`` (JPEG bytes) becomes the new IFD1 when the block had one.

    Returns None when the block cannot be parsed: better no EXIF than a leaked picture.
    """
    try:
        return _scrub(exif, thumbnail)
    except (KeyError, ValueError, struct.error):
        return None


def _scrub(exif: bytes, thumbnail: Optional[Callable[[], bytes]]) -> bytes:
    body = bytearray(exif[len(EXIF_HEADER):] if exif.startswith(EXIF_HEADER) else exif)
    order = {b"II": "<", b"MM": ">"}[bytes(body[:2])]
    (first,) = struct.unpack_from(order + "I", body, 4)
    ifd0 = _Ifd(body, order, first)
    blank: list[tuple[int, int]] = []  # IFD1 chain: blanked, and cut if at the end
    notes: list[tuple[int, int]] = []  # maker notes: blanked only (still referenced)
    if _EXIF_IFD in ifd0.entries:  # maker notes often carry a full preview JPEG
        (sub_at,) = ifd0.values(body, order, _EXIF_IFD)[:1] or (0,)
        if sub_at:
            sub = _Ifd(body, order, sub_at)
            if _MAKER_NOTE in sub.entries:
                notes.append(sub.data_range(body, order, _MAKER_NOTE) or (0, 0))
    had_thumbnail = ifd0.next != 0
    seen: set[int] = set()
    offset = ifd0.next
    while offset and offset not in seen and len(seen) < 8:  # IFD1 and any chained after it
        seen.add(offset)
        ifd = _Ifd(body, order, offset)
        blank.append((offset, ifd.next_at + 4))
        for tag in ifd.entries:
            blank.append(ifd.data_range(body, order, tag) or (0, 0))
        for start_tag, length_tag in ((_JPEG_OFFSET, _JPEG_LENGTH), (_STRIP_OFFSETS, _STRIP_COUNTS)):
            if start_tag in ifd.entries and length_tag in ifd.entries:
                starts = ifd.values(body, order, start_tag)
                lengths = ifd.values(body, order, length_tag)
                blank += [(s, min(s + n, len(body))) for s, n in zip(starts, lengths)]
        offset = ifd.next
    for start, end in blank + notes:
        if 0 <= start < end:
            body[start:end] = bytes(end - start)
    struct.pack_into(order + "I", body, ifd0.next_at, 0)
    body = _trim_tail(body, blank)
    if thumbnail is not None and had_thumbnail:
        body = _append_ifd1(body, order, ifd0.next_at, thumbnail())
    return EXIF_HEADER + bytes(body)


def _trim_tail(body: bytearray, blank: list[tuple[int, int]]) -> bytearray:
    """Cut blanked ranges that reach the end of the block (where cameras put thumbnails)."""
    end = len(body)
    for start, stop in sorted((r for r in blank if r[0] < r[1]), reverse=True):
        if stop >= end > start:
            end = start
    return body[:max(end, 8)]


def _append_ifd1(body: bytearray, order: str, link_at: int, jpeg: bytes) -> bytearray:
    if len(body) % 2:
        body += b"\x00"
    ifd_at = len(body)
    data_at = ifd_at + 2 + 3 * 12 + 4
    entries = [(0x0103, 3, 1, 6), (_JPEG_OFFSET, 4, 1, data_at), (_JPEG_LENGTH, 4, 1, len(jpeg))]
    body += struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        field = struct.pack(order + ("HH" if kind == 3 else "I"), *((value, 0) if kind == 3 else (value,)))
        body += struct.pack(order + "HHI", tag, kind, count) + field
    body += struct.pack(order + "I", 0) + jpeg
    struct.pack_into(order + "I", body, link_at, ifd_at)
    return body


def read_thumbnail(exif: bytes) -> Optional[bytes]:
    """The JPEG thumbnail of IFD1, or None (for tests and checks)."""
    try:
        body = exif[len(EXIF_HEADER):] if exif.startswith(EXIF_HEADER) else exif
        order = {b"II": "<", b"MM": ">"}[bytes(body[:2])]
        ifd0 = _Ifd(body, order, struct.unpack_from(order + "I", body, 4)[0])
        if not ifd0.next:
            return None
        ifd1 = _Ifd(body, order, ifd0.next)
        (start,) = ifd1.values(body, order, _JPEG_OFFSET)
        (length,) = ifd1.values(body, order, _JPEG_LENGTH)
        return bytes(body[start:start + length])
    except (KeyError, ValueError, struct.error):
        return None
