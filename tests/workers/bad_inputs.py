"""A generated corpus of bad (and borderline) inputs for the CLI and the editor's open path.

``build(root)`` writes every case into its own folder under ``root`` and returns the list.
A case is a ``fill`` command line plus what it must give: exit codes, a phrase of the one
error or warning line, and, for photos, whether the editor opens the file.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PIL import Image

W, H = 64, 48
BOX = (14, 20, 30, 40)  # y0, x0, y1, x1 of the hole


@dataclass
class Case:
    name: str
    folder: Path
    argv: list[str]
    codes: set[int]  # allowed exit codes
    say: str = ""  # phrase (lower case) of the error / warning line
    photo: Optional[Path] = None  # also opened in the editor
    opens: Optional[bool] = None  # the editor opens it (None: not an editor case)
    output: Optional[Path] = None  # written on exit 0
    changes: set[Path] = field(default_factory=set)  # inputs that may change (--overwrite)
    check: Optional[Callable[["Case"], None]] = None  # extra assertions after the run
    new_ok: set[Path] = field(default_factory=set)  # may appear whatever the exit code


def photo_pixels(h=H, w=W, seed=0) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    base = np.dstack([60 + x * 2, 80 + y * 2, 120 + (x + y)]) % 256
    noise = np.random.default_rng(seed).integers(0, 30, (h, w, 3))
    return (base + noise).clip(0, 255).astype(np.uint8)


def mask_pixels(h=H, w=W, box=BOX) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    y0, x0, y1, x1 = box
    m[y0:y1, x0:x1] = 255
    return m


def encode(im: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(w: int, h: int, bits: int = 8, colour: int = 2) -> bytes:
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, colour, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 2000)) + png_chunk(b"IEND", b""))


def jpeg_declaring(w: int, h: int) -> bytes:
    """A small real JPEG with its frame header patched to claim w x h."""
    data = bytearray(encode(Image.new("RGB", (16, 16), (90, 90, 90)), "JPEG", quality=50))
    at = data.index(b"\xff\xc0") + 5
    struct.pack_into(">HH", data, at, h, w)
    return bytes(data)


def tiff_declaring(w: int, h: int) -> bytes:
    """An 8-bit grey TIFF header claiming w x h, with a few bytes of strip data."""
    tags = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
            (273, 4, 1, 8 + 2 + 12 * 8 + 4), (278, 4, 1, h), (279, 4, 1, 64)]
    ifd = struct.pack("<H", len(tags)) + b"".join(
        struct.pack("<HHI", t, k, n) + (struct.pack("<HH", v, 0) if k == 3 else struct.pack("<I", v))
        for t, k, n, v in tags) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x80" * 64


def webp_declaring(w: int, h: int) -> bytes:
    """A lossless WebP header claiming w x h, with no real image data."""
    bits = (w - 1) | ((h - 1) << 14)
    vp8l = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 16
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def frames(fmt: str, n=3, **options) -> bytes:
    ims = [Image.fromarray(photo_pixels(seed=i)) for i in range(n)]
    return encode(ims[0], fmt, save_all=True, append_images=ims[1:], **options)


class Builder:
    def __init__(self, root: Path) -> None:
        self.root, self.cases = root, []
        self.good_png = encode(Image.fromarray(photo_pixels()), "PNG")
        self.good_jpg = encode(Image.fromarray(photo_pixels()), "JPEG", quality=92)
        self.mask_png = encode(Image.fromarray(mask_pixels()), "PNG")

    def folder(self, name: str) -> Path:
        folder = self.root / name
        folder.mkdir(parents=True)
        return folder

    def add(self, name: str, files: dict, args: list, codes, say="", photo=None, opens=None,
            output="out.png", changes=(), check=None) -> Case:
        """``files``: name -> bytes (None: leave out). ``args``: strings, {name} for paths."""
        folder = self.folder(name)
        for file_name, data in files.items():
            if data is None:
                continue
            (folder / file_name).parent.mkdir(parents=True, exist_ok=True)
            (folder / file_name).write_bytes(data)
        argv = [a.format(d=str(folder)) for a in args]
        case = Case(name, folder, argv, set(codes), say.lower(),
                    folder / photo if photo else None, opens,
                    folder / output if output else None, {folder / c for c in changes}, check)
        self.cases.append(case)
        return case

    def fill(self, name: str, photo_name: str, photo: bytes, codes, say="", opens=None,
             mask: Optional[bytes] = None, extra=(), output="out.png", check=None) -> Case:
        """A fill of one photo with the standard mask (or ``mask``), telea engine."""
        files = {photo_name: photo, "mask.png": self.mask_png if mask is None else mask}
        args = ["fill", "{d}/" + photo_name, "--mask", "{d}/mask.png", "-o", "{d}/" + output,
                "--engine", "telea", *extra]
        return self.add(name, files, args, codes, say, photo_name, opens, output, check=check)


def build(root: Path) -> list[Case]:
    b = Builder(root)
    _damaged_files(b)
    _modes_and_sizes(b)
    _orientations(b)
    _masks(b)
    _options(b)
    _outputs(b)
    return b.cases


def _damaged_files(b: Builder) -> None:
    sources = {
        "jpg": b.good_jpg,
        "png": b.good_png,
        "tif": encode(Image.fromarray(photo_pixels()), "TIFF"),
        "webp": encode(Image.fromarray(photo_pixels()), "WEBP", quality=90),
    }
    cuts = (0.01, 0.03, 0.08, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 0.99)
    for ext, data in sources.items():
        for cut in cuts:
            at = max(1, int(len(data) * cut))
            if ext == "jpg" and cut >= 0.5:  # part of the scan is there: opens, with a warning
                b.fill(f"trunc-{ext}-{cut}", f"photo.{ext}", data[:at], {0}, "truncated", opens=True,
                       check=_top_rows_kept if cut >= 0.85 else None)
            else:
                b.fill(f"trunc-{ext}-{cut}", f"photo.{ext}", data[:at], {2}, "", opens=False)
    rng = np.random.default_rng(7)
    for ext in ("jpg", "png", "tif", "webp", "bmp"):
        for seed in range(3):
            junk = rng.integers(0, 256, 64 + 500 * seed, dtype=np.uint8).tobytes()
            b.fill(f"random-{ext}-{seed}", f"photo.{ext}", junk, {2}, "", opens=False)
        b.fill(f"empty-{ext}", f"photo.{ext}", b"", {2}, "", opens=False)
        b.fill(f"header-only-{ext}", f"photo.{ext}", sources.get(ext, b"BM")[:12], {2}, "", opens=False)
    b.fill("renamed-png-as-jpg", "photo.jpg", b.good_png, {0}, opens=True)
    b.fill("renamed-jpg-as-png", "photo.png", b.good_jpg, {0}, opens=True)
    b.fill("renamed-text-as-png", "photo.png", b"just some text\n" * 20, {2}, "not an image", opens=False)
    b.fill("gif", "photo.gif", encode(Image.fromarray(photo_pixels()), "GIF"), {2}, "not supported", opens=False)
    b.fill("bomb-png", "photo.png", png_declaring(100_000, 100_000), {2}, "pixels", opens=False)
    b.fill("bomb-png-1bit", "photo.png", png_declaring(60_000, 60_000, 1, 0), {2}, "pixels", opens=False)
    b.fill("bomb-jpeg-tiny", "photo.jpg", jpeg_declaring(12_000, 9_000), {2}, "bytes", opens=False)
    b.fill("bomb-jpeg-huge", "photo.jpg", jpeg_declaring(65_000, 65_000), {2}, "pixels", opens=False)
    bmp = bytearray(encode(Image.new("RGB", (4, 4)), "BMP"))
    struct.pack_into("<ii", bmp, 18, 50_000, 50_000)
    b.fill("bomb-bmp", "photo.bmp", bytes(bmp), {2}, "pixels", opens=False)
    b.fill("bomb-tiff", "photo.tif", tiff_declaring(100_000, 100_000), {2}, "pixels", opens=False)
    b.fill("bomb-webp", "photo.webp", webp_declaring(16_383, 16_383), {2}, "", opens=False)


def _top_rows_kept(case: Case) -> None:
    top = np.asarray(Image.open(case.output))[:6].astype(int)
    assert np.abs(top - photo_pixels()[:6]).mean() < 8  # the readable part is the photo


def _modes_and_sizes(b: Builder) -> None:
    px = photo_pixels()
    grey = px[..., 1]
    modes = {
        "L": Image.fromarray(grey), "1": Image.fromarray(grey > 128),
        "LA": Image.fromarray(np.dstack([grey, np.full_like(grey, 200)]), "LA"),
        "P": Image.fromarray(px).quantize(64), "RGBA": Image.fromarray(np.dstack([px, grey]), "RGBA"),
        "CMYK": Image.fromarray(px).convert("CMYK"),
        "I;16": Image.fromarray(grey.astype(np.uint16) * 257),
    }
    for mode, im in modes.items():
        for fmt, ext in (("PNG", "png"), ("TIFF", "tif"), ("JPEG", "jpg")):
            if fmt == "JPEG" and mode not in ("L", "CMYK"):
                continue
            if fmt == "PNG" and mode == "CMYK":
                continue
            b.fill(f"mode-{mode}-{ext}", f"photo.{ext}", encode(im, fmt), {0}, opens=True)
    b.fill("mode-F-tif", "photo.tif", encode(Image.fromarray(grey.astype(np.float32)), "TIFF"),
           {2}, "not supported", opens=False)
    b.fill("mode-I32-tif", "photo.tif", encode(Image.fromarray(grey.astype(np.int32) * 1000, "I"), "TIFF"),
           {2}, "not supported", opens=False)
    b.fill("mode-rgb16-tif", "photo.tif", _tiff16(), {0}, opens=True)
    b.fill("multipage-tif", "photo.tif", frames("TIFF"), {2}, "pages", opens=False)
    b.fill("animated-webp", "photo.webp", frames("WEBP", duration=100), {2}, "pages", opens=False)
    b.fill("apng", "photo.png", frames("PNG", duration=100), {2}, "pages", opens=False)
    b.fill("animated-gif", "photo.gif", frames("GIF", duration=100), {2}, "", opens=False)
    for w, h in ((1, 1), (1, 40), (40, 1), (3, 100), (7, 7)):
        photo = encode(Image.fromarray(photo_pixels(h, w)), "PNG")
        m = np.zeros((h, w), np.uint8)
        m[h // 2, w // 2] = 255
        b.fill(f"tiny-{w}x{h}", "photo.png", photo, {2}, "too small", opens=True,
               mask=encode(Image.fromarray(m), "PNG"))
    for w, h in ((8, 8), (8, 300), (300, 8)):
        photo = encode(Image.fromarray(photo_pixels(h, w)), "PNG")
        m = np.zeros((h, w), np.uint8)
        m[h // 2, w // 2] = 255
        b.fill(f"small-{w}x{h}", "photo.png", photo, {0}, opens=True, mask=encode(Image.fromarray(m), "PNG"))


def _tiff16() -> bytes:
    import tifffile

    buffer = io.BytesIO()
    tifffile.imwrite(buffer, photo_pixels().astype(np.uint16) * 257, photometric="rgb")
    return buffer.getvalue()


def _orientations(b: Builder) -> None:
    """A photo stored with an orientation tag; the mask is drawn as the photo is seen (as
    Pillow's exif_transpose shows it), and only that part of the seen photo changes."""
    from PIL import ImageOps

    for value in range(2, 9):
        exif = Image.Exif()
        exif[0x0112] = value
        data = encode(Image.fromarray(photo_pixels()), "PNG", exif=exif.tobytes())
        seen = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
        h, w = seen.shape[:2]
        hole = mask_pixels(h, w, (4, 6, 14, 20)) > 0

        def check(case, seen=seen, hole=hole):
            out = np.asarray(Image.open(case.output).convert("RGB"))
            assert out.shape == seen.shape
            assert np.array_equal(out[~hole], seen[~hole]) and not np.array_equal(out[hole], seen[hole])

        b.fill(f"orientation-{value}", "photo.png", data, {0}, opens=True, extra=("--feather", "0"),
               mask=encode(Image.fromarray(np.where(hole, 255, 0).astype(np.uint8)), "PNG"), check=check)


def _masks(b: Builder) -> None:
    m = mask_pixels()
    p = b.good_png
    b.fill("mask-wrong-size", "photo.png", p, {2}, "mask is", mask=encode(Image.fromarray(m[:-1]), "PNG"))
    b.fill("mask-transposed", "photo.png", p, {2}, "mask is", mask=encode(Image.fromarray(m.T.copy()), "PNG"))
    b.fill("mask-rgb", "photo.png", p, {0}, mask=encode(Image.fromarray(np.dstack([m] * 3)), "PNG"))
    alpha = np.dstack([np.zeros_like(m)] * 3 + [m])
    b.fill("mask-alpha", "photo.png", p, {0}, mask=encode(Image.fromarray(alpha, "RGBA"), "PNG"))
    b.fill("mask-palette", "photo.png", p, {0}, mask=encode(Image.fromarray(m).convert("P"), "PNG"))
    b.fill("mask-16bit", "photo.png", p, {0}, mask=encode(Image.fromarray(m.astype(np.uint16) * 257), "PNG"))
    b.fill("mask-jpeg", "photo.png", p, {0}, mask=encode(Image.fromarray(m), "JPEG"))
    b.fill("mask-1bit", "photo.png", p, {0}, mask=encode(Image.fromarray(m > 0), "PNG"))
    b.fill("mask-inverted", "photo.png", p, {0}, mask=encode(Image.fromarray(255 - m), "PNG"))
    b.fill("mask-empty", "photo.png", p, {0}, "empty", mask=encode(Image.fromarray(0 * m), "PNG"))
    b.fill("mask-all-hole", "photo.png", p, {2}, "whole photo", mask=encode(Image.fromarray(0 * m + 255), "PNG"))
    b.fill("mask-random-bytes", "photo.png", p, {2}, "", mask=b"\x00\x01garbage" * 30)
    b.fill("mask-empty-file", "photo.png", p, {2}, "", mask=b"")
    b.fill("mask-multipage", "photo.png", p, {2}, "pages", mask=frames("TIFF"))
    for name, box in (("top-left", (0, 0, 6, 6)), ("bottom-right", (H - 6, W - 6, H, W)),
                      ("left-edge", (0, 0, H, 3)), ("bottom-edge", (H - 2, 0, H, W)),
                      ("one-pixel", (20, 20, 21, 21))):
        b.fill(f"mask-{name}", "photo.png", p, {0}, mask=encode(Image.fromarray(mask_pixels(box=box)), "PNG"))
    check = np.indices((H, W)).sum(0) % 2 * 255
    b.fill("mask-checkerboard", "photo.png", p, {0, 1}, mask=encode(Image.fromarray(check.astype(np.uint8)), "PNG"))
    b.add("mask-missing", {"photo.png": p}, ["fill", "{d}/photo.png", "--mask", "{d}/nope.png", "-o",
                                            "{d}/out.png", "--engine", "telea"], {2}, "mask not found")
    b.add("mask-is-folder", {"photo.png": p}, ["fill", "{d}/photo.png", "--mask", "{d}", "-o", "{d}/out.png",
                                              "--engine", "telea"], {2}, "not a regular file")
    b.fill("sketch-wrong-size", "photo.png", p, {2}, "mask is",
           extra=("--sketch", "{d}/sketch.png")).folder.joinpath("sketch.png").write_bytes(
        encode(Image.fromarray(m[:, :-2]), "PNG"))


def _options(b: Builder) -> None:
    bad = {
        "feather-negative": (["--feather", "-1"], "feather"), "feather-huge": (["--feather", "99999"], "feather"),
        "feather-superscript": (["--feather", "\u00b2"], "feather"), "feather-word": (["--feather", "wide"], "feather"),
        "feather-empty": (["--feather", ""], "feather"), "quality-0": (["--quality", "0"], "quality"),
        "quality-101": (["--quality", "101"], "quality"), "quality-word": (["--quality", "high"], "invalid"),
        "seed-on-telea": (["--seed", "3"], "no seed"), "param-unknown": (["--param", "size=3"], "no parameter"),
        "param-no-equals": (["--param", "radius"], "key=value"), "param-nan": (["--param", "radius=nan"], "radius"),
        "param-huge": (["--param", "radius=1e30"], "radius"), "engine-unknown": (["--engine", "magic"], "magic"),
        "device-unknown": (["--device", "tpu"], "invalid choice"),
        "hires-unknown": (["--hires", "max"], "invalid choice"),
    }
    for name, (extra, say) in bad.items():
        b.fill(f"option-{name}", "photo.png", b.good_png, {2}, say, extra=extra)
    seeds = {"seed-huge": ["--seed", str(10 ** 30)], "seed-word": ["--seed", "x"],
             "param-seed-huge": ["--param", f"seed={10 ** 30}"],
             "param-sketch-weight-nan": ["--param", "sketch_weight=nan"]}
    for name, extra in seeds.items():
        args = ["fill", "{d}/photo.png", "--mask", "{d}/mask.png", "-o", "{d}/out.png",
                "--engine", "patchmatch", *extra]
        b.add(f"option-{name}", {"photo.png": b.good_png, "mask.png": b.mask_png}, args, {2},
              "sketch_weight" if "sketch" in name else "seed")
    b.fill("option-feather-ok", "photo.png", b.good_png, {0}, extra=("--feather", "20"))
    # a band wider than the photo re-fills all of it: telea cannot, and that is said (exit 1)
    b.fill("option-feather-500-small-photo", "photo.png", b.good_png, {0, 1}, extra=("--feather", "500"))
    b.add("option-no-mask", {"photo.png": b.good_png}, ["fill", "{d}/photo.png", "-o", "{d}/out.png"],
          {2}, "required")


def _outputs(b: Builder) -> None:
    p, m = b.good_png, b.mask_png
    files = {"photo.png": p, "mask.png": m}

    def fill_to(name, out_arg, codes, say="", output=None, extra=(), changes=(), image="{d}/photo.png",
                more=None, check=None):
        args = ["fill", image, "--mask", "{d}/mask.png", "-o", out_arg, "--engine", "telea", *extra]
        return b.add(name, {**files, **(more or {})}, args, codes, say, output=output, changes=changes,
                     check=check)

    fill_to("out-missing-folder", "{d}/nowhere/out.png", {1}, "does not exist")
    fill_to("out-under-a-file", "{d}/photo.png/out.png", {1, 2}, "")
    fill_to("out-unwritable", "/proc/out.png", {1, 2}, "")
    fill_to("out-is-input", "{d}/photo.png", {2}, "overwrite")
    fill_to("out-is-mask", "{d}/mask.png", {2}, "overwrite")
    fill_to("out-is-input-overwrite", "{d}/photo.png", {0}, output="photo.png", extra=("--overwrite",),
            changes=("photo.png",))
    fill_to("out-exists", "{d}/old.png", {2}, "already exists", more={"old.png": p})
    fill_to("out-no-extension", "{d}/out", {2}, "cannot save")
    fill_to("out-gif", "{d}/out.gif", {2}, "cannot save")
    fill_to("out-empty", "", {2}, "empty")
    fill_to("image-empty", "{d}/out.png", {2}, "empty", image="")
    fill_to("out-folder", "{d}/results", {0}, output="results/photo.png", more={"results/keep": b""})
    long_name = "x" * 250 + ".png"
    fill_to("out-long-name", "{d}/" + long_name, {0}, output=long_name)
    fill_to("out-too-long-name", "{d}/" + "y" * 260 + ".png", {2}, "too long")
    fifo = b.add("fifo-photo", {"mask.png": m}, ["fill", "{d}/photo.png", "--mask", "{d}/mask.png", "-o",
                 "{d}/out.png", "--engine", "telea"], {2}, "not a regular file", photo="photo.png", opens=False)
    os.mkfifo(fifo.folder / "photo.png")
    fifo = fill_to("fifo-mask", "{d}/out.png", {2}, "not a regular file", more={"mask.png": None})
    os.mkfifo(fifo.folder / "mask.png")
    link = b.add("broken-symlink-photo", {"mask.png": m}, ["fill", "{d}/photo.png", "--mask", "{d}/mask.png",
                 "-o", "{d}/out.png", "--engine", "telea"], {2}, "not found", photo="photo.png", opens=False)
    os.symlink(link.folder / "gone.png", link.folder / "photo.png")
    b.add("folder-as-photo", {"photo.png/a.txt": b"x"}, [], set(), photo="photo.png", opens=False)

    def written_through(case):
        assert (case.folder / "link.png").is_symlink()
        assert not np.array_equal(np.asarray(Image.open(case.folder / "target.png")),
                                  np.asarray(Image.open(io.BytesIO(p))))

    case = fill_to("out-symlink-overwrite", "{d}/link.png", {0}, output="target.png", extra=("--overwrite",),
                   more={"target.png": p}, changes=("target.png",), check=written_through)
    os.symlink(case.folder / "target.png", case.folder / "link.png")
    fill_to("out-webp-too-wide", "{d}/out.webp", {2}, "16383", more={"photo.png": _wide(16_400)},
            image="{d}/photo.png").folder.joinpath("mask.png").write_bytes(
        encode(Image.fromarray(mask_pixels(8, 16_400, (2, 2, 5, 9))), "PNG"))
    big_exif = Image.Exif()
    big_exif[0x010E] = "x" * 100_000  # ImageDescription: legal in PNG, too big for JPEG
    photo = encode(Image.fromarray(photo_pixels()), "PNG", exif=big_exif.tobytes())
    fill_to("out-jpeg-big-exif", "{d}/out.jpg", {0}, "too big for jpeg", output="out.jpg",
            more={"photo.png": photo})
    batch = b.add("batch-one-bad", {"in/a.png": p, "in/b.png": p[:200], "masks/a.png": m, "masks/b.png": m},
                  ["fill", "{d}/in", "--mask", "{d}/masks", "-o", "{d}/out", "--engine", "telea"], {2},
                  "1 of 2 images failed", output=None)
    batch.new_ok = {batch.folder / "out/a.png"}  # the good photo is done, the bad one reported
    batch.check = lambda case: (case.folder / "out/a.png").is_file() or _fail("a.png not written")
    b.add("batch-output-is-file-name", {"in/a.png": p, "mask.png": m}, ["fill", "{d}/in", "--mask",
          "{d}/mask.png", "-o", "{d}/result.png", "--engine", "telea"], {2}, "must be a folder")
    b.add("batch-empty-image-arg-overwrite", files, ["fill", "", "--mask", "{d}/mask.png", "-o", "",
          "--overwrite", "--engine", "telea"], {2}, "empty")


def _fail(message: str) -> None:
    raise AssertionError(message)


def _wide(w: int) -> bytes:
    return encode(Image.fromarray(photo_pixels(8, w)), "PNG")
