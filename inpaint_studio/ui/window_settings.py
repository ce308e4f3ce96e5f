"""The editor window's remembered state: geometry, dock layout and preferences (QSettings)."""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import QByteArray

from inpaint_studio.core import settings as core_settings


def restore_geometry(window) -> None:
    geometry = window.qsettings.value("geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        window.resize(1400, 900)
    state = window.qsettings.value("window_state")
    if isinstance(state, QByteArray) and not state.isEmpty():
        window.restoreState(state)


def current_prefs(window) -> core_settings.Settings:
    """The window's preferences as shown now (brush, Fill panel, mask overlay)."""
    panel, overlay, prefs = window.engine_panel, window.canvas.mask_overlay, window.prefs
    return dataclasses.replace(
        prefs,
        brush=core_settings.BrushSettings(size=int(window.brush.size), hardness=window.brush.hardness),
        engine=core_settings.EngineSettings(name=panel.engine or prefs.engine.name,
                                            device=panel.device, params=panel.params(),
                                            colour_match=panel.colour_match, feather=panel.feather),
        hires=dataclasses.replace(prefs.hires, mode=panel.hires),
        overlay=core_settings.OverlaySettings(
            color=(overlay.color.red(), overlay.color.green(), overlay.color.blue(), 255),
            opacity=overlay.opacity),
    )


def save(window) -> None:
    window.qsettings.setValue("settings", window.prefs.to_json())
    window.qsettings.setValue("geometry", window.saveGeometry())
    window.qsettings.setValue("window_state", window.saveState())
    window.qsettings.sync()
