"""Pure helpers of scripts/gather_photos.py (no apt-get, no network)."""
from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "gather_photos.py")


@pytest.fixture(scope="module")
def gather():
    spec = importlib.util.spec_from_file_location("gather_photos", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_split_is_deterministic_and_about_ten_percent(gather):
    names = [f"photo-{i}.jpg" for i in range(2000)]
    first = [gather.split_of(n) for n in names]
    assert first == [gather.split_of(n) for n in names]
    assert set(first) == {"train", "val"}
    assert 0.07 < first.count("val") / len(names) < 0.13
    # depends on the name only, not on the order or on the other names
    assert gather.split_of("photo-7.jpg") == first[7]


def test_panorama_pieces_share_a_split(gather):
    assert gather.split_key("stellarium-data-guereins-3.jpg") == "stellarium-data-guereins.jpg"
    assert gather.split_key("scikit-image-motorcycle_left.jpg") == "scikit-image-motorcycle_left.jpg"
    assert gather.split_key("lomiri-wallpapers-20.04-Kleiber_by_X.jpg") == "lomiri-wallpapers-20.04-Kleiber_by_X.jpg"


def test_downscale_keeps_aspect_and_small_images(gather):
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (300, 500, 3), dtype=np.uint8)
    small = gather.downscale(big, 100)
    assert small.shape == (60, 100, 3) and small.dtype == np.uint8
    assert abs(int(small.mean()) - int(big.mean())) <= 3
    tall = gather.downscale(big.transpose(1, 0, 2), 100)
    assert tall.shape == (100, 60, 3)
    assert gather.downscale(big, 500) is big


def test_opaque_band_finds_longest_run(gather):
    alpha = np.full((10, 4), 255, np.uint8)
    alpha[:3, 1] = 0  # sky at the top
    alpha[7, 2] = 10  # a hole lower down
    assert gather.opaque_band(alpha) == (3, 7)
    assert gather.opaque_band(np.zeros((5, 5), np.uint8)) == (0, 0)


def test_pieces_cover_width(gather):
    parts = gather.pieces(2048, 146, aspect=2.0)
    assert parts[0][0] == 0 and parts[-1][1] == 2048
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    assert len(parts) == 7
    assert gather.pieces(100, 400) == [(0, 100)]


def test_copyright_for_prefers_specific_stanza(gather):
    text = ("Format: x\n\nFiles: *\nCopyright: 2014 Group\nLicense: GPL-2+\n\n"
            "Files: debian/*\nCopyright: 2020 Packager\nLicense: MIT\n\n"
            "Files: 20.04/Kleiber_by_X.jpg\n 20.04/Other.jpg\nCopyright: 2021, X\nLicense: CC-BY-SA-3.0\n\n"
            "License: GPL-2+\n text\n")
    assert gather.copyright_for(text, "usr/share/backgrounds/Kleiber_by_X.jpg") == "CC-BY-SA-3.0, (c) 2021, X"
    assert gather.copyright_for(text, "usr/share/backgrounds/Other.jpg").startswith("CC-BY-SA-3.0")
    assert gather.copyright_for(text, "usr/share/backgrounds/new.png") == "GPL-2+, (c) 2014 Group"


def test_curated_lists_do_not_overlap(gather):
    assert not set(gather.PLASMA_PHOTOS) & set(gather.PLASMA_NOT_PHOTOS)
    assert not set(gather.STELLARIUM_PHOTOS) & set(gather.STELLARIUM_NOT_PHOTOS)
    assert not set(gather.SKIMAGE_PHOTOS) & set(gather.SKIMAGE_NOT_PHOTOS)
    assert gather.curated(["Path", "Altai", "Unknown"], gather.PLASMA_PHOTOS,
                          gather.PLASMA_NOT_PHOTOS, "x") == ["Path"]
