#!/usr/bin/env python3
"""Gather real photographs for training from Debian packages and scikit-image.

    python scripts/gather_photos.py --out data/photos [--max-side 1024] [--debs DIR]

Downloads the wallpaper/landscape packages with ``apt-get download`` (or takes the .deb
files from ``--debs``), unpacks them with ``dpkg -x`` into a temp folder, keeps only the
photographs named in the curated allow lists below (chosen by looking at every image:
renders, drawings and logos are denied), and writes them as JPEG (quality 92, longest
side <= --max-side) with a ``manifest.json``: source package and version, original path,
licence note, size and a train/val split fixed by a hash of the output file name (pieces of
one panorama share a split, so neighbouring pieces never straddle train and val).

Stellarium landscapes are 360-degree panoramas with a transparent sky: the side tiles are
joined (for spherical maps, cut to altitudes above -40 degrees, where the projection is not
stretched much) and split into pieces about twice as wide as the ground band is high; each
piece keeps only its longest run of fully opaque rows. Nothing here is meant to be committed:
write under data/ (gitignored).
"""
from __future__ import annotations

import argparse
import configparser
import fnmatch
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from inpaint_studio.core.pixels import to_rgb8  # noqa: E402
from inpaint_studio.fileio import load_image, save_image  # noqa: E402

VAL_PERCENT = 10
QUALITY = 92
PIECE_ASPECT = 2.0  # panorama pieces: width about this many times the height
MIN_BAND = 120  # panorama bands thinner than this many pixels are skipped
LOWEST_ALTITUDE = -40.0  # spherical maps: rows below this altitude are too stretched

# Curated by viewing every image in these package versions. Anything not listed in either
# list is reported and skipped, so a new package version gets looked at before use.
PLASMA = "plasma-workspace-wallpapers"  # usr/share/wallpapers/<name>/contents/images/
PLASMA_PHOTOS = ("BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow",
                 "FallenLeaf", "Grey", "Kite", "OneStandsOut", "Path", "summer_1am")
PLASMA_NOT_PHOTOS = ("Altai", "Autumn", "Canopee", "Cascade", "Cluster", "Elarun", "Flow",
                     "FlyingKonqui", "Honeywave", "IceCold", "Kay", "Kokkini", "MilkyWay",
                     "Opal", "PastelHills", "Patak", "SafeLanding", "Shell", "Volna")
# Plain image folders: package -> (folder, photos, not photos), by file name.
FOLDERS = {
    "lomiri-wallpapers-20.04": ("usr/share/backgrounds", ("Kleiber_by_Lukas_Baubkus.jpg",),
                                ("Fossa_by_Jasper_Roks.jpg", "Infinite-Sea_by_Aury88.jpg",
                                 "Painting-Colors_by__herobrine7gamer.jpg")),
    "lomiri-wallpapers": ("usr/share/backgrounds", (),
                          ("warty-final-ubuntu.png", "lomiri-default-background.png")),
    "gnome-backgrounds": ("usr/share/backgrounds/gnome", (), ("*",)),  # all drawings/renders
    "sway-backgrounds": ("usr/share/backgrounds/sway", (), ("*",)),  # logo artwork
}
STELLARIUM = "stellarium-data"  # usr/share/stellarium/landscapes/<name>/landscape.ini
STELLARIUM_PHOTOS = {
    "garching": "", "guereins": "", "hurricane": "", "grossmugl": "",
    "mars": "NASA/JPL-Caltech/Cornell rover imagery (public domain)",
}
# ocean: render; trees: fisheye canopy; moon: ground patched with flat grey;
# the planets and sun: flat colours; geneva, zero: horizon lines, no image.
STELLARIUM_NOT_PHOTOS = ("ocean", "trees", "moon", "geneva", "zero", "jupiter", "neptune",
                         "saturn", "sun", "uranus")
PACKAGES = (PLASMA, *FOLDERS, STELLARIUM)

# scikit-image's bundled files that are real photographs, with the licence its docs give.
SKIMAGE_PHOTOS = {
    "astronaut": "NASA, public domain",
    "brick": "CC0 (CC0Textures)",
    "camera": "CC0 by the photographer (Lav Varshney)",
    "chelsea": "CC0 by the photographer (Stefan van der Walt)",
    "coffee": "CC0 by the photographer (Rachel Michetti)",
    "coins": "no known copyright restrictions",
    "grass": "CC0 (CC0Textures)",
    "gravel": "CC0 (CC0Textures)",
    "moon": "scikit-image sample data, no licence given",
    "motorcycle_left": "Middlebury 2014 stereo data set (research use)",
    "rocket": "SpaceX, public domain",
    "text": "no known copyright restrictions, public domain",
}
SKIMAGE_NOT_PHOTOS = ("cell", "clock_motion", "color", "horse", "ihc", "logo", "microaneurysms",
                      "motorcycle_right", "page", "retina", "hubble_deep_field", "phantom",
                      "chessboard_GRAY", "chessboard_RGB")  # synthetic, medical, duplicate


# ---------------------------------------------------------------- pure helpers

def split_of(name: str) -> str:
    """'val' for about VAL_PERCENT % of names, 'train' otherwise; fixed by a hash."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return "val" if int.from_bytes(digest[:8], "big") % 100 < VAL_PERCENT else "train"


def split_key(file: str) -> str:
    """Pieces of one panorama ("name-3.jpg") share a key, so they land in the same split."""
    stem, ext = os.path.splitext(file)
    head, _, tail = stem.rpartition("-")
    return head + ext if head and tail.isdigit() else file


def downscale(pixels: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink (H, W, 3) uint8 so the longest side is at most max_side (Lanczos)."""
    height, width = pixels.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return pixels
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.LANCZOS, reducing_gap=3.0))


def opaque_band(alpha: np.ndarray) -> tuple[int, int]:
    """Rows (start, stop) of the longest run of fully opaque rows; (0, 0) if none."""
    opaque = np.concatenate([[False], (alpha == 255).all(axis=1), [False]])
    edges = np.flatnonzero(np.diff(opaque.astype(np.int8)))
    if edges.size == 0:
        return 0, 0
    starts, stops = edges[0::2], edges[1::2]
    best = int(np.argmax(stops - starts))
    return int(starts[best]), int(stops[best])


def pieces(width: int, height: int, aspect: float = PIECE_ASPECT) -> list[tuple[int, int]]:
    """Split columns 0..width into equal pieces about aspect * height wide."""
    count = max(1, round(width / (aspect * height)))
    bounds = np.linspace(0, width, count + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def copyright_for(copyright_text: str, installed_path: str) -> str:
    """Licence (and copyright) of a file from a DEP-5 debian/copyright, matched by name."""
    name = os.path.basename(installed_path)
    found = ""
    specific = False
    for block in copyright_text.split("\n\n"):
        fields, key = {}, None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if "Files" not in fields or "License" not in fields:
            continue
        for pattern in fields["Files"].split():
            if pattern.startswith("debian/"):
                continue
            is_star = pattern == "*"
            if (is_star and not specific) or (not is_star and fnmatch.fnmatch(name, os.path.basename(pattern))):
                found = fields["License"].split()[0] if fields["License"] else ""
                if fields.get("Copyright"):
                    found += f", (c) {fields['Copyright']}"
                specific = specific or not is_star
    return found


# ---------------------------------------------------------------- sources

def fetch_packages(workdir: str, debs: str | None) -> dict[str, tuple[str, str]]:
    """package -> (unpacked root, version)."""
    if debs is None:
        debs = os.path.join(workdir, "debs")
        os.makedirs(debs)
        subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True)
    unpacked = {}
    for package in PACKAGES:
        files = glob.glob(os.path.join(debs, f"{package}_*.deb"))
        if not files:
            print(f"warning: no .deb for {package}", file=sys.stderr)
            continue
        root = os.path.join(workdir, package)
        subprocess.run(["dpkg", "-x", files[0], root], check=True)
        version = subprocess.run(["dpkg-deb", "-f", files[0], "Version"], check=True,
                                 capture_output=True, text=True).stdout.strip()
        unpacked[package] = (root, version)
    return unpacked


def package_copyright(root: str, package: str) -> str:
    path = os.path.join(root, "usr/share/doc", package, "copyright")
    return open(path, encoding="utf-8", errors="replace").read() if os.path.exists(path) else ""


def curated(names, photos, not_photos, where: str) -> list[str]:
    chosen = []
    for name in sorted(names):
        if name in photos:
            chosen.append(name)
        elif not any(fnmatch.fnmatch(name, pattern) for pattern in not_photos):
            print(f"warning: {where}/{name} is not curated; skipped", file=sys.stderr)
    return chosen


def plasma_photos(root: str):
    base = os.path.join(root, "usr/share/wallpapers")
    deb_licence = copyright_for(package_copyright(root, PLASMA), "*")
    for name in curated(os.listdir(base), PLASMA_PHOTOS, PLASMA_NOT_PHOTOS, base):
        files = glob.glob(os.path.join(base, name, "contents/images/*"))
        best = max(files, key=lambda f: np.prod(Image.open(f).size))
        meta = json.load(open(os.path.join(base, name, "metadata.json"))).get("KPlugin", {})
        authors = ", ".join(a.get("Name", "") for a in meta.get("Authors", []))
        licence = f"{meta.get('License', '?')} by {authors} (metadata.json); package: {deb_licence}"
        yield name, to_rgb8(load_image(best).pixels), os.path.relpath(best, root), licence


def folder_photos(root: str, package: str):
    folder, photos, not_photos = FOLDERS[package]
    base = os.path.join(root, folder)
    if not os.path.isdir(base):
        return
    text = package_copyright(root, package)
    names = [n for n in os.listdir(base) if os.path.isfile(os.path.join(base, n))]
    for name in curated(names, photos, not_photos, base):
        path = os.path.join(base, name)
        yield (os.path.splitext(name)[0], to_rgb8(load_image(path).pixels),
               os.path.relpath(path, root), copyright_for(text, path))


def stellarium_photos(root: str):
    base = os.path.join(root, "usr/share/stellarium/landscapes")
    deb_licence = copyright_for(package_copyright(root, STELLARIUM), "*")
    for name in curated(os.listdir(base), STELLARIUM_PHOTOS, STELLARIUM_NOT_PHOTOS, base):
        ini = configparser.ConfigParser(strict=False, interpolation=None)
        ini.read(os.path.join(base, name, "landscape.ini"), encoding="utf-8")
        info = ini["landscape"]
        if info.get("type") == "old_style":
            keys = sorted((k for k in info if k[3:].isdigit() and k.startswith("tex")),
                          key=lambda k: int(k[3:]))
            files = [info[k] for k in keys]
            tiles = [np.asarray(Image.open(os.path.join(base, name, f)).convert("RGBA")) for f in files]
            height = min(t.shape[0] for t in tiles)
            strip = np.concatenate([t[:height] for t in tiles], axis=1)
            bottom = height
        else:  # spherical: rows run from maptex_top down to maptex_bottom degrees
            files = [info["maptex"]]
            strip = np.asarray(Image.open(os.path.join(base, name, files[0])).convert("RGBA"))
            top, low = float(info.get("maptex_top", 90)), float(info.get("maptex_bottom", -90))
            bottom = int(round((top - LOWEST_ALTITUDE) / (top - low) * strip.shape[0]))
        alpha = strip[:bottom, :, 3]
        typical = int(((alpha == 255).mean(axis=1) >= 0.5).sum())  # sizes the pieces
        note = f"{STELLARIUM_PHOTOS[name] or 'landscape by ' + info.get('author', '?')}; package: {deb_licence}"
        original = ", ".join(os.path.relpath(os.path.join(base, name, f), root) for f in files)
        for k, (x0, x1) in enumerate(pieces(strip.shape[1], max(typical, 1))):
            start, stop = opaque_band(alpha[:, x0:x1])
            if stop - start < MIN_BAND:
                print(f"note: {name} piece {k}: opaque band only {stop - start} px; skipped",
                      file=sys.stderr)
                continue
            yield (f"{name}-{k}", np.ascontiguousarray(strip[start:stop, x0:x1, :3]),
                   original + f" [rows {start}:{stop}, cols {x0}:{x1}]", note)


def skimage_photos():
    import skimage
    import skimage.data

    folder = os.path.dirname(skimage.data.__file__)
    names = {os.path.splitext(n)[0]: n for n in os.listdir(folder)
             if n.lower().endswith((".png", ".jpg"))}
    version = skimage.__version__
    for name in curated(names, SKIMAGE_PHOTOS, SKIMAGE_NOT_PHOTOS, folder):
        pixels = to_rgb8(load_image(os.path.join(folder, names[name])).pixels)
        yield name, pixels, f"skimage/data/{names[name]}", SKIMAGE_PHOTOS[name], version


# ---------------------------------------------------------------- main

def gather(out: str, max_side: int, debs: str | None) -> dict:
    os.makedirs(out, exist_ok=True)
    entries = []

    def write(source: str, version: str, stem: str, pixels: np.ndarray, original: str, licence: str):
        file = f"{source}-{stem}.jpg"
        small = downscale(pixels, max_side)
        save_image(os.path.join(out, file), small, quality=QUALITY)
        entries.append({"file": file, "split": split_of(split_key(file)), "source": source,
                        "version": version, "original": original, "licence": licence,
                        "width": int(small.shape[1]), "height": int(small.shape[0])})

    with tempfile.TemporaryDirectory(prefix="gather_photos_") as workdir:
        for package, (root, version) in fetch_packages(workdir, debs).items():
            if package == PLASMA:
                found = plasma_photos(root)
            elif package == STELLARIUM:
                found = stellarium_photos(root)
            else:
                found = folder_photos(root, package)
            for stem, pixels, original, licence in found:
                write(package, version, stem, pixels, original, licence)
    for stem, pixels, original, licence, version in skimage_photos():
        write("scikit-image", version, stem, pixels, original, licence)

    counts = {}
    for entry in entries:
        counts.setdefault(entry["source"], {"train": 0, "val": 0})[entry["split"]] += 1
    manifest = {
        "made_by": "scripts/gather_photos.py", "max_side": max_side, "jpeg_quality": QUALITY,
        "val_percent": VAL_PERCENT, "counts": counts,
        "train": sum(e["split"] == "train" for e in entries),
        "val": sum(e["split"] == "val" for e in entries),
        "images": sorted(entries, key=lambda e: e["file"]),
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
    return manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output folder (e.g. data/photos)")
    parser.add_argument("--max-side", type=int, default=1024, help="longest side in pixels")
    parser.add_argument("--debs", help="folder with the .deb files already downloaded")
    args = parser.parse_args(argv)
    manifest = gather(args.out, args.max_side, args.debs)
    for source, split in sorted(manifest["counts"].items()):
        print(f"{source}: {split['train']} train, {split['val']} val")
    print(f"total: {manifest['train']} train, {manifest['val']} val -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
