"""Document: layers, regions, listeners, replace."""
import numpy as np
import pytest

from inpaint_studio.core.document import Document
from inpaint_studio.core.types import BBox


def make(h=20, w=30, channels=3, dtype=np.uint8):
    rng = np.random.default_rng(0)
    return rng.integers(0, 200, (h, w, channels)).astype(dtype)


def test_new_document_has_empty_layers():
    doc = Document(make(), picture="meta", path="/tmp/a.jpg")
    assert (doc.width, doc.height) == (30, 20)
    assert doc.mask.shape == doc.sketch.shape == (20, 30)
    assert doc.mask.dtype == bool and not doc.mask.any() and not doc.sketch.any()
    assert doc.picture == "meta" and doc.path.name == "a.jpg" and not doc.modified
    assert doc.bounds == BBox(0, 0, 30, 20)


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 2), np.uint8),
                                 np.zeros((4, 4, 3), np.float32), np.zeros((0, 4, 3), np.uint8)])
def test_rejects_bad_images(bad):
    with pytest.raises(ValueError):
        Document(bad)


def test_rejects_mismatched_mask():
    with pytest.raises(ValueError):
        Document(make(), mask=np.zeros((5, 5), bool))


def test_region_is_a_clipped_copy():
    img = make(channels=4, dtype=np.uint16)
    doc = Document(img)
    reg = doc.region("image", BBox(25, 15, 40, 40))
    assert reg.shape == (5, 5, 4) and reg.dtype == np.uint16
    assert np.array_equal(reg, img[15:, 25:])
    reg[:] = 0
    assert np.array_equal(doc.image, img)


def test_write_region_notifies_with_clipped_box():
    doc = Document(make())
    seen = []
    doc.listen(lambda layer, box: seen.append((layer, box)))
    doc.write_region("mask", BBox(2, 3, 6, 5), np.ones((2, 4), bool))
    assert seen == [("mask", BBox(2, 3, 6, 5))]
    assert doc.mask.sum() == 8 and doc.mask[3:5, 2:6].all()
    doc.notify("sketch", BBox(25, 15, 99, 99))
    assert seen[-1] == ("sketch", BBox(25, 15, 30, 20))
    doc.notify("sketch", BBox(40, 40, 50, 50))  # outside: nothing
    assert len(seen) == 2


def test_unlisten():
    doc = Document(make())
    seen = []
    stop = doc.listen(lambda layer, box: seen.append(layer))
    stop()
    doc.notify("mask", BBox(0, 0, 1, 1))
    assert seen == []


def test_unknown_layer():
    with pytest.raises(ValueError):
        Document(make()).layer("alpha")


def test_replace_resets_layers_and_tells_listeners():
    doc = Document(make())
    doc.mask[:] = True
    doc.modified = True
    calls = []
    doc.listen_replaced(lambda: calls.append((doc.width, doc.mask.any())))
    doc.replace(make(8, 9), picture="p2", path="b.png")
    assert calls == [(9, False)]
    assert doc.picture == "p2" and not doc.modified and doc.mask.shape == (8, 9)
