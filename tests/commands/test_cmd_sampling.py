"""Sampling-area edits and smart-selection regions: applied, undone, redone."""
import numpy as np

from inpaint_studio.commands.history import History
from inpaint_studio.commands.sampling import AvoidStroke, PaintRegion, SampleMode
from inpaint_studio.core.document import Document
from inpaint_studio.core.types import BBox


def doc_and_history():
    doc = Document(np.zeros((40, 50, 3), np.uint8))
    return doc, History(doc)


def test_avoid_stroke_is_one_step_on_its_own_layer():
    doc, history = doc_and_history()
    stroke = AvoidStroke.begin(doc, radius=3)
    stroke.add_segment((10, 10), (30, 10))
    history.push(stroke.end())
    assert doc.avoid.sum() > 40 and not doc.mask.any()
    assert history.steps == ["Sampling area stroke"] and not history.photo_modified
    assert np.array_equal(doc.sample_exclusion(), doc.avoid)
    history.undo()
    assert not doc.avoid.any() and doc.sample_exclusion() is None


def test_sample_only_mode_keeps_the_sampled_area_and_undoes():
    doc, history = doc_and_history()
    doc.avoid[5:15, 5:15] = True
    before = doc.sample_exclusion()
    history.push(SampleMode.apply(doc, only=True))
    assert doc.avoid_only and np.array_equal(doc.sample_exclusion(), before)
    assert np.array_equal(doc.avoid, ~before)  # shown as the area to sample from
    assert SampleMode.apply(doc, only=True) is None
    history.undo()
    assert not doc.avoid_only and np.array_equal(doc.avoid, before)
    history.redo()
    assert doc.avoid_only and np.array_equal(doc.avoid, ~before)


def test_sample_only_from_an_empty_layer_starts_empty():
    doc, history = doc_and_history()
    history.push(SampleMode.apply(doc, only=True))
    assert doc.avoid_only and not doc.avoid.any() and doc.sample_exclusion() is None
    doc.avoid[0:10, 0:10] = True  # only from here: everything else is excluded
    assert doc.sample_exclusion().sum() == 40 * 50 - 100


def test_paint_region_adds_and_subtracts_one_step_each():
    doc, history = doc_and_history()
    part = np.zeros((10, 20), bool)
    part[2:8, 3:17] = True
    history.push(PaintRegion.apply(doc, BBox(45, 5, 65, 15), part, text="Smart select"))
    assert doc.mask.sum() == 6 * 2  # clipped at the right edge
    assert doc.mask[7:13, 48:50].all()
    history.push(PaintRegion.apply(doc, BBox(45, 5, 65, 15), part, add=False, text="Smart select"))
    assert not doc.mask.any()
    assert history.steps == ["Smart select add", "Smart select subtract"]
    assert PaintRegion.apply(doc, BBox(0, 0, 20, 10), np.zeros((10, 20), bool)) is None
