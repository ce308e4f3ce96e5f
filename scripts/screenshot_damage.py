"""Screenshots of the old-photo workflow: detect scratches & dust, slider, apply, heal.

A real photo from data/photos is made old with benchmarks/oldphoto.py (known damage),
opened in the editor, and the proposal is shown at two sensitivities (whole photo and
100 %). Also writes ``found.png``: known damage the detector missed in red, what it
flagged outside the damage in blue, hits in green.

xvfb-run -s "-screen 0 1600x1000x24" python scripts/screenshot_damage.py /tmp/damage-shots
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))


def make_old(src: Path, out: Path, seed: int) -> np.ndarray:
    from oldphoto import age, damage

    rng = np.random.default_rng(seed)
    rgb = cv2.imread(str(src), cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255
    damaged, visible, _ = damage(age(rgb, rng, sepia=True), rng)
    cv2.imwrite(str(out), np.clip(damaged[..., ::-1] * 255 + 0.5, 0, 255).astype(np.uint8))
    return visible


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?", default="/tmp/damage-shots")
    parser.add_argument("--photo", default=str(ROOT / "data/photos/scikit-image-astronaut.jpg"))
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--zoom-at", default="", help="x,y of the 100 %% view (default: centre)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    photo = out / "old.png"
    truth = make_old(Path(args.photo), photo, args.seed)

    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtTest import QTest
    from shots import Shots

    shots = Shots(out)
    window, settle, shot = shots.window, shots.settle, shots.shot

    def wait(done) -> None:
        while not done():
            settle(50)

    window.open_path(photo)
    shot("1-old.png")
    detect = window.damage
    window.act.detect_damage.trigger()
    shot("2-detecting.png")
    wait(lambda: detect.proposal is not None)
    shot("3-proposal-0.50.png")
    found = detect.proposal.copy()
    tol = cv2.dilate(truth.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    hit = cv2.dilate(found.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    picture = (window.document.image.astype(np.float32) * 0.5).astype(np.uint8)
    picture[truth & ~hit] = (255, 40, 40)
    picture[found & ~tol] = (60, 120, 255)
    picture[found & tol] = (40, 220, 60)
    cv2.imwrite(str(out / "found.png"), picture[..., ::-1])
    print(f"recall {(truth & hit).sum() / max(truth.sum(), 1):.3f} "
          f"precision {(found & tol).sum() / max(found.sum(), 1):.3f}")
    x, y = (int(v) for v in args.zoom_at.split(",")) if args.zoom_at else (
        window.document.width // 2, window.document.height // 2)
    window.canvas.set_zoom(1.0)
    window.canvas.horizontalScrollBar().setValue(x - window.canvas.viewport().width() // 2)
    window.canvas.verticalScrollBar().setValue(y - window.canvas.viewport().height() // 2)
    shot("4-proposal-100pct.png")
    detect.panel.slider.setValue(80)
    wait(lambda: detect.proposal is not None and detect.proposal.sum() >= found.sum())
    shot("5-proposal-0.80-100pct.png")
    detect.panel.apply_button.click()
    shot("6-applied.png")
    window.run_fill()
    shot("7-filling.png")
    wait(lambda: not window.filling)
    shot("8-filled.png")
    window.act.tool_heal.trigger()
    vp = window.canvas.viewport()
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, QPoint(700, 400))
    QTest.mouseMove(vp, QPoint(720, 410))
    window.canvas.tool.hover(window.canvas, QPointF(window.canvas.map_to_image(QPointF(720, 410))))
    shot("9-heal-stroke.png")
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, QPoint(720, 410))
    wait(lambda: not window.filling)
    shot("10-healed.png")
    window.history.set_clean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
