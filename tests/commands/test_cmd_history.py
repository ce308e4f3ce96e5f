"""History: undo/redo/goto, clean state, merge, macro, byte budget, listeners."""
import numpy as np
import pytest

from inpaint_studio.commands.edits import Command, Lasso, MaskOp, MaskStroke, RectSelect
from inpaint_studio.commands.history import History
from inpaint_studio.core.document import Document


def make(h=64, w=80, **kw):
    doc = Document(np.zeros((h, w, 3), np.uint8))
    return doc, History(doc, **kw)


def stroke(doc, p0, p1, radius=4.0, value=True):
    s = MaskStroke.begin(doc, radius, value)
    s.add_segment(p0, p1)
    return s.end()


def test_undo_redo_and_steps():
    doc, hist = make()
    states = [doc.mask.copy()]
    hist.push(stroke(doc, (5, 5), (40, 20)))
    states.append(doc.mask.copy())
    hist.push(RectSelect.apply(doc, 50, 30, 70, 60))
    states.append(doc.mask.copy())
    hist.push(stroke(doc, (10, 10), (60, 50), value=False))
    states.append(doc.mask.copy())
    assert hist.steps == ["Brush stroke", "Rectangle add", "Eraser stroke"]
    assert hist.index == 3 and hist.can_undo and not hist.can_redo
    assert hist.undo_text == "Eraser stroke" and hist.redo_text == ""
    for k in (2, 1, 0):
        assert hist.undo()
        assert np.array_equal(doc.mask, states[k]) and hist.index == k
    assert not hist.undo() and not hist.can_undo
    assert hist.redo_text == "Brush stroke"
    for k in (1, 2, 3):
        assert hist.redo()
        assert np.array_equal(doc.mask, states[k])
    assert not hist.redo()


def test_goto_any_step_and_push_drops_redo():
    doc, hist = make()
    states = [doc.mask.copy()]
    for k in range(5):
        hist.push(stroke(doc, (5 + 12 * k, 5), (5 + 12 * k, 55)))
        states.append(doc.mask.copy())
    for target in (2, 0, 5, 1, 4, 4, 3):
        hist.goto(target)
        assert hist.index == target and np.array_equal(doc.mask, states[target])
    hist.goto(99)
    assert hist.index == 5
    hist.goto(2)
    hist.push(Lasso.apply(doc, [(0, 0), (30, 0), (0, 30)]))
    assert hist.steps == ["Brush stroke"] * 2 + ["Lasso add"] and not hist.can_redo
    hist.goto(2)
    assert np.array_equal(doc.mask, states[2])


def test_none_is_ignored():
    doc, hist = make()
    calls = []
    hist.listen(lambda: calls.append(1))
    hist.push(None)
    assert hist.steps == [] and calls == []


def test_clean_and_modified():
    doc, hist = make()
    assert hist.clean and not doc.modified
    hist.push(stroke(doc, (5, 5), (20, 20)))
    assert not hist.clean and doc.modified
    hist.set_clean()
    assert hist.clean and not doc.modified
    hist.push(stroke(doc, (30, 5), (40, 20)))
    assert doc.modified
    hist.undo()
    assert hist.clean and not doc.modified
    hist.undo()
    assert doc.modified
    hist.push(stroke(doc, (50, 5), (60, 20)))  # the saved state is now unreachable
    hist.undo()
    assert doc.modified
    hist.redo()
    assert doc.modified


def test_merge_grow_steps_but_not_across_clean():
    doc, hist = make()
    hist.push(stroke(doc, (40, 30), (40, 30), radius=3))
    start = doc.mask.copy()
    hist.push(MaskOp.apply(doc, "grow", 2))
    hist.push(MaskOp.apply(doc, "grow", 3))
    assert hist.steps == ["Brush stroke", "Grow mask 5 px"]
    grown = doc.mask.copy()
    hist.undo()
    assert np.array_equal(doc.mask, start)
    hist.redo()
    assert np.array_equal(doc.mask, grown)
    hist.set_clean()
    hist.push(MaskOp.apply(doc, "grow", 1))
    assert hist.steps[-1] == "Grow mask 1 px" and len(hist.steps) == 3
    hist.push(MaskOp.apply(doc, "shrink", 1))
    assert len(hist.steps) == 4


def test_macro_is_one_step():
    doc, hist = make()
    hist.begin_macro("Select subject")
    hist.push(RectSelect.apply(doc, 10, 10, 40, 40))
    assert not hist.can_undo
    hist.push(stroke(doc, (50, 50), (70, 60)))
    hist.end_macro()
    assert hist.steps == ["Select subject"]
    after = doc.mask.copy()
    hist.undo()
    assert not doc.mask.any()
    hist.redo()
    assert np.array_equal(doc.mask, after)
    hist.begin_macro("nothing")
    hist.end_macro()
    assert len(hist.steps) == 1
    with pytest.raises(RuntimeError):
        hist.end_macro()


def test_listeners_see_each_change():
    doc, hist = make()
    seen = []
    stop = hist.listen(lambda: seen.append((hist.index, tuple(hist.steps))))
    hist.push(stroke(doc, (5, 5), (20, 20)))
    hist.undo()
    hist.redo()
    hist.goto(0)
    assert seen == [(1, ("Brush stroke",)), (0, ("Brush stroke",)), (1, ("Brush stroke",)),
                    (0, ("Brush stroke",))]
    stop()
    hist.redo()
    assert len(seen) == 4


def test_undo_notifies_document_listeners_with_changed_box():
    doc, hist = make()
    hist.push(stroke(doc, (10, 10), (30, 12), radius=3))
    painted = doc.mask.copy()
    boxes = []
    doc.listen(lambda layer, box: boxes.append((layer, box)))
    hist.undo()
    assert boxes and all(layer == "mask" for layer, _ in boxes)
    covered = np.zeros_like(painted)
    for _, box in boxes:
        covered[box.slices] = True
    assert covered[painted].all()


def test_replacing_the_document_clears_history():
    doc, hist = make()
    hist.push(stroke(doc, (5, 5), (20, 20)))
    doc.replace(np.zeros((10, 10, 3), np.uint8))
    assert hist.steps == [] and hist.index == 0 and hist.clean and not doc.modified


class Big(Command):
    """A fake step of a given size that changes nothing."""

    def __init__(self, k, size):
        self.text, self.size = f"step {k}", size

    def undo(self, doc):
        pass

    def redo(self, doc):
        pass

    @property
    def nbytes(self):
        return self.size


def test_byte_budget_drops_oldest_but_keeps_min_steps():
    doc, hist = make(byte_budget=1000, min_steps=3)
    for k in range(10):
        hist.push(Big(k, 300))
        assert hist.nbytes <= 1000
    assert hist.steps == ["step 7", "step 8", "step 9"]
    for k in range(10, 15):
        hist.push(Big(k, 2000))  # each alone is over budget
    assert hist.steps == ["step 12", "step 13", "step 14"]
    assert hist.index == 3


def test_byte_budget_with_real_strokes():
    doc, hist = make(200, 300, byte_budget=6000, min_steps=4)
    rng = np.random.default_rng(3)
    for k in range(30):
        a, b = rng.uniform(0, 300, 2), rng.uniform(0, 200, 2)
        hist.push(stroke(doc, (a[0], b[0]), (a[1], b[1]), radius=rng.uniform(2, 30), value=k % 3 > 0))
    assert 4 <= len(hist.steps) < 30
    assert hist.nbytes <= 6000 or len(hist.steps) == 4
    final = doc.mask.copy()
    hist.goto(0)  # the oldest kept step is now the base state
    hist.goto(len(hist.steps))
    assert np.array_equal(doc.mask, final)


def test_dropping_the_clean_step_makes_it_unreachable():
    doc, hist = make(byte_budget=500, min_steps=2)
    hist.set_clean()
    for k in range(4):
        hist.push(Big(k, 200))
    hist.goto(0)
    assert not hist.clean and doc.modified
