"""Screenshots of the object-removal tools on real photos (smart select, sampling area,
variations, blend controls). Run under a display:
``xvfb-run -s "-screen 0 1600x1000x24" python scripts/screenshot_removal.py /tmp/removal-shots``."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/removal-shots")
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QPointF
    from shots import Shots

    from inpaint_studio.commands.sampling import AvoidStroke

    shots = Shots(out, status=True)
    window, settle, shot = shots.window, shots.settle, shots.shot

    def wait_fill() -> None:
        while window.fill.job is not None:
            settle(100)

    # coffee: the spoon by a box
    window.open_path(ROOT / "data/photos/scikit-image-coffee.jpg")
    window.select_tool("tool_smart")
    window.tools["tool_smart"].select([QPointF(318, 62), QPointF(428, 332)], False, False)
    shot("1-smart-box-spoon.png")
    # the star that stands out: a scribble on it, sampling area over the soil and brown star
    window.open_path(ROOT / "data/photos/plasma-workspace-wallpapers-OneStandsOut.jpg")
    window.select_tool("tool_smart")
    window.tools["tool_smart"].select([QPointF(650, 320), QPointF(670, 315), QPointF(690, 322)],
                                      True, False, radius=3)
    shot("2-smart-scribble-star.png")
    window.undo()
    window.tools["tool_smart"].select([QPointF(600, 270), QPointF(725, 375)], False, False)
    shot("2b-smart-box-star.png")
    doc = window.document
    stroke = AvoidStroke.begin(doc, radius=45)
    for a, b in (((300, 560), (720, 560)), ((620, 460), (690, 460)), ((640, 480), (660, 440))):
        stroke.add_segment(a, b)
    window.history.push(stroke.end())
    window.select_tool("tool_sample")
    shot("3-sampling-area.png")
    window.engine_panel.set_engine("patchmatch")
    window.run_fill()
    wait_fill()
    shot("4-filled.png")
    window.removal.dock.raise_()
    for _ in range(2):
        window.act.try_again.trigger()
        wait_fill()
    shot("5-variation-3.png")
    window.act.variation_1.trigger()
    shot("6-variation-1.png")
    window.act.keep_variation.trigger()
    window.engine_dock.raise_()
    shot("7-kept-fill-panel.png")
    window.history.set_clean()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
