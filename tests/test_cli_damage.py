"""detect-damage and fill --mask auto-damage: files, exit codes, engine choice."""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from inpaint_studio import cli

sys.path.insert(0, str(Path(__file__).parent / "pipeline"))
from damage_photos import old_photo  # noqa: E402


def write_old(path, seed=0):
    photo, truth = old_photo(seed)
    Image.fromarray(photo).save(path)
    return photo, truth


def test_detect_damage_writes_the_mask(tmp_path, capsys):
    _, truth = write_old(tmp_path / "old.png")
    out = tmp_path / "mask.png"
    assert cli.main(["detect-damage", str(tmp_path / "old.png"), "-o", str(out)]) == 0
    mask = np.asarray(Image.open(out)) > 127
    assert mask.shape == truth.shape
    assert (mask & truth).sum() > 0.6 * truth.sum()
    assert "flagged" in capsys.readouterr().out


def test_existing_mask_and_bad_options_leave_files_alone(tmp_path, capsys):
    write_old(tmp_path / "old.png")
    out = tmp_path / "mask.png"
    out.write_bytes(b"mine")
    photo = str(tmp_path / "old.png")
    assert cli.main(["detect-damage", photo, "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["detect-damage", photo, "-o", str(tmp_path / "m.png"), "--sensitivity", "3"]) == 2
    assert "--sensitivity must be between 0 and 1" in capsys.readouterr().err
    assert cli.main(["detect-damage", photo, "-o", str(tmp_path / "m.jpg")]) == 2
    assert cli.main(["detect-damage", str(tmp_path / "nope.png"), "-o", str(tmp_path / "m.png")]) == 2
    assert out.read_bytes() == b"mine"
    assert not (tmp_path / "m.png").exists() and not (tmp_path / "m.jpg").exists()


def test_batch_names_masks_after_photos(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    write_old(folder / "a.png", 0)
    write_old(folder / "b.png", 1)
    assert cli.main(["detect-damage", str(folder), "-o", str(tmp_path / "masks")]) == 0
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == ["a.png", "b.png"]


def test_fill_auto_damage_heals_with_telea(tmp_path, capsys):
    photo, truth = write_old(tmp_path / "old.png")
    out = tmp_path / "healed.png"
    assert cli.main(["fill", str(tmp_path / "old.png"), "--mask", "auto-damage", "-o", str(out)]) == 0
    assert "Telea" in capsys.readouterr().err
    healed = np.asarray(Image.open(out)).astype(int)
    changed = np.abs(healed - photo).max(axis=2) > 0
    assert changed[truth].mean() > 0.5  # most damage repainted
    far = cv2.dilate(truth.astype(np.uint8), np.ones((11, 11), np.uint8)) == 0  # 5 px away
    assert changed[far].mean() < 0.02


def test_fill_thin_mask_file_picks_telea_unless_engine_given(tmp_path, capsys):
    _, truth = write_old(tmp_path / "old.png")
    Image.fromarray(np.where(truth, 255, 0).astype(np.uint8)).save(tmp_path / "mask.png")
    args = ["fill", str(tmp_path / "old.png"), "--mask", str(tmp_path / "mask.png")]
    assert cli.main(args + ["-o", str(tmp_path / "a.png")]) == 0
    assert "Telea (fast) (thin mask" in capsys.readouterr().err
    assert cli.main(args + ["-o", str(tmp_path / "b.png"), "--engine", "ns"]) == 0
    assert "thin mask" not in capsys.readouterr().err


def test_damage_options_need_auto_damage(tmp_path, capsys):
    write_old(tmp_path / "old.png")
    Image.fromarray(np.zeros((320, 480), np.uint8)).save(tmp_path / "mask.png")
    code = cli.main(["fill", str(tmp_path / "old.png"), "--mask", str(tmp_path / "mask.png"),
                     "-o", str(tmp_path / "out.png"), "--sensitivity", "0.7"])
    assert code == 2
    assert "only apply to --mask auto-damage" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()
