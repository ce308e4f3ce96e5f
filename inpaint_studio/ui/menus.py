"""The editor window's menus, toolbars (built from its typed actions, ``window.act``) and status bar."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QLabel, QProgressBar, QSlider, QSpinBox, QToolBar


def build_menus_and_toolbars(window) -> None:
    """Menus, the main toolbar (with the brush size and hardness) and the tools toolbar;
    sets ``window.recent_menu``, ``tool_group``, ``size_spin`` and ``hardness_slider``."""
    a = window.act
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(a.open)
    window.recent_menu = file_menu.addMenu("Open &Recent")
    file_menu.addSeparator()
    for action in (a.save, a.save_as):
        file_menu.addAction(action)
    file_menu.addSeparator()
    for action in (a.import_mask, a.export_mask):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(a.import_weights)
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    edit = bar.addMenu("&Edit")
    for action in (a.undo, a.redo, None, a.clear_mask, a.invert_mask, a.grow_mask, None, a.clear_sketch):
        edit.addSeparator() if action is None else edit.addAction(action)
    view = bar.addMenu("&View")
    for action in (a.zoom_in, a.zoom_out, a.zoom_fit, a.zoom_100, None, a.show_mask, a.show_sketch,
                   None, a.compare, a.split):
        view.addSeparator() if action is None else view.addAction(action)
    view.addSeparator()
    for dock in (window.engine_dock, window.layers_dock, window.history_dock):
        view.addAction(dock.toggleViewAction())
    tools = bar.addMenu("&Tools")
    window.tool_group = QActionGroup(window)
    for name in window.tools:
        window.tool_group.addAction(a.named(name))
        tools.addAction(a.named(name))
    tools.addSeparator()
    tools.addAction(a.detect_damage)
    tools.addSeparator()
    tools.addAction(a.brush_smaller)
    tools.addAction(a.brush_bigger)
    fill = bar.addMenu("F&ill")
    fill.addAction(a.run)
    fill.addAction(a.cancel)
    fill.addSeparator()
    for action in (a.try_again, *a.variations, a.keep_variation, a.sample_only):
        fill.addAction(action)
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(a.help)
    help_menu.addAction(a.about)

    top = QToolBar("Main", window)
    top.setObjectName("main_toolbar")
    top.setMovable(False)
    for action in (a.open, a.save, None, a.undo, a.redo, None, a.zoom_fit, a.zoom_in, a.zoom_out,
                   None, a.compare, a.split, None, a.clear_mask, a.invert_mask, a.grow_mask, a.detect_damage):
        top.addSeparator() if action is None else top.addAction(action)
    top.addSeparator()
    top.addWidget(QLabel(" Size "))
    window.size_spin = QSpinBox()
    window.size_spin.setRange(1, 2000)
    window.size_spin.setSuffix(" px")
    window.size_spin.setToolTip("Brush diameter in image pixels ([ and ])")
    top.addWidget(window.size_spin)
    top.addWidget(QLabel("  Hardness "))
    window.hardness_slider = QSlider(Qt.Horizontal)
    window.hardness_slider.setRange(0, 100)
    window.hardness_slider.setFixedWidth(110)
    window.hardness_slider.setToolTip("Brush hardness: softer brushes paint a smaller hard core")
    top.addWidget(window.hardness_slider)
    top.addSeparator()
    top.addAction(a.run)
    window.addToolBar(Qt.TopToolBarArea, top)

    side = QToolBar("Tools", window)
    side.setObjectName("tools_toolbar")
    side.setMovable(False)
    for name in window.tools:
        side.addAction(a.named(name))
    window.addToolBar(Qt.LeftToolBarArea, side)


def build_status_bar(window) -> None:
    """Fill progress, cursor position, photo size and zoom as permanent status-bar widgets."""
    bar = window.statusBar()
    window.fill_progress = QProgressBar()
    window.fill_progress.setRange(0, 1000)
    window.fill_progress.setFixedWidth(140)
    window.fill_progress.setTextVisible(False)
    window.fill_progress.hide()
    window.cursor_label = QLabel()
    window.size_label = QLabel()
    window.zoom_label = QLabel()
    for widget in (window.fill_progress, window.cursor_label, window.size_label, window.zoom_label):
        bar.addPermanentWidget(widget)
    bar.showMessage("Open a photo to begin (Ctrl+O), or drop one on the window.")
