"""Training samples: random crops at random scales from a folder of photos.

A few dozen photos go a long way when every sample is a fresh crop at a fresh scale,
flipped and slightly colour-jittered.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from inpaint_studio.core.errors import UserError
from inpaint_studio.training.holes import MAX_RATIO, MIN_RATIO, random_hole, sketch_from_edges

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"}


def list_photos(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"training data folder not found: {folder}")
    photos = sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise UserError(f"no photos (jpg/png/webp/tif/bmp) found in {folder}")
    return photos


def read_rgb(path: Path, max_side: int = 1536) -> np.ndarray:
    data = np.fromfile(str(path), np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise UserError(f"cannot read training photo: {path}")
    scale = max_side / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class PhotoCrops:
    """Random size x size crops of in-memory photos (scale 1/4 .. 1 of the short side)."""

    def __init__(self, photos: list[np.ndarray], size: int = 256,
                 holes: tuple[float, float] = (MIN_RATIO, MAX_RATIO)) -> None:
        if not photos:
            raise UserError("no training photos")
        self.photos = photos
        self.size = size
        self.holes = holes  # range of hole ratios

    @classmethod
    def from_folder(cls, folder: Path, size: int = 256) -> "PhotoCrops":
        return cls([read_rgb(p) for p in list_photos(folder)], size)

    def crop(self, rng: np.random.Generator) -> np.ndarray:
        photo = self.photos[int(rng.integers(len(self.photos)))]
        h, w = photo.shape[:2]
        short = min(h, w)
        side = int(rng.uniform(max(self.size, short / 4), short + 1)) if short > self.size else short
        y = int(rng.integers(0, h - side + 1))
        x = int(rng.integers(0, w - side + 1))
        patch = photo[y:y + side, x:x + side]
        interp = cv2.INTER_AREA if side > self.size else cv2.INTER_CUBIC
        patch = cv2.resize(patch, (self.size, self.size), interpolation=interp)
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        gain = rng.uniform(0.92, 1.08, 3) * rng.uniform(0.9, 1.1)
        patch = np.clip(patch.astype(np.float32) * gain + rng.uniform(-8, 8), 0, 255)
        return patch.astype(np.uint8)

    def sample(self, rng: np.random.Generator, with_sketch: bool = False):
        """(image uint8 HxWx3, hole bool HxW, sketch bool HxW or None)."""
        image = self.crop(rng)
        hole = random_hole(self.size, rng, *self.holes)
        sketch = sketch_from_edges(image, hole, rng) if with_sketch else None
        return image, hole, sketch


def split_photos(paths: list[Path], val_fraction: float = 0.1) -> tuple[list[Path], list[Path]]:
    """Deterministic split by file name: every 10th photo (sorted) is held out."""
    paths = sorted(paths, key=lambda p: p.name)
    step = max(2, round(1 / val_fraction))
    val = paths[step - 1::step]
    train = [p for p in paths if p not in val]
    return train, val
