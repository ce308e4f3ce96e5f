"""Tools work on an EditTarget alone (a document, its history, a status line): no window."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from inpaint_studio.commands.history import History
from inpaint_studio.core.document import Document
from inpaint_studio.ui.canvas.view import CanvasView
from inpaint_studio.ui.tools.brush import BrushSettings, BrushTool
from inpaint_studio.ui.tools.heal import HealTool
from inpaint_studio.ui.tools.selection import RectTool
from inpaint_studio.ui.tools.target import EditTarget


@pytest.fixture
def canvas(qtbot):
    view = CanvasView()
    qtbot.addWidget(view)
    view.resize(300, 220)
    view.show()
    return view


def open_on(canvas, target: EditTarget) -> None:
    doc = target.document
    canvas.set_layers(doc.image, doc.mask, doc.sketch)
    canvas.set_zoom(1.0)


def drag(qtbot, canvas, image_points, modifier=Qt.NoModifier):
    o = canvas.origin()
    view = [QPoint(int(o.x()) + x, int(o.y()) + y) for x, y in image_points]
    vp = canvas.viewport()
    qtbot.mousePress(vp, Qt.LeftButton, modifier, view[0])
    for p in view[1:]:
        qtbot.mouseMove(vp, p)
    qtbot.mouseRelease(vp, Qt.LeftButton, modifier, view[-1])


def photo() -> Document:
    return Document(np.full((60, 80, 3), 120, np.uint8))


def test_brush_and_rectangle_push_one_step_each_through_the_target(qtbot, canvas):
    doc = photo()
    history = History(doc)
    target = EditTarget.of(doc, history)
    open_on(canvas, target)
    canvas.set_tool(BrushTool(target, BrushSettings(size=6.0), "brush", True))
    drag(qtbot, canvas, [(10, 10), (30, 10)])
    assert doc.mask[10, 12:28].all() and not doc.mask[40:].any()
    assert history.steps == ["Brush stroke"]
    canvas.set_tool(RectTool(target))
    drag(qtbot, canvas, [(40, 30), (60, 50)])
    assert doc.mask[35:45, 45:55].all()
    assert len(history.steps) == 2
    history.undo()
    history.undo()
    assert not doc.mask.any()


def test_heal_waits_for_a_running_fill_and_otherwise_hands_the_footprint_over(qtbot, canvas):
    doc = photo()
    messages, healed = [], []
    running = [True]
    target = EditTarget.of(doc, filling=lambda: running[0], status=lambda text, ms: messages.append(text),
                           heal=lambda stroke, footprint: healed.append((stroke, footprint.copy())))
    open_on(canvas, target)
    canvas.set_tool(HealTool(target, BrushSettings(size=4.0)))
    drag(qtbot, canvas, [(20, 20), (40, 20)])
    assert messages == ["Wait for the fill to finish before healing."]
    assert healed == [] and not doc.mask.any()
    running[0] = False
    drag(qtbot, canvas, [(20, 20), (40, 20)])
    assert len(healed) == 1
    stroke, footprint = healed[0]
    assert stroke is not None  # not pushed: the editor pushes stroke + fill as one step
    assert footprint[20, 22:38].all() and footprint.sum() == doc.mask.sum()


def test_a_target_without_a_photo_says_so():
    target = EditTarget(lambda: None, lambda: None)
    with pytest.raises(RuntimeError, match="no photo"):
        target.document
    with pytest.raises(RuntimeError, match="no photo"):
        target.push(object())
    assert target.filling is False
