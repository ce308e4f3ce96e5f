"""Drive the editor and save screenshots: photo, painted mask, finished fill.

Run under a display, e.g. ``xvfb-run -s "-screen 0 1600x1000x24" python scripts/screenshot.py /tmp/shots``.
Uses skimage's astronaut photo. Engine: patchmatch (or the one named by --engine).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?", default="/tmp/inpaint-shots")
    parser.add_argument("--engine", default="patchmatch")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PIL import Image
    from skimage import data

    photo = Path(tempfile.mkdtemp()) / "astronaut.png"
    Image.fromarray(data.astronaut()).save(photo)

    from PySide6.QtCore import QEventLoop, QPointF, QTimer
    from shots import Shots

    from inpaint_studio.commands.edits import MaskStroke, SketchStroke

    shots = Shots(out, settle_ms=150)
    window, settle, shot = shots.window, shots.settle, shots.shot

    shot("0-empty.png")
    window.open_path(photo)
    shot("1-photo.png")
    doc = window.document
    stroke = MaskStroke.begin(doc, radius=14)  # paint the flag patch / rocket on the left
    points = [(40, 60 + i * 8) for i in range(30)] + [(70, 300 - i * 8) for i in range(30)]
    for p0, p1 in zip(points[:-1], points[1:]):
        stroke.add_segment(p0, p1)
    window.history.push(stroke.end())
    guide = SketchStroke.begin(doc, radius=1.5)  # a guide line along the flag's stripe
    guide.add_segment((20, 250), (110, 330))
    window.history.push(guide.end())
    window.canvas.tool.hover(window.canvas, QPointF(300, 300))
    shot("2-mask.png")
    done = QEventLoop()
    for signal in (window.service.finished, window.service.failed, window.service.cancelled):
        signal.connect(lambda *a: QTimer.singleShot(50, done.quit))
    window.engine_panel.set_engine(args.engine)
    window.run_fill()
    settle(300)
    shot("3-running.png")
    if window.service.busy:
        done.exec()
    shot("4-filled.png")
    window.act.split.setChecked(True)
    shot("5-split.png")
    window.act.split.setChecked(False)
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    window.select_tool("tool_lasso")  # a lasso in progress (subtract with Alt)
    vp = window.canvas.viewport()
    QTest.mousePress(vp, Qt.LeftButton, Qt.AltModifier, QPoint(500, 200))
    for x, y in ((600, 180), (700, 260), (690, 400), (560, 430), (480, 330)):
        QTest.mouseMove(vp, QPoint(x, y))
    shot("5b-lasso.png")
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.AltModifier, QPoint(480, 330))
    window.select_tool("tool_brush")
    window.brush.hardness = 0.4
    window.canvas.tool.hover(window.canvas, QPointF(250, 200))
    shot("5c-soft-brush.png")
    window.canvas.set_zoom(4.0, QPointF(200, 300))
    shot("6-zoom400.png")
    from inpaint_studio.ui.dialogs.dialogs import HelpDialog

    help_dialog = HelpDialog(window)
    help_dialog.show()
    settle()
    help_dialog.grab().save(str(out / "7-help.png"))
    print("saved", out / "7-help.png")
    help_dialog.close()
    window.history.set_clean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
