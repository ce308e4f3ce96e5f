"""Start the desktop editor: ``run(photo_path=None) -> exit code``."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from inpaint_studio.paths import RESOURCES

ORGANISATION = "InpaintStudio"
APPLICATION = "Inpaint Studio"


def dark_palette():
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    colours = {
        QPalette.Window: (45, 45, 49), QPalette.WindowText: (222, 222, 228),
        QPalette.Base: (35, 35, 39), QPalette.AlternateBase: (45, 45, 49),
        QPalette.ToolTipBase: (30, 30, 33), QPalette.ToolTipText: (230, 230, 235),
        QPalette.Text: (222, 222, 228), QPalette.Button: (52, 52, 57),
        QPalette.ButtonText: (222, 222, 228), QPalette.Highlight: (61, 111, 214),
        QPalette.HighlightedText: (255, 255, 255), QPalette.Link: (110, 160, 255),
        QPalette.PlaceholderText: (130, 130, 136),
    }
    for role, rgb in colours.items():
        palette.setColor(role, QColor(*rgb))
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        palette.setColor(QPalette.Disabled, role, QColor(110, 110, 116))
    return palette


def make_application(argv: Optional[list[str]] = None):
    """The QApplication with the studio's name, style and theme (reused if one exists)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    style = RESOURCES / "style.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    return app


def run(photo_path: Optional[str] = None) -> int:
    """Open the editor (optionally on a photo) and run until the window closes."""
    from inpaint_studio import qt_platform

    widgets = sys.modules.get("PySide6.QtWidgets")
    started = widgets is not None and widgets.QApplication.instance() is not None
    problem = "" if started else qt_platform.problem()
    if problem:  # instead of Qt's abort (or an ImportError naming a .so)
        print(f"inpaint-studio: error: {problem}", file=sys.stderr)
        return 1
    from inpaint_studio import logs

    logs.setup()
    app = make_application()
    from PySide6.QtCore import QSettings

    from inpaint_studio.core.document import Document
    from inpaint_studio.core.errors import UserError
    from inpaint_studio.ui.file_controller import load_document_parts
    from inpaint_studio.ui.main_window import MainWindow
    from inpaint_studio.workers.engine_service import EngineService

    settings = QSettings()
    service = EngineService()
    document = None
    error = None
    if photo_path:
        try:
            pixels, picture = load_document_parts(photo_path)
            document = Document(pixels, picture=picture, path=Path(photo_path))
            error = picture.warning  # e.g. truncated: opened, but said
        except UserError as exc:
            error = str(exc)
    window = MainWindow(settings=settings, service=service, document=document, preload=True)
    if document is not None:
        window.files.add_recent(str(Path(photo_path).resolve()))
    window.show()
    if error:
        from PySide6.QtWidgets import QMessageBox

        title = "Photo opened with a problem" if document is not None else "Cannot open photo"
        QMessageBox.warning(window, title, error)
    try:
        return app.exec()
    finally:
        service.shutdown()
