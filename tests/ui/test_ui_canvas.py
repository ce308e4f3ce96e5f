"""Canvas navigation, layer visibility, drag and drop, status bar."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from inpaint_studio.commands.edits import MaskStroke


def wheel(canvas, pos: QPointF, steps: int) -> None:
    vp = canvas.viewport()
    event = QWheelEvent(pos, QPointF(vp.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(vp, event)


def test_wheel_zoom_keeps_the_point_under_the_cursor(qtbot, opened):
    canvas = opened.canvas
    canvas.set_zoom(6.0)  # larger than the viewport, so nothing is centred
    anchor = QPointF(210, 170)
    before = canvas.map_to_image(anchor)
    wheel(canvas, anchor, 2)
    assert canvas.zoom == 6.0 * 1.25 ** 2
    after = canvas.map_to_image(anchor)
    assert abs(after.x() - before.x()) <= 1 / canvas.zoom and abs(after.y() - before.y()) <= 1 / canvas.zoom
    assert opened.zoom_label.text() == f"{canvas.zoom * 100:.0f} %"


def test_fit_and_actual_pixels(qtbot, opened):
    canvas, win = opened.canvas, opened
    win.act.zoom_100.trigger()
    assert canvas.zoom == 1.0
    win.act.zoom_fit.trigger()
    width, height = canvas.image_size
    vp = canvas.viewport()
    assert width * canvas.zoom <= vp.width() and height * canvas.zoom <= vp.height()
    assert width * canvas.zoom >= vp.width() - 10 or height * canvas.zoom >= vp.height() - 10
    win.act.zoom_in.trigger()
    assert canvas.zoom > canvas.fit_zoom()


def test_middle_button_and_space_drag_pan(qtbot, opened):
    canvas = opened.canvas
    canvas.set_zoom(8.0)
    vp = canvas.viewport()
    h0, v0 = canvas.horizontalScrollBar().value(), canvas.verticalScrollBar().value()
    qtbot.mousePress(vp, Qt.MiddleButton, Qt.NoModifier, QPoint(300, 300))
    qtbot.mouseMove(vp, QPoint(260, 280))
    qtbot.mouseRelease(vp, Qt.MiddleButton, Qt.NoModifier, QPoint(260, 280))
    assert canvas.horizontalScrollBar().value() == h0 + 40
    assert canvas.verticalScrollBar().value() == v0 + 20
    assert not opened.document.mask.any()
    qtbot.keyPress(canvas, Qt.Key_Space)
    qtbot.mousePress(vp, Qt.LeftButton, Qt.NoModifier, QPoint(300, 300))
    qtbot.mouseMove(vp, QPoint(330, 300))
    qtbot.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, QPoint(330, 300))
    qtbot.keyRelease(canvas, Qt.Key_Space)
    assert canvas.horizontalScrollBar().value() == h0 + 10
    assert not opened.document.mask.any() and opened.history.steps == []


def test_hidden_mask_is_not_drawn(qtbot, opened):
    win, canvas = opened, opened.canvas
    stroke = MaskStroke.begin(win.document, radius=20)
    stroke.add_segment((40, 40), (100, 60))
    win.history.push(stroke.end())
    canvas.set_zoom(1.0)
    view = canvas.map_from_image(QPointF(70.25, 50.25)).toPoint()

    def colour():
        return canvas.viewport().grab().toImage().pixelColor(view).rgb()

    with_mask = colour()
    win.layers_panel.checks["mask"].setChecked(False)
    assert not win.act.show_mask.isChecked()
    photo = win.document.image[50, 70]
    pixel = canvas.viewport().grab().toImage().pixelColor(view)
    assert (pixel.red(), pixel.green(), pixel.blue()) == tuple(photo)
    assert colour() != with_mask
    win.act.show_mask.trigger()
    assert colour() == with_mask


def test_drop_a_file_opens_it(qtbot, window, photo):
    path, pixels = photo
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(100, 100), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.document is not None, timeout=5000)
    assert np.array_equal(window.document.image, pixels)


def test_status_bar_shows_cursor_and_size(qtbot, opened):
    win, canvas = opened, opened.canvas
    canvas.set_zoom(2.0)
    view = canvas.map_from_image(QPointF(12.5, 7.5)).toPoint()
    qtbot.mouseMove(canvas.viewport(), view)
    assert win.cursor_label.text() == "x 12, y 7"
    assert win.size_label.text().startswith("160 × 120 px")


def test_status_bar_hint_only_without_a_photo(qtbot, window, photo, tmp_path):
    from PySide6.QtCore import QSettings

    from inpaint_studio.core.document import Document
    from inpaint_studio.ui.file_controller import load_document_parts
    from inpaint_studio.ui.main_window import MainWindow

    assert window.statusBar().currentMessage().startswith("Open a photo to begin")
    path, _ = photo
    pixels, picture = load_document_parts(path)
    settings = QSettings(str(tmp_path / "other.ini"), QSettings.IniFormat)
    started = MainWindow(settings=settings, document=Document(pixels, picture=picture, path=path))
    qtbot.addWidget(started)
    assert started.statusBar().currentMessage() == f"Opened {path.name}"
